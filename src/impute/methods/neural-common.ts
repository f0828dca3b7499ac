// What the neural imputers (lstm, rnn, gan) share: the common options, seeds, and the table <-> tensor
// preparation (min-max scaling, observed mask, column-mean start values) and its inverse.
//
// Semantics common to the three methods (docs/neural.md has the details):
// - Fit on ALL rows of `data` (observed cells of every row are training signal), return rows
//   targetStart..nRows-1 with observed cells unchanged (bit for bit) and every missing cell filled.
// - Each column is min-max scaled to [0, 1] over its observed cells (a constant column keeps range 1).
// - Target rows with no missing cell: nothing is trained and TensorFlow.js is not even loaded.
// - A table of width 1 has no other column to learn from: its missing cells get the column mean of
//   the observed cells (documented fallback, logged at warn level).
// - Errors: all cells missing, fewer than 2 rows with an observed cell, a non-finite observed value,
//   a column with no observed value (unless empty_columns=zero), diverged training (NaN).
import type * as TfTypes from '@tensorflow/tfjs';

import { coreAddon, type CoreAddon } from '../../bindings/core.js';
import { log } from '../../log/logger.js';
import { makeMatrix, type Matrix } from '../../tables/matrix.js';
import { defaultTfBackend, withTf } from '../../tf/backend.js';
import { TF_BACKEND_CHOICES, type TfBackendChoice, type TfBackendName } from '../../tf/constants.js';
import { checkTargetStart } from '../context.js';
import type { OptionsOf } from '../schema.js';
import type { ImputeContext } from '../types.js';
import { EMPTY_COLUMNS_OPTION, type EmptyColumnsRule } from './simple.js';

type Tf = typeof TfTypes;
type Tensor2D = TfTypes.Tensor2D;

/** The options every neural method has (spread first into each method's schema). */
export const NEURAL_COMMON_OPTIONS = {
  tf_backend: {
    type: 'choice',
    default: 'auto',
    choices: TF_BACKEND_CHOICES,
    description:
      "engine: 'auto' = native (the C++ kernels of the core addon) when built, else TensorFlow.js; 'native' = C++ kernels only; " +
      "TensorFlow.js backends: 'tensorflow' (optional @tensorflow/tfjs-node), 'wasm', 'cpu'; " +
      'a named one fails loudly when it cannot load (--tf-backend sets it for the whole run)',
  },
  empty_columns: EMPTY_COLUMNS_OPTION,
} as const;

export type NeuralCommonOptions = OptionsOf<typeof NEURAL_COMMON_OPTIONS>;

// ---------------------------------------------------------------------------------------------
// Seeds. Every random draw comes from (ctx.seed, a stream key); never Math.random.

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A 32-bit seed derived from the run seed and stream keys (same inputs, same seed). */
export function deriveSeed(seed: number, ...keys: number[]): number {
  const s = Math.trunc(seed);
  let h = fmix32((s >>> 0) ^ 0x9e3779b9) ^ fmix32(Math.floor(s / 4294967296) >>> 0);
  for (const k of keys) h = fmix32(h ^ fmix32((Math.trunc(k) + 0x632be5ab) >>> 0));
  return h >>> 0;
}

/** Small seeded PRNG (mulberry32) for index shuffles and batch sampling. */
export class Rng {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  /** Uniform in [0, 1). */
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** Integer in [0, n). */
  below(n: number): number {
    return Math.floor(this.next() * n);
  }
  /** A random permutation of 0..n-1 (Fisher-Yates). */
  permutation(n: number): Int32Array {
    const p = new Int32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    this.shuffleInPlace(p, n);
    return p;
  }
  /** Shuffles the first `count` positions of `p` uniformly among all of p (partial Fisher-Yates). */
  shuffleInPlace(p: Int32Array, count: number): void {
    const n = p.length;
    for (let i = 0; i < Math.min(count, n - 1); i++) {
      const j = i + this.below(n - i);
      const t = p[i]!;
      p[i] = p[j]!;
      p[j] = t;
    }
  }
}

/** Lets the event loop run (MPI pollers, timers) between training steps. */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

// ---------------------------------------------------------------------------------------------
// Table <-> tensors.

