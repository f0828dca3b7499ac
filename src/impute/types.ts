// One estimator interface for every imputation method (scikit-learn `impute` in spirit).
import type { Matrix } from '../tables/matrix.js';
import type { OptionSpec } from './schema.js';

export type MethodName =
  'mean' | 'median' | 'knn' | 'iterative_simple' | 'iterative_function' | 'iterative_linear' | 'xgboost' | 'lstm' | 'rnn' | 'gan';

/** Run-level context every method receives. */
export interface ImputeContext {
  /**
   * Seed for this work item (derived from the run seed and the work item, never the rank); an
   * integer in [0, 2^32).
   */
  readonly seed: number;
  /** Kernel threads; 1 on MPI ranks, 0 = all cores. Output never depends on it. */
  readonly threads: number;
}

/** One option's declaration (type, default, range or choices, description); see schema.ts. */
export type OptionDoc = OptionSpec;

/**
 * An imputation method.
 *
 * `impute(data, targetStart, options, ctx)` fits on ALL rows of `data` and returns the imputed
 * rows `targetStart .. data.nRows-1` (a new Matrix; observed cells are returned unchanged, every
 * missing cell is filled). The hierarchical engine passes earlier (already imputed) bands first
 * and the band to impute last; `hierimpute impute` passes targetStart = 0. Before any work it checks
 * `options` against the schema (an option left out takes its default) and `ctx` (checkContext).
 */
export interface Imputer<O extends object = Record<string, unknown>> {
  readonly name: MethodName;
  readonly summary: string;
  /** Derived from `options` (each option's default). */
  readonly defaults: Readonly<O>;
  /** The option schema: `--param` parsing, config validation and `--help` all read it. */
  readonly options: { readonly [K in keyof O]: OptionSpec };
  impute(data: Matrix, targetStart: number, options: Readonly<O>, ctx: ImputeContext): Promise<Matrix>;
}
