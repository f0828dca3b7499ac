// Mean and median imputers (scikit-learn SimpleImputer semantics) over the native kernel
// (native/core/kernels/simple.cc).
//
// Semantics: the statistic of each column is computed over its observed cells in ALL rows of `data`
// (in double: mean summed in row order; median as numpy, an even count giving the mean of the two
// middle values) and fills the missing cells of rows targetStart..nRows-1; observed cells are
// returned unchanged.
// A column with no observed value ("empty column"): scikit-learn drops it from the output;
// hierimpute never drops or leaves NaN. Option empty_columns='error' (default) rejects with an error
// naming the column as soon as a target cell of it is missing; 'zero' fills it with 0
// (scikit-learn's keep_empty_features=True).
import { coreAddon, type CoreAddon, type KernelResult, type KernelStats, type NativeKernelError } from '../../bindings/core.js';
import { makeMatrix, type Matrix } from '../../tables/matrix.js';
import { checkTargetStart, checkThreads } from '../context.js';
import { checkOptions, defineImputer, defineOptions, type OptionsOf, type SchemaImputer } from '../schema.js';

export type { KernelResult, KernelStats } from '../../bindings/core.js';

/** The tabular kernels of the core addon (native/core/kernels_binding.cc). */
export type TabularKernelsAddon = Pick<CoreAddon, 'knnImpute' | 'simpleImpute'>;

export function tabularKernels(): TabularKernelsAddon {
  return coreAddon();
}

/** A Matrix and what the kernel did. */
export interface ImputeOutcome {
  matrix: Matrix;
  stats: KernelStats;
}

/** empty_columns, an option of every method. */
export const EMPTY_COLUMNS_OPTION = {
  type: 'choice',
  default: 'error',
  choices: ['error', 'zero'],
  description: "a column with no observed value: 'error' stops with an error naming it, 'zero' fills it with 0",
} as const;

/** What to do with a column that has no observed value in the fit rows. */
export type EmptyColumnsRule = (typeof EMPTY_COLUMNS_OPTION.choices)[number];

/** Rows targetStart..nRows-1 of `data` as zero-copy column views. */
export function targetViews(method: string, data: Matrix, targetStart: number): Float32Array[] {
  checkTargetStart(method, data, targetStart);
  return data.columns.map((c) => c.subarray(targetStart));
}

/** Re-throws a native kernel rejection with the method name and the fixes. */
export function kernelError(method: string, err: unknown): Error {
  if (!(err instanceof Error)) return new Error(`${method}: ${String(err)}`);
  const e = err as NativeKernelError;
  let message = `${method}: ${e.message}`;
  if (e.code === 'HIERIMPUTE_EMPTY_COLUMN')
    message += '. Fixes: drop that column from the input, or fill it with 0 with option empty_columns=zero ' + '(CLI: --param empty_columns=zero)';
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
  options: Partial<SimpleOptions> = {},
  threads = 1,
): Promise<ImputeOutcome> {
  const emptyColumns = checkOptions(statistic, SIMPLE_OPTIONS, options).empty_columns;
  checkThreads(statistic, threads);
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

export const SIMPLE_OPTIONS = defineOptions({ empty_columns: EMPTY_COLUMNS_OPTION });
export type SimpleOptions = OptionsOf<typeof SIMPLE_OPTIONS>;

function simpleImputer(statistic: 'mean' | 'median', summary: string): SchemaImputer<typeof SIMPLE_OPTIONS> {
  return defineImputer({
    name: statistic,
    summary,
    options: SIMPLE_OPTIONS,
    async run(data, targetStart, options, ctx) {
      const target = makeMatrix(data.names, targetViews(statistic, data, targetStart));
      return (await simpleFitTransform(statistic, data, target, options, ctx.threads)).matrix;
    },
  });
}

/** Column mean of the observed cells (sklearn SimpleImputer(strategy='mean')). */
export const mean = simpleImputer('mean', 'column mean of the observed cells (sklearn SimpleImputer strategy=mean)');

/** Column median of the observed cells (sklearn SimpleImputer(strategy='median')). */
export const median = simpleImputer(
  'median',
  'column median of the observed cells, even counts average the two middle values (sklearn SimpleImputer strategy=median)',
);