/** The table as tensors, scaled to [0, 1] per column. Owned by the caller: dispose(). */
export interface Prepared {
  readonly n: number;
  readonly d: number;
  readonly targetStart: number;
  /** [n, d] original values (NaN = missing; empty columns zeroed when empty_columns=zero). */
  readonly raw: Tensor2D;
  /** [n, d] 1 = observed, 0 = missing. */
  readonly mask: Tensor2D;
  /** [n, d] scaled values, missing cells = scaled column mean. */
  readonly filled: Tensor2D;
  /** [n, d] scaled values, missing cells = 0 (GAIN's convention). */
  readonly zeroed: Tensor2D;
  /** [1, d] scaled column means of the observed cells. */
  readonly mean: Tensor2D;
  /** [1, d] standard deviation of the scaled observed cells (1 where it is 0). */
  readonly std: Tensor2D;
  /** [n, d] standardised values ((scaled - mean) / std), missing cells = 0 (the column mean). */
  readonly standard: Tensor2D;
  /** [1, d] column minimum and range (max - min, 1 for a constant column) of the observed cells. */
  readonly min: Tensor2D;
  readonly range: Tensor2D;
  /** Rows (0-based) holding at least one observed cell. */
  readonly trainableRows: number;
  dispose(): void;
}

/** Rows targetStart..nRows-1 hold a missing cell (cheap scan; decides whether TF loads at all). */
export function targetHasMissing(data: Matrix, targetStart: number): boolean {
  return data.columns.some((c) => c.subarray(targetStart).some(Number.isNaN));
}

export function checkTarget(method: string, data: Matrix, targetStart: number): void {
  checkTargetStart(method, data, targetStart);
  if (data.columns.length === 0) throw new RangeError(`${method}: the table has no column`);
}

/** Copies rows targetStart.. of every column (used when there is nothing to impute). */
export function copyTarget(data: Matrix, targetStart: number): Matrix {
  return makeMatrix(
    data.names,
    data.columns.map((c) => c.slice(targetStart)),
  );
}

/**
 * Checks the table for training (errors as documented) and returns its empty columns and the count
 * of rows holding an observed cell. A plain scan: no TensorFlow.js needed.
 */
export function scanTable(method: string, data: Matrix, emptyColumns: EmptyColumnsRule): { empty: number[]; rowsObserved: number } {
  const n = data.nRows;
  const d = data.columns.length;
  const counts = new Float64Array(d);
  const rowObserved = new Uint8Array(n);
  for (let j = 0; j < d; j++) {
    const col = data.columns[j]!;
    for (let i = 0; i < n; i++) {
      const v = col[i]!;
      if (Number.isNaN(v)) continue;
      if (!Number.isFinite(v))
        throw new RangeError(
          `${method}: column '${data.names[j]}' holds a non-finite value (${v}) at row ${i + 1}; ` +
            'neural imputers need finite observed values (fix the input or mark the cell missing)',
        );
      counts[j]!++;
      rowObserved[i] = 1;
    }
  }
  if (counts.every((c) => c === 0)) throw new RangeError(`${method}: all ${n * d} cells of the table are missing; there is nothing to learn from`);
  const empty = [...counts].map((c, j) => (c === 0 ? j : -1)).filter((j) => j >= 0);
  if (empty.length > 0 && emptyColumns === 'error')
    throw new RangeError(
      `${method}: column '${data.names[empty[0]!]}' has no observed value` +
        (empty.length > 1 ? ` (and ${empty.length - 1} more column(s))` : '') +
        '. Fixes: drop that column from the input, or fill it with 0 with option empty_columns=zero ' +
        '(CLI: --param empty_columns=zero)',
    );
  let rowsObserved = 0;
  for (let i = 0; i < n; i++) rowsObserved += rowObserved[i]!;
  if (rowsObserved < 2)
    throw new RangeError(
      `${method}: too few rows to train: ${rowsObserved} row(s) with an observed cell, at least 2 needed. ` +
        'Fix: impute this table with a non-neural method (mean, median, knn)',
    );
  return { empty, rowsObserved };
}

