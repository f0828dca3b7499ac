// Calibration of the planner's cost model (./plan.ts) on the real tables: each table is loaded
// as a run loads it (its load time, its real band row counts, and per band the rows and columns
// with a missing cell), then every method of the config runs on samples shaped like its dearest
// node of that table, and one item's outputs and one node's storage are timed. The result is a
// CostFile (per table), which `plan --costs` also accepts, so a calibration can be kept.
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';

import { resolveMethod, type RunConfig } from '../engine/config.js';
import { loadDataset, type DatasetState } from '../engine/dataset.js';
import { sequenceNodes } from '../engine/group.js';
import { engineAddon } from '../engine/native.js';
import { writeDatasetOutputs } from '../engine/outputs.js';
import { DiskStore, MemoryStore } from '../engine/store.js';
import { expandSweep } from '../engine/sweep.js';
import { getImputer } from '../impute/registry.js';
import { makeMatrix, type Matrix } from '../tables/matrix.js';
import type { Dataset } from '../tables/datasets.js';
import { costUnits, perModelMethod, planEdges, type CostFile, type MethodCost, type NodeShape, type PlanTable, type TableCosts } from './plan.js';

export interface CalibrateOptions {
  /** Most fit rows of a calibration sample (default 2000). */
  sampleRows?: number;
  /** Kernel threads per rank, as the run will use them. */
  threads?: number;
}

export interface Calibration {
  tables: PlanTable[];
  costs: CostFile;
  /** Seconds the calibration took. */
  seconds: number;
}

/** Default of CalibrateOptions.sampleRows. */
export const SAMPLE_ROWS = 2000;

const now = (): number => performance.now() / 1000;

/** The table as the planner sees it: per band its rows, its rows with a missing cell, and its columns with one. */
export function planTable(ds: DatasetState): PlanTable {
  const missing = engineAddon().rowMissingCounts(ds.matrix.columns);
  const receivers: number[] = [];
  const columns: number[] = [];
  for (const rows of ds.bands.rows) {
    receivers.push(rows.filter((r) => missing[r]! > 0).length);
    columns.push(ds.matrix.columns.filter((c) => rows.some((r) => Number.isNaN(c[r]!))).length);
  }
  return {
    name: ds.name,
    cols: ds.matrix.columns.length,
    bandRows: ds.bands.rows.map((r) => r.length),
    bandReceivers: receivers,
    bandColumns: columns,
  };
}

/**
 * The table with every missing cell filled from its column's own observed values in turn: a
 * stand-in for the imputed results of earlier bands, complete and with the column's spread (a
 * constant fill would make tree methods cheaper than on real results).
 */
function filled(ds: DatasetState): Float32Array[] {
  return ds.matrix.columns.map((c) => {
    const out = Float32Array.from(c);
    const observed = c.filter((v) => !Number.isNaN(v));
    let next = 0;
    for (let i = 0; i < out.length && observed.length > 0; i++) if (Number.isNaN(out[i]!)) out[i] = observed[next++ % observed.length]!;
    return out;
  });
}

/** `n` entries of `from` spread evenly over it (in order). */
function spread(from: ArrayLike<number>, n: number): number[] {
  const m = Math.min(n, from.length);
  return Array.from({ length: m }, (_, i) => from[Math.floor((i * from.length) / m)]!);
}

interface Sample {
  fit: Matrix;
  targetStart: number;
  shape: NodeShape;
}

/**
 * Node (band b) scaled to `n` fit rows: its band's share of them taken from the band's rows as read
 * (spread evenly: the band's missingness), the rest from the earlier bands' rows, complete (as
 * their results are). With n at least the node's fit rows, it is the node's own fit data.
 */
function sample(ds: DatasetState, complete: Float32Array[], b: number, n: number): Sample {
  const rows = ds.bands.rows;
  const earlier: number[] = [];
  for (let i = 0; i < b; i++) for (const r of rows[i]!) earlier.push(r);
  const fitRows = earlier.length + rows[b]!.length;
  const m = Math.min(n, fitRows);
  const t = Math.max(1, Math.min(rows[b]!.length, Math.round((rows[b]!.length * m) / fitRows)));
  const head = Int32Array.from(spread(earlier, m - t));
  const tail = Int32Array.from(spread(rows[b]!, t));
  const native = engineAddon();
  const h = native.takeRows(complete, head);
  const tl = native.takeRows(ds.matrix.columns, tail);
  const columns = h.map((hc, j) => {
    const c = new Float32Array(head.length + tail.length);
    c.set(hc, 0);
    c.set(tl[j]!, head.length);
    return c;
  });
  let receivers = 0;
  for (let i = 0; i < tail.length; i++) if (tl.some((c) => Number.isNaN(c[i]!))) receivers++;
  const missingCols = tl.filter((c) => c.some(Number.isNaN)).length;
  const k = columns.length;
  return {
    fit: makeMatrix(ds.matrix.names, columns),
    targetStart: head.length,
    shape: { fit: columns[0]?.length ?? 0, rows: tail.length, receivers, columns: missingCols, cols: k },
  };
}

