// The band rule, implemented once. `runOneGroup` does exactly one band of one (sequence,
// dataset): it finds the first band whose prefix-tree node has no result yet, claims that node,
// fits the band's method on every row of the earlier bands (their imputed results) plus the
// band's own rows, keeps the band's rows (observed cells restored exactly, imputed cells clipped
// to the global per-column min/max) and stores them. Single-rank runs, `hierarchicalImpute`
// and MPI workers all call this function. The fit data of a branch is kept for its next band
// (fit-cache.ts), so a node copies its own band's rows rather than every earlier band's result.
import { getImputer } from '../impute/registry.js';
import { makeMatrix, type Matrix } from '../tables/matrix.js';
import { resolveMethod, type MethodRef, type RunConfig } from './config.js';
import type { DatasetState } from './dataset.js';
import { FitCache, type FitData } from './fit-cache.js';
import { nodeKey, nodeSeed } from './keys.js';
import { engineAddon } from './native.js';
import type { NodeRef, NodeStore } from './store.js';

export interface GroupEnv {
  readonly config: RunConfig;
  readonly store: NodeStore;
  /** Kernel threads (1 on MPI ranks). */
  readonly threads: number;
  /** Called with each node this call claimed and is about to compute (test fault injection). */
  readonly afterClaim?: (node: NodeRef) => Promise<void>;
}

export type GroupOutcome = 'computed' | 'reused' | 'busy' | 'done';

export interface GroupResult {
  /** Every band of this (sequence, dataset) has its result. */
  readonly done: boolean;
  /** This call completed a band (computed it, or found it finished by someone else). */
  readonly progressed: boolean;
  readonly outcome: GroupOutcome;
  /** The band this call worked on (-1 when done). */
  readonly band: number;
  readonly method?: MethodRef;
  readonly seconds?: number;
  /** Cells filled with the global mean because no row of the fit data observes their column. */
  readonly meanFilled?: number;
}

/** The node of every band of a sequence on a dataset. */
export function sequenceNodes(ds: DatasetState, config: RunConfig, methods: readonly MethodRef[]): NodeRef[] {
  return methods.map((_, b) => ({ dataset: ds.name, band: b, key: nodeKey(ds.hash, config, ds.edges, methods, b) }));
}

/** First band without a result (empty bands need none), or -1 when all are done. */
export function nextBand(ds: DatasetState, store: NodeStore, nodes: readonly NodeRef[]): number {
  for (let b = 0; b < nodes.length; b++) if (ds.bands.rows[b]!.length > 0 && !store.has(nodes[b]!)) return b;
  return -1;
}

export async function runOneGroup(env: GroupEnv, ds: DatasetState, methods: readonly MethodRef[]): Promise<GroupResult> {
  const nodes = sequenceNodes(ds, env.config, methods);
  const b = nextBand(ds, env.store, nodes);
  if (b < 0) return { done: true, progressed: false, outcome: 'done', band: -1 };
  const node = nodes[b]!;
  const claim = env.store.claim(node);
  if (!claim) return { done: false, progressed: false, outcome: 'busy', band: b, method: methods[b] };
  try {
    if (env.store.has(node)) return { done: false, progressed: true, outcome: 'reused', band: b, method: methods[b] };
    await env.afterClaim?.(node);
    const t0 = performance.now();
    const { result, meanFilled, fit } = await imputeBand(env, ds, methods, nodes, b);
    try {
      await env.store.write(node, result);
      // Keep the branch for its next band (nothing continues it after the last band with rows).
      fit.commit(ds.bands.rows.slice(b + 1).some((r) => r.length > 0) ? node.key : null, result.columns);
    } finally {
      fit.release();
    }
    return { done: false, progressed: true, outcome: 'computed', band: b, method: methods[b], seconds: (performance.now() - t0) / 1000, meanFilled };
  } finally {
    claim.release();
  }
}

const fitCaches = new WeakMap<NodeStore, FitCache>();

/** The fit data cache of a node store: one per worker (its DiskStore), or per in-memory run. */
export function fitCacheOf(store: NodeStore): FitCache {
  let cache = fitCaches.get(store);
  if (!cache) fitCaches.set(store, (cache = new FitCache()));
  return cache;
}