export function prepare(tf: Tf, method: string, data: Matrix, targetStart: number, emptyColumns: EmptyColumnsRule): Prepared {
  const n = data.nRows;
  const d = data.columns.length;
  const { empty, rowsObserved } = scanTable(method, data, emptyColumns);
  const stats = { rowsObserved };
  const emptyFlags = new Float32Array(d);
  for (const j of empty) emptyFlags[j] = 1;
  const t = tf.tidy(() => {
    let raw = tf.stack(
      data.columns.map((c) => tf.tensor1d(c, 'float32')),
      1,
    ) as Tensor2D;
    let observed = tf.logicalNot(tf.isNaN(raw));
    if (empty.length > 0) {
      const isEmpty = tf.tensor2d(emptyFlags, [1, d]).cast('bool').tile([n, 1]);
      raw = tf.where(isEmpty, tf.zerosLike(raw), raw);
      observed = tf.logicalOr(observed, isEmpty);
    }
    const mask = observed.cast('float32') as Tensor2D;
    const zerosRaw = tf.where(observed, raw, tf.zerosLike(raw));
    const big = tf.fill([n, d], Infinity);
    const min = tf.where(observed, raw, big).min(0, true) as Tensor2D;
    const max = tf.where(observed, raw, big.neg()).max(0, true);
    const spread = max.sub(min);
    const range = tf.where(spread.greater(0), spread, tf.onesLike(spread)) as Tensor2D;
    const scaled = zerosRaw.sub(min).div(range);
    const zeroed = tf.where(observed, scaled, tf.zerosLike(scaled)) as Tensor2D;
    const mean = zeroed.sum(0, true).div(mask.sum(0, true)) as Tensor2D;
    const filled = tf.where(observed, zeroed, mean.tile([n, 1])) as Tensor2D;
    const variance = filled.sub(mean).square().mul(mask).sum(0, true).div(mask.sum(0, true));
    const sd = variance.sqrt();
    const std = tf.where(sd.greater(1e-6), sd, tf.onesLike(sd)) as Tensor2D;
    const standard = filled.sub(mean).div(std) as Tensor2D;
    return { raw, mask, zeroed, filled, mean, std, standard, min, range };
  });
  return {
    n,
    d,
    targetStart,
    ...t,
    trainableRows: stats.rowsObserved,
    dispose() {
      for (const x of Object.values(t)) x.dispose();
    },
  };
}

/**
 * Matrix of rows targetStart.. with observed cells copied from the input and missing cells taken
 * from `predTarget` ([n - targetStart, d], scaled), un-scaled. Disposes nothing it was given.
 */
export function finish(tf: Tf, method: string, data: Matrix, prep: Prepared, predTarget: Tensor2D): Matrix {
  const nT = prep.n - prep.targetStart;
  const { values, bad } = tf.tidy(() => {
    const raw = prep.raw.slice([prep.targetStart, 0], [nT, prep.d]);
    const mask = prep.mask.slice([prep.targetStart, 0], [nT, prep.d]).cast('bool');
    const inv = predTarget.mul(prep.range).add(prep.min);
    const out = tf.where(mask, raw, inv);
    const bad = tf.logicalNot(tf.isFinite(out)).any().dataSync()[0] ?? 0;
    return { values: out.transpose().dataSync() as Float32Array, bad };
  });
  if (bad)
    throw new Error(
      `${method}: training diverged (non-finite imputed values). Fixes: lower learning_rate, or use fewer epochs / iterations ` +
        `(CLI: --param learning_rate=...)`,
    );
  const columns = data.columns.map((_, j) => values.subarray(j * nT, (j + 1) * nT));
  return makeMatrix(data.names, columns);
}

/** Width-1 fallback: the column mean of the observed cells for every missing target cell. */
export function meanFallback(tf: Tf, method: string, data: Matrix, prep: Prepared): Matrix {
  log.warn(`${method}: the table has a single column ('${data.names[0]}'), nothing to learn from; imputing the column mean`);
  const pred = tf.tidy(() => prep.mean.tile([prep.n - prep.targetStart, 1]) as Tensor2D);
  try {
    return finish(tf, method, data, prep, pred);
  } finally {
    pred.dispose();
  }
}

/** Scaled values from standardised ones: z * std + mean. */
export function unstandardize(prep: Prepared, z: TfTypes.Tensor): Tensor2D {
  return z.mul(prep.std).add(prep.mean) as Tensor2D;
}

/** Masked mean squared error: sum(w * (a - b)^2) / max(sum(w), 1). */
export function maskedMse(tf: Tf, a: TfTypes.Tensor, b: TfTypes.Tensor, w: TfTypes.Tensor): TfTypes.Scalar {
  return tf.tidy(() => tf.squaredDifference(a, b).mul(w).sum().div(tf.maximum(w.sum(), 1)) as TfTypes.Scalar);
}