/** Seconds `writeDatasetOutputs` takes for one item of this table (the second of two calls: the first loads the plot modules). */
async function timeOutputs(ds: DatasetState, complete: Float32Array[], config: RunConfig): Promise<number> {
  const seq = expandSweep(config)[0]!;
  const store = new MemoryStore();
  const native = engineAddon();
  for (const node of sequenceNodes(ds, config, seq.methods)) {
    const rows = ds.bands.rows[node.band]!;
    if (rows.length) await store.write(node, makeMatrix(ds.matrix.names, native.takeRows(complete, rows)));
  }
  let seconds = 0;
  for (let k = 0; k < 2; k++) {
    const dir = mkdtempSync(join(tmpdir(), 'hi-plan-'));
    try {
      const t0 = now();
      await writeDatasetOutputs(dir, ds, seq, config, store);
      seconds = now() - t0;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return seconds;
}

/** A node result of the table's average band size (complete rows spread over the table). */
function typicalResult(ds: DatasetState, complete: Float32Array[]): Matrix {
  const nonEmpty = ds.bands.rows.filter((r) => r.length > 0);
  const rows = Math.max(1, Math.round(ds.matrix.nRows / Math.max(1, nonEmpty.length)));
  const all = Int32Array.from({ length: ds.matrix.nRows }, (_, i) => i);
  return makeMatrix(ds.matrix.names, engineAddon().takeRows(complete, Int32Array.from(spread(all, rows))));
}

/** Seconds to claim, store (Arrow file) and release one node result `m`. */
async function timeNodeStore(m: Matrix): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'hi-plan-'));
  try {
    const store = new DiskStore(dir, { rank: 0 });
    const times: number[] = [];
    for (let k = 0; k < 3; k++) {
      const node = { dataset: 'calibration', band: 0, key: `k${k}` };
      const t0 = now();
      const claim = store.claim(node);
      await store.write(node, m);
      claim?.release();
      times.push(now() - t0);
    }
    return times.sort((a, b) => a - b)[1]!;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * fixed_s + per_unit_s × units through two timings (large sample: t1 seconds, u1 units; half: t2, u2).
 * Both parts stay >= 0: when the smaller sample was not faster (timing noise, or a cost that does
 * not grow, as gan's), everything is per call; when the fit would make the per-call part
 * negative, everything scales.
 */
export function fixedAndPerUnit(t1: number, u1: number, t2: number, u2: number): { fixed_s: number; per_unit_s: number } {
  if (!(u1 > u2) || !(t1 > t2)) return { fixed_s: Math.max(t1, 0), per_unit_s: 0 };
  const perUnit = (t1 - t2) / (u1 - u2);
  const fixed = t1 - perUnit * u1;
  if (fixed < 0) return { fixed_s: 0, per_unit_s: u1 > 0 ? t1 / u1 : 0 };
  return { fixed_s: fixed, per_unit_s: perUnit };
}

/**
 * A method's cost from its timings on two samples (t seconds on a sample of m models and u units):
 * per call and per unit, or for per-model methods per model and per unit (fitted per model, so
 * the per-model part does not grow with the fit rows, as a boosting round's or a tree's set-up).
 */
export function methodCost(
  method: string,
  big: { t: number; models: number; units: number },
  small: { t: number; models: number; units: number },
): MethodCost {
  if (perModelMethod(method) && big.models > 0 && small.models > 0) {
    const c = fixedAndPerUnit(big.t / big.models, big.units / big.models, small.t / small.models, small.units / small.models);
    return { fixed_s: 0, per_model_s: c.fixed_s, per_unit_s: c.per_unit_s };
  }
  return fixedAndPerUnit(big.t, big.units, small.t, small.units);
}

/** A calibration sample should take at least this long (shorter timings are mostly noise). */
const MIN_SAMPLE_S = 0.05;

/**
 * The median of up to three timings of `run` (`known`: one already taken): more of them the
 * shorter it is (a loaded machine varies).
 */
async function timeOf(run: () => Promise<number>, known?: number): Promise<number> {
  const times: number[] = known === undefined ? [] : [known];
  let total = known ?? 0;
  while (times.length < 3 && (times.length === 0 || total < 1)) {
    const t = await run();
    times.push(t);
    total += t;
  }
  times.sort((a, b) => a - b);
  return times.length === 2 ? (times[0]! + times[1]!) / 2 : times[times.length >> 1]!;
}

export async function calibrate(config: RunConfig, datasets: readonly Dataset[], opts: CalibrateOptions = {}): Promise<Calibration> {
  const t0 = now();
  const edges = planEdges(config);
  const n = opts.sampleRows ?? SAMPLE_ROWS;
  const threads = opts.threads ?? 1;
  const methods = [...new Set(config.bands.flatMap((b) => b.methods))];
  const tables: PlanTable[] = [];
  const perTable: Record<string, TableCosts> = {};
  for (const d of datasets) {
    const tLoad = now();
    const ds = await loadDataset(d.name, d.path, edges);
    const load_s = now() - tLoad;
    const table = planTable(ds);
    tables.push(table);
    const complete = filled(ds);
    const costs: TableCosts = { load_s, methods: {} };
    for (const m of methods) {
      // The method's dearest node on this table: its band with the most fit rows (bands with rows only).
      let ref = -1;
      config.bands.forEach((band, b) => {
        if (band.methods.includes(m) && table.bandRows[b]! > 0) ref = b;
      });
      if (ref < 0) continue; // never runs on this table
      const resolved = resolveMethod(config, m);
      const imputer = getImputer(resolved.method);
      const options = resolved.params;
      const run = (s: Sample) => async (): Promise<number> => {
        const t = now();
        await imputer.impute(s.fit, s.targetStart, options as never, { seed: config.seed, threads });
        return now() - t;
      };
      // A first call loads the method's libraries and warms its code: not part of a node's cost.
      await run(sample(ds, complete, ref, Math.min(n, 40)))();
      // That node scaled to at most n fit rows; a method that takes under MIN_SAMPLE_S there is
      // timed on a larger sample (up to the node itself), so that its timings are not noise.
      let full = sample(ds, complete, ref, n);
      const nodeFit = table.bandRows.slice(0, ref + 1).reduce((a, r) => a + r, 0);
      let first = await run(full)();
      while (first < MIN_SAMPLE_S && full.shape.fit < nodeFit) {
        full = sample(ds, complete, ref, 2 * full.shape.fit);
        first = await run(full)();
      }
      // And at half its size: two sizes separate what each call (or model) costs from the part
      // that grows by the law.
      const half = sample(ds, complete, ref, Math.max(2, Math.floor(full.shape.fit / 2)));
      const measured = async (s: Sample, known?: number): Promise<{ t: number; models: number; units: number }> => ({
        t: await timeOf(run(s), known),
        ...costUnits(resolved.method, s.shape, options),
      });
      costs.methods![m] = methodCost(resolved.method, await measured(full, first), await measured(half));
    }
    costs.output_s = await timeOutputs(ds, complete, config);
    costs.task_s = await timeNodeStore(typicalResult(ds, complete));
    perTable[d.name] = costs;
  }
  return { tables, costs: { tables: perTable }, seconds: now() - t0 };
}

/** A CPU-bound loop for `workerData.ms` milliseconds; posts how many rounds it did. */
const SPIN = `const { parentPort, workerData } = require('node:worker_threads');
let rounds = 0;
let x = 0;
const end = Date.now() + workerData.ms;
while (Date.now() < end) {
  for (let i = 0; i < 20000; i++) x += Math.sqrt(i + (x % 7));
  rounds++;
}
parentPort.postMessage(rounds);`;

/** Rounds of SPIN that `k` threads running at once do in `ms` milliseconds, summed. */
async function spin(k: number, ms: number): Promise<number> {
  const counts = await Promise.all(
    Array.from(
      { length: k },
      () =>
        new Promise<number>((resolve, reject) => {
          const w = new Worker(SPIN, { eval: true, workerData: { ms } });
          w.once('message', (n: number) => resolve(n));
          w.once('error', reject);
        }),
    ),
  );
  return counts.reduce((a, c) => a + c, 0);
}

/**
 * How much this machine gives k CPU-bound workers at once, relative to one, for k = 1..workers
 * (each worker running `threads` threads): its cores and what other jobs leave of them now
 * (CostFile.host_parallelism). Threads of this process share the machine as the processes of one
 * run do. At most twice the cores are measured; more workers get no more than that.
 */
export async function hostParallelism(workers: number, threads = 1, ms = 300): Promise<number[]> {
  const t = Math.max(1, threads);
  const most = Math.max(1, Math.min(workers, Math.ceil((2 * availableParallelism()) / t)));
  const before = await spin(t, ms);
  const total: number[] = [];
  for (let k = 1; k <= most; k++) total.push(k === 1 ? before : await spin(k * t, ms));
  const one = (before + (await spin(t, ms))) / 2;
  // Relative to one worker, never above k, never below the level of fewer workers (noise).
  const profile: number[] = [];
  total.forEach((n, i) => profile.push(i === 0 ? 1 : Math.min(i + 1, Math.max(profile[i - 1]!, one > 0 ? n / one : i + 1))));
  return profile.map((v) => Math.round(v * 1000) / 1000);
}