async function imputeBand(
  env: GroupEnv,
  ds: DatasetState,
  methods: readonly MethodRef[],
  nodes: readonly NodeRef[],
  b: number,
): Promise<{ result: Matrix; meanFilled: number; fit: FitData }> {
  const native = engineAddon();
  const method = methods[b]!;
  const where = `dataset '${ds.name}', band ${b} (method ${method})`;
  const rows = ds.bands.rows;
  // The fit data: every row of the earlier bands (their results, in band order), then the band's
  // own rows; the earlier rows are the prefix of the last earlier band with rows.
  let parent = -1;
  let parentRows = 0;
  for (let i = 0; i < b; i++) {
    if (rows[i]!.length === 0) continue;
    parent = i;
    parentRows += rows[i]!.length;
  }
  const original = native.takeRows(ds.matrix.columns, rows[b]!);
  const fitData = await fitCacheOf(env.store).acquire(parent < 0 ? null : nodes[parent]!.key, parentRows, original, ds.matrix.nRows, async () => {
    const parts: Float32Array[][] = [];
    for (let i = 0; i < b; i++) if (rows[i]!.length > 0) parts.push([...(await env.store.read(nodes[i]!)).columns]);
    return parts;
  });
  try {
    const fit = makeMatrix(ds.matrix.names, fitData.columns);
    const targetStart = fitData.targetStart;
    const meanFilled = fillUnobservedColumns(env.config, ds, fit, targetStart, where);
    const resolved = resolveMethod(env.config, method);
    const imputer = getImputer(resolved.method);
    const options = resolved.params;
    const out = await imputer.impute(fit, targetStart, options, { seed: nodeSeed(env.config, ds.edges, methods, b), threads: env.threads });
    if (out.nRows !== original[0]!.length || out.columns.length !== original.length) {
      throw new Error(`${where}: the method returned ${out.nRows}×${out.columns.length} cells, expected ${original[0]!.length}×${original.length}`);
    }
    // The result must own its memory (the method may return views of its input).
    const columns = out.columns.map((c) => Float32Array.from(c));
    const left = native.finishBand(columns, original, ds.stats.min, ds.stats.max);
    if (left > 0) throw new Error(`${where}: ${left} cells are still missing after imputation`);
    return { result: makeMatrix(ds.matrix.names, columns), meanFilled, fit: fitData };
  } catch (err) {
    fitData.release();
    throw err;
  }
}

/**
 * The rule for columns without observed cells (see RunConfig.band_all_missing). Fills in place
 * in `fit` (the node's own fit data; only the band's rows can hold missing cells) and returns the
 * number of cells filled with a global mean.
 */
function fillUnobservedColumns(config: RunConfig, ds: DatasetState, fit: Matrix, targetStart: number, where: string): number {
  // The earlier bands' results are complete, so with them in the fit data every column is observed.
  if (config.band_all_missing !== 'global_mean' && targetStart > 0) return 0;
  const native = engineAddon();
  const k = fit.columns.length;
  const band = fit.columns.map((c) => c.subarray(targetStart));
  const scope = config.band_all_missing === 'global_mean' ? band : fit.columns;
  const observed = native.columnStats(scope).observed;
  const which = new Uint8Array(k);
  let filled = 0;
  for (let j = 0; j < k; j++) {
    if (observed[j]! > 0) continue;
    if (!(ds.stats.observed[j]! > 0)) {
      throw new Error(
        `${where}: column '${fit.names[j]}' has no observed cell in the whole dataset ${ds.source}; nothing can impute it (drop the column)`,
      );
    }
    which[j] = 1;
    filled += scope[j]!.length;
  }
  if (filled > 0) native.fillColumns(scope, which, ds.stats.mean);
  return filled;
}

/**
 * The input table with the results of the given nodes (bands 0..nodes.length-1) put back in input
 * row order; rows of later bands keep their missing cells.
 */
export async function stitchBands(ds: DatasetState, store: NodeStore, nodes: readonly NodeRef[]): Promise<Float32Array[]> {
  const native = engineAddon();
  const columns = ds.matrix.columns.map((c) => Float32Array.from(c));
  for (let b = 0; b < nodes.length; b++) {
    const rows = ds.bands.rows[b]!;
    if (rows.length === 0) continue;
    native.scatterRows(columns, rows, (await store.read(nodes[b]!)).columns);
  }
  return columns;
}

/** The final table of a finished (sequence, dataset): every band's result back in input row order. */
export async function stitchTable(ds: DatasetState, store: NodeStore, nodes: readonly NodeRef[]): Promise<Matrix> {
  const native = engineAddon();
  const columns = await stitchBands(ds, store, nodes);
  const observed = native.columnStats(columns).observed;
  observed.forEach((o, j) => {
    if (o !== ds.matrix.nRows)
      throw new Error(`dataset '${ds.name}': column '${ds.matrix.names[j]}' still has ${ds.matrix.nRows - o} missing cells after the last band`);
  });
  return makeMatrix(ds.matrix.names, columns);
}
