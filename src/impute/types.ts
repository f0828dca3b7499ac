// One estimator interface for every imputation method (scikit-learn `impute` in spirit).
import type { Matrix } from '../tables/matrix.js';

export type MethodName =
  | 'mean' | 'median' | 'knn' | 'iterative_simple' | 'iterative_function' | 'iterative_linear' | 'xgboost'
  | 'lstm' | 'rnn' | 'gan';

/** Run-level context every method receives. */
export interface ImputeContext {
  /** Seed for this work item (derived from the run seed and the work item, never the rank). */
  readonly seed: number;
  /** Kernel threads; 1 on MPI ranks, 0 = all cores. Output never depends on it. */
  readonly threads: number;
}

/** Documentation of one option, used by `--help` and for parsing `--param key=value`. */
export interface OptionDoc {
  readonly type: 'number' | 'integer' | 'string' | 'boolean';
  readonly description: string;
  readonly choices?: readonly string[];
}

/**
 * An imputation method.
 *
 * `impute(data, targetStart, options, ctx)` fits on ALL rows of `data` and returns the imputed
 * rows `targetStart .. data.nRows-1` (a new Matrix; observed cells are returned unchanged, every
 * missing cell is filled). The hierarchical engine passes earlier (already imputed) bands first
 * and the band to impute last; `hierimpute impute` passes targetStart = 0.
 */
export interface Imputer<O extends object = Record<string, unknown>> {
  readonly name: MethodName;
  readonly summary: string;
  readonly defaults: Readonly<O>;
  readonly options: { readonly [K in keyof O]: OptionDoc };
  impute(data: Matrix, targetStart: number, options: Readonly<O>, ctx: ImputeContext): Promise<Matrix>;
}
