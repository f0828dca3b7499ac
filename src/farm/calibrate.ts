// Calibration of the planner's cost model (./plan.ts) on the real tables: each table is loaded
// as a run loads it (its load time and its real band row counts), then every method of the config
// runs once on a sample of it, and one item's outputs and one node's storage are timed. The
// result is a CostFile (per table), which `plan --costs` also accepts, so a calibration can be kept.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { RunConfig } from '../engine/config.js';
import { loadDataset, type DatasetState } from '../engine/dataset.js';
import { sequenceNodes } from '../engine/group.js';
import { engineAddon } from '../engine/native.js';
import { writeDatasetOutputs } from '../engine/outputs.js';
import { DiskStore, MemoryStore } from '../engine/store.js';
import { expandSweep } from '../engine/sweep.js';
import { getImputer } from '../impute/registry.js';
import type { MethodName } from '../impute/types.js';
import { makeMatrix, type Matrix } from '../tables/matrix.js';
import type { Dataset } from '../tables/datasets.js';
import { costUnits, planEdges, type CostFile, type PlanTable, type TableCosts } from './plan.js';

export interface CalibrateOptions {
  /** Rows of each table's sample (default 500). */
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

const now = (): number => performance.now() / 1000;

/** The table's columns with every missing cell set to its column mean (an "imputed" stand-in). */
function filled(ds: DatasetState): Float32Array[] {
  return ds.matrix.columns.map((c, j) => {
    const out = Float32Array.from(c);
    const mean = ds.stats.mean[j]!;
    for (let i = 0; i < out.length; i++) if (Number.isNaN(out[i]!)) out[i] = mean;
    return out;
  });
}

/**
 * The sample a method is timed on: up to `n` rows spread evenly over the table in band order
 * (so its missingness is the table's), the first half complete (as earlier, imputed bands are)
 * and the second half as read (the band to impute).
 */
function sample(ds: DatasetState, complete: Float32Array[], n: number): { fit: Matrix; targetStart: number } {
  const order: number[] = [];
  for (const rows of ds.bands.rows) for (const r of rows) order.push(r);
  const m = Math.min(n, order.length);
  const idx = Int32Array.from({ length: m }, (_, i) => order[Math.floor((i * order.length) / m)]!);
  const targetStart = Math.floor(m / 2);
  const native = engineAddon();
  const head = native.takeRows(complete, idx.subarray(0, targetStart));
  const tail = native.takeRows(ds.matrix.columns, idx.subarray(targetStart));
  const columns = head.map((h, j) => {
    const c = new Float32Array(m);
    c.set(h, 0);
    c.set(tail[j]!, targetStart);
    return c;
  });
  return { fit: makeMatrix(ds.matrix.names, columns), targetStart };
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

/** Seconds to claim, store (Arrow file) and release one node of the sample's target size. */
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

export async function calibrate(config: RunConfig, datasets: readonly Dataset[], opts: CalibrateOptions = {}): Promise<Calibration> {
  const t0 = now();
  const edges = planEdges(config);
  const n = opts.sampleRows ?? 500;
  const threads = opts.threads ?? 1;
  const methods = [...new Set(config.bands.flatMap((b) => b.methods))];
  const tables: PlanTable[] = [];
  const perTable: Record<string, TableCosts> = {};
  for (const d of datasets) {
    const tLoad = now();
    const ds = await loadDataset(d.name, d.path, edges);
    const load_s = now() - tLoad;
    const k = ds.matrix.columns.length;
    tables.push({ name: d.name, cols: k, bandRows: ds.bands.rows.map((r) => r.length) });
    const complete = filled(ds);
    const full = sample(ds, complete, n);
    const { fit, targetStart } = full;
    // Half the sample too: two sizes separate a per-call cost (setting up per-column models,
    // threads, buffers) from the part that grows by the law.
    const half = sample(ds, complete, Math.max(4, Math.floor(n / 2)));
    const tiny = sample(ds, complete, Math.min(n, 40));
    const costs: TableCosts = { load_s, methods: {} };
    for (const m of methods) {
      const imputer = getImputer(m);
      const options = (config.params[m as MethodName] ?? imputer.defaults) as Record<string, unknown>;
      const timed = async (s: { fit: Matrix; targetStart: number }): Promise<[number, number]> => {
        const t = now();
        await imputer.impute(s.fit, s.targetStart, options as never, { seed: config.seed, threads });
        return [now() - t, costUnits(m, s.fit.nRows, s.fit.nRows - s.targetStart, k, options)];
      };
      // A first call loads the method's libraries and warms its code: not part of a node's cost.
      await timed(tiny);
      const [t1, u1] = await timed(full);
      const [t2, u2] = await timed(half);
      costs.methods![m] = fixedAndPerUnit(t1, u1, t2, u2);
    }
    costs.output_s = await timeOutputs(ds, complete, config);
    const target = makeMatrix(
      ds.matrix.names,
      fit.columns.map((c) => c.slice(targetStart)),
    );
    costs.task_s = await timeNodeStore(target);
    perTable[d.name] = costs;
  }
  return { tables, costs: { tables: perTable }, seconds: now() - t0 };
}