/** Runs `fn(start, end)` over row ranges of `size` and concatenates the [rows, d] results. */
export function predictInChunks(tf: Tf, n: number, size: number, fn: (start: number, end: number) => Tensor2D): Tensor2D {
  const parts: Tensor2D[] = [];
  for (let s = 0; s < n; s += size) parts.push(fn(s, Math.min(n, s + size)));
  if (parts.length === 1) return parts[0]!;
  const out = tf.concat(parts, 0);
  for (const p of parts) p.dispose();
  return out;
}

export type { TfBackendName };

/**
 * The skeleton of every neural imputer (options and context already checked by the schema and
 * checkContext): the target check, the nothing-to-impute fast path (TensorFlow.js is
 * not loaded), one serialised TensorFlow.js run on the chosen backend, table preparation, the
 * width-1 fallback, then `train` (which returns the scaled predictions of the target rows,
 * [n - targetStart, d], and disposes everything else it made) and the un-scaling.
 */
export async function runNeural(
  method: string,
  data: Matrix,
  targetStart: number,
  common: NeuralCommonOptions,
  ctx: ImputeContext,
  train: (tf: Tf, prep: Prepared, seed: number, backend: TfBackendName) => Promise<Tensor2D>,
): Promise<Matrix> {
  checkTarget(method, data, targetStart);
  const seed = ctx.seed;
  if (!targetHasMissing(data, targetStart)) return copyTarget(data, targetStart);
  return withTf(common.tf_backend, async (tf, backend) => {
    const prep = prepare(tf, method, data, targetStart, common.empty_columns);
    try {
      if (prep.d === 1) return meanFallback(tf, method, data, prep);
      const started = performance.now();
      const pred = await train(tf, prep, seed, backend);
      try {
        const out = finish(tf, method, data, prep, pred);
        log.verbose(`${method}: trained on ${prep.n} x ${prep.d} (backend ${backend}) in ${((performance.now() - started) / 1000).toFixed(2)} s`);
        return out;
      } finally {
        pred.dispose();
      }
    } finally {
      prep.dispose();
    }
  });
}

// ---------------------------------------------------------------------------------------------
// The native engine (C++ kernels of hierimpute_core, native/core/kernels/neural.cc).

/** The table as row-major host arrays (n x d), scaled as `Prepared`. */
export interface HostPrepared {
  readonly n: number;
  readonly d: number;
  readonly targetStart: number;
  /** 1 = observed (or an empty column under empty_columns=zero), 0 = missing. */
  readonly mask: Float32Array;
  /** Min-max scaled values, missing cells 0 (GAIN's convention). */
  readonly zeroed: Float32Array;
  /** Standardised values ((scaled - mean) / std), missing cells 0 (the column mean). */
  readonly standard: Float32Array;
  /** Per column: minimum, range, scaled mean and standard deviation of the observed cells. */
  readonly min: Float64Array;
  readonly range: Float64Array;
  readonly mean: Float64Array;
  readonly std: Float64Array;
  readonly trainableRows: number;
}

/** prepare() on host arrays: same scaling (statistics in double, values stored as float32). */
export function prepareHost(method: string, data: Matrix, targetStart: number, emptyColumns: EmptyColumnsRule): HostPrepared {
  const n = data.nRows;
  const d = data.columns.length;
  const { empty, rowsObserved } = scanTable(method, data, emptyColumns);
  const isEmpty = new Uint8Array(d);
  for (const j of empty) isEmpty[j] = 1;
  const mask = new Float32Array(n * d);
  const zeroed = new Float32Array(n * d);
  const standard = new Float32Array(n * d);
  const min = new Float64Array(d);
  const range = new Float64Array(d);
  const mean = new Float64Array(d);
  const std = new Float64Array(d);
  for (let j = 0; j < d; j++) {
    const col = data.columns[j]!;
    const value = (i: number): number => (isEmpty[j] ? 0 : col[i]!);
    let lo = Infinity;
    let hi = -Infinity;
    let count = 0;
    for (let i = 0; i < n; i++) {
      const v = value(i);
      if (Number.isNaN(v)) continue;
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
      count++;
    }
    const spread = Math.fround(hi - lo);
    min[j] = lo;
    range[j] = spread > 0 ? spread : 1;
    let sum = 0;
    for (let i = 0; i < n; i++) {
      const v = value(i);
      if (Number.isNaN(v)) continue;
      const z = Math.fround((v - lo) / range[j]!);
      zeroed[i * d + j] = z;
      mask[i * d + j] = 1;
      sum += z;
    }
    mean[j] = sum / count;
    let ss = 0;
    for (let i = 0; i < n; i++) if (mask[i * d + j]) ss += (zeroed[i * d + j]! - mean[j]!) ** 2;
    const sd = Math.sqrt(ss / count);
    std[j] = sd > 1e-6 ? sd : 1;
    for (let i = 0; i < n; i++) if (mask[i * d + j]) standard[i * d + j] = (zeroed[i * d + j]! - mean[j]!) / std[j]!;
  }
  return { n, d, targetStart, mask, zeroed, standard, min, range, mean, std, trainableRows: rowsObserved };
}

