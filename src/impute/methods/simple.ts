// Mean and median imputers (scikit-learn SimpleImputer semantics) over the native kernel
// (native/core/kernels/simple.cc), plus the typed shape of the tabular kernels' native functions.
//
// Semantics: the statistic of each column is computed over its observed cells in ALL rows of `data`
// (in double: mean summed in row order; median as numpy, an even count giving the mean of the two
// middle values) and fills the missing cells of rows targetStart..nRows-1; observed cells are
// returned unchanged.
// A column with no observed value ("empty column"): scikit-learn drops it from the output;
// hierimpute never drops or leaves NaN. Option empty_columns='error' (default) rejects with an error
// naming the column as soon as a target cell of it is missing; 'zero' fills it with 0
// (scikit-learn's keep_empty_features=True).
import { loadAddon } from '../../bindings/load.js';
import { makeMatrix, type Matrix } from '../../tables/matrix.js';
import type { ImputeContext, Imputer, MethodName, OptionDoc } from '../types.js';

/** What to do with a column that has no observed value in the fit rows. */
export type EmptyColumnsRule = 'error' | 'zero';

/** Counters returned by the native tabular kernels. */
export interface KernelStats {
  /** Target rows holding at least one missing cell. */
  rowsWithMissing: number;
  /** Missing target cells filled. */
  cellsImputed: number;
  /** Cells filled with 0 because their column had no observed fit value (empty_columns=zero). */
  emptyColumnCells: number;
  /** knn: cells whose every potential donor was at NaN distance (filled with the column mean). */
  meanFallbackCells: number;
  /** knn: cells that took donors at NaN distance to reach k (uniform) or ignored them (distance). */
  nanDonorCells: number;
}

export interface KernelResult {
  columns: Float32Array[];
  stats: KernelStats;
}

/** Native shape of native/core/kernels_binding.cc. */
export interface TabularKernelsAddon {
  knnImpute(
    fitColumns: readonly Float32Array[],
    targetColumns: readonly Float32Array[],
    names: readonly string[],
    options: { nNeighbors: number; weights: 'uniform' | 'distance'; emptyColumns: EmptyColumnsRule; threads: number },
  ): Promise<KernelResult>;
  simpleImpute(
    statistic: 'mean' | 'median',
    fitColumns: readonly Float32Array[],
    targetColumns: readonly Float32Array[],
    names: readonly string[],
    options: { emptyColumns: EmptyColumnsRule; threads: number },
  ): Promise<KernelResult>;
}

export function tabularKernels(): TabularKernelsAddon {
  return loadAddon<TabularKernelsAddon>('hierimpute_core');
}

/** A Matrix and what the kernel did. */
export interface ImputeOutcome {
  matrix: Matrix;
  stats: KernelStats;
}

export const EMPTY_COLUMNS_DOC: OptionDoc = {
  type: 'string',
  description:
    "a column with no observed value: 'error' stops with an error naming it, 'zero' fills it with 0",
  choices: ['error', 'zero'],
};

/** Rows targetStart..nRows-1 of `data` as zero-copy column views. */
export function targetViews(method: string, data: Matrix, targetStart: number): Float32Array[] {
  if (!Number.isInteger(targetStart) || targetStart < 0 || targetStart > data.nRows)
    throw new RangeError(`${method}: targetStart must be an integer in [0, ${data.nRows}] (got ${targetStart})`);
  return data.columns.map((c) => c.subarray(targetStart));
}

export function checkThreads(method: string, ctx: ImputeContext): number {
  if (!Number.isInteger(ctx.threads) || ctx.threads < 0)
    throw new RangeError(`${method}: threads must be an integer >= 0, 0 = all cores (got ${ctx.threads})`);
  return ctx.threads;
}

export function checkEmptyColumns(method: string, value: unknown): EmptyColumnsRule {
  if (value !== 'error' && value !== 'zero')
    throw new RangeError(`${method}: option empty_columns must be one of error, zero (got ${String(value)})`);
  return value;
}

interface NativeKernelError extends Error {
  code?: string;
  column?: number;
  row?: number;
}

/** Re-throws a native kernel rejection with the method name and the fixes. */
export function kernelError(method: string, err: unknown): Error {
  if (!(err instanceof Error)) return new Error(`${method}: ${String(err)}`);
  const e = err as NativeKernelError;
  let message = `${method}: ${e.message}`;
  if (e.code === 'HIERIMPUTE_EMPTY_COLUMN')
    message +=
      '. Fixes: drop that column from the input, or fill it with 0 with option empty_columns=zero ' +
      '(CLI: --param empty_columns=zero)';
  const out = new Error(message, { cause: err }) as NativeKernelError;
  if (e.code !== undefined) out.code = e.code;
  if (e.column !== undefined) out.column = e.column;
  if (e.row !== undefined) out.row = e.row;
  return out;
}

/** Native mean / median with explicit fit rows and target rows (fit(fit).transform(target)). */
export async function simpleFitTransform(
  statistic: 'mean' | 'median',
  fit: Matrix,
  target: Matrix,
  options: { empty_columns: EmptyColumnsRule },
  threads = 1,
): Promise<ImputeOutcome> {
  const emptyColumns = checkEmptyColumns(statistic, options.empty_columns);
  if (fit.columns.length !== target.columns.length)
    throw new RangeError(`${statistic}: fit has ${fit.columns.length} columns, target ${target.columns.length}`);
  let res: KernelResult;
  try {
    res = await tabularKernels().simpleImpute(statistic, fit.columns, target.columns, target.names, { emptyColumns, threads });
  } catch (err) {
    throw kernelError(statistic, err);
  }
  return { matrix: makeMatrix(target.names, res.columns), stats: res.stats };
}

export interface SimpleOptions {
  /** What to do with a column that has no observed value. Default 'error'. */
  empty_columns: EmptyColumnsRule;
}

function simpleImputer(statistic: 'mean' | 'median', summary: string): Imputer<SimpleOptions> {
  const name: MethodName = statistic;
  return {
    name,
    summary,
    defaults: { empty_columns: 'error' },
    options: { empty_columns: EMPTY_COLUMNS_DOC },
    async impute(data, targetStart, options, ctx) {
      const threads = checkThreads(name, ctx);
      const target = makeMatrix(data.names, targetViews(name, data, targetStart));
      return (await simpleFitTransform(statistic, data, target, options, threads)).matrix;
    },
  };
}

/** Column mean of the observed cells (sklearn SimpleImputer(strategy='mean')). */
export const mean: Imputer<SimpleOptions> = simpleImputer(
  'mean',
  'column mean of the observed cells (sklearn SimpleImputer strategy=mean)',
);

/** Column median of the observed cells (sklearn SimpleImputer(strategy='median')). */
export const median: Imputer<SimpleOptions> = simpleImputer(
  'median',
  'column median of the observed cells, even counts average the two middle values (sklearn SimpleImputer strategy=median)',
);