/** The native neural functions of the core addon (native/core/neural_binding.cc). */
export type NeuralAddon = Pick<CoreAddon, 'nnRecurrent' | 'nnGain' | 'nnRecurrentCheck' | 'nnGainCheck'>;

/** The native neural kernels, or why they are unavailable (no addon, or one built from older sources). */
export function neuralAddon(): NeuralAddon | Error {
  try {
    return coreAddon();
  } catch (err) {
    return err instanceof Error ? err : new Error(String(err));
  }
}

/** Which engine a run uses: the option, unless 'auto'; then --tf-backend / the environment; 'auto' = native when built. */
export function resolveEngine(method: string, choice: TfBackendChoice): { native: NeuralAddon } | { tf: TfBackendChoice } {
  const asked = choice === 'auto' ? defaultTfBackend() : choice;
  if (asked !== 'auto' && asked !== 'native') return { tf: asked };
  const addon = neuralAddon();
  if (!(addon instanceof Error)) return { native: addon };
  if (asked === 'native')
    throw new RangeError(`${method}: tf_backend=native was asked for but the native kernels cannot load: ${addon.message.split('\n')[0]}`);
  log.verbose(`${method}: native kernels unavailable (${addon.message.split('\n')[0]}); using TensorFlow.js`);
  return { tf: 'auto' };
}

/**
 * runNeural for the native engine: same target check, fast paths and un-scaling, no TensorFlow.js.
 * `train` returns the target rows' predictions in the scaled [0, 1] space, row-major
 * [(n - targetStart) x d].
 */
export async function runNeuralNative(
  method: string,
  data: Matrix,
  targetStart: number,
  common: NeuralCommonOptions,
  ctx: ImputeContext,
  train: (prep: HostPrepared, seed: number, threads: number) => Promise<Float32Array>,
): Promise<Matrix> {
  checkTarget(method, data, targetStart);
  const seed = ctx.seed;
  if (!targetHasMissing(data, targetStart)) return copyTarget(data, targetStart);
  const prep = prepareHost(method, data, targetStart, common.empty_columns);
  const { n, d } = prep;
  const nT = n - targetStart;
  let pred: Float32Array;
  if (d === 1) {
    log.warn(`${method}: the table has a single column ('${data.names[0]}'), nothing to learn from; imputing the column mean`);
    pred = new Float32Array(nT).fill(prep.mean[0]!);
  } else {
    const started = performance.now();
    pred = await train(prep, seed, ctx.threads);
    log.verbose(`${method}: trained on ${n} x ${d} (native) in ${((performance.now() - started) / 1000).toFixed(2)} s`);
  }
  const columns = data.columns.map((col, j) => {
    const out = new Float32Array(nT);
    for (let i = 0; i < nT; i++) {
      const r = targetStart + i;
      out[i] = prep.mask[r * d + j] ? (Number.isNaN(col[r]!) ? 0 : col[r]!) : pred[i * d + j]! * prep.range[j]! + prep.min[j]!;
      if (!Number.isFinite(out[i]!))
        throw new Error(
          `${method}: training diverged (non-finite imputed values). Fixes: lower learning_rate, or use fewer epochs / iterations ` +
            `(CLI: --param learning_rate=...)`,
        );
    }
    return out;
  });
  return makeMatrix(data.names, columns);
}

/** Standardised [rows x d] predictions to the scaled space, in place: z * std + mean. */
export function unstandardizeHost(prep: HostPrepared, z: Float32Array): Float32Array {
  const { d } = prep;
  for (let i = 0; i < z.length; i++) z[i] = z[i]! * prep.std[i % d]! + prep.mean[i % d]!;
  return z;
}

/** Initialiser seeds 0..count-1 of the recurrent / GAIN models (the same derivation as the TensorFlow.js path). */
export function initSeeds(seed: number, stream: number, count: number): number[] {
  return Array.from({ length: count }, (_, i) => deriveSeed(seed, stream, i));
}
