// `hierimpute run`: the sweep over every dataset of a folder. Under MPI rank 0 dispatches and
// ranks > 0 work; with one rank, rank 0 works through the same task code.
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';

import { bandEdges } from '../engine/bands.js';
import type { RunConfig } from '../engine/config.js';
import { ManifestWriter, writeRunSummary, writeSweepIndex, type RunSummary } from '../engine/outputs.js';
import { createProgress } from '../report/progress.js';
import { DiskStore } from '../engine/store.js';
import { expandSweep, prefixesPerBand } from '../engine/sweep.js';
import { log } from '../log/logger.js';
import type { Communicator } from '../mpi/world.js';
import { discoverDatasets } from '../tables/datasets.js';
import { finishEvaluation, prepareEvaluation, type EvaluateOptions } from '../eval/evaluate.js';
import { evaluationItems, evaluationPlan } from '../eval/plan.js';
import { dispatch, type DispatchStats, type WorkerLoads, type WorkItem } from './dispatcher.js';
import { holdAfterClaims } from './fault-inject.js';
import { LocalPool, MpiPool, workerLoop } from './pool.js';
import { reportInFlightOnSigterm } from './teardown.js';
import { TaskRunner } from './task-runner.js';

export interface RunOptions {
  config: RunConfig;
  dataDir: string;
  outDir: string;
  /** Kernel threads per rank (1 = single-threaded; 0 = all cores). */
  threads: number;
  /** Lease of node claims in ms (default DEFAULT_LEASE_MS): how long a lost rank's claim blocks its node. */
  leaseMs?: number;
  progress?: boolean;
  /** --evaluate: hold out cells, sweep the masked tables, score (src/eval/evaluate.ts). */
  evaluate?: EvaluateOptions;
}

/** Checks the data folder before anything is written; throws a clear error. */
export function checkDataDir(dataDir: string): void {
  if (!existsSync(dataDir)) throw new Error(`--data ${dataDir}: no such folder`);
  if (!statSync(dataDir).isDirectory()) throw new Error(`--data ${dataDir}: not a folder (give the folder that holds the *.csv tables)`);
}

/** Datasets each rank keeps loaded (the dispatcher prefers giving a worker items of those). */
const KEEP_DATASETS = 2;

export async function runSweep(world: Communicator, opts: RunOptions): Promise<number> {
  const t0 = performance.now();
  const { config } = opts;
  const outDir = resolve(opts.outDir);
  const datasets = discoverDatasets(opts.dataDir);
  if (datasets.length === 0) throw new Error(`--data ${opts.dataDir}: no *.csv files in this folder`);
  const sequences = expandSweep(config);
  const edges = bandEdges(config.bands.map((b) => b.width));
  const store = new DiskStore(outDir, { rank: world.rank, leaseMs: opts.leaseMs });
  // --evaluate: every rank reads the masked tables rank 0 writes before dispatching any task
  // (one copy per holdout repeat), and the baselines run beside the sequences (src/eval/plan.ts).
  const plan = opts.evaluate ? evaluationPlan(outDir, datasets, config, sequences.length, opts.evaluate.repeats ?? 1) : undefined;
  const paths = plan ? plan.paths : new Map(datasets.map((d) => [d.name, d.path]));
  const worker = world.size > 1 && world.rank > 0;
  const runner = new TaskRunner({
    config,
    edges,
    paths,
    store,
    threads: opts.threads,
    datasetEdges: plan?.edges,
    keepDatasets: KEEP_DATASETS,
    afterClaim: worker ? holdAfterClaims(world.rank) : undefined,
    outputs: { outDir, sequences: plan ? [...sequences, ...plan.baselines] : sequences },
  });

  if (worker) {
    await workerLoop(world, runner);
    return 0;
  }
  log.info(`sweep: ${sequences.length} sequences × ${datasets.length} datasets, ${config.bands.length} bands, ${world.size} rank(s) -> ${outDir}`);
  const prepared = opts.evaluate ? await prepareEvaluation(outDir, datasets, opts.evaluate, opts.threads) : undefined;
  const allSequences = plan ? [...sequences, ...plan.baselines] : sequences;
  await writeSweepIndex(
    outDir,
    sequences,
    datasets.map((d) => d.name),
    config,
  );
  const items: WorkItem[] = plan
    ? evaluationItems(plan, sequences, config)
    : sequences.flatMap((s) =>
        datasets.map((d) => ({ seq_idx: s.id, dataset: d.name, widths: config.bands.map((b) => b.width), methods: [...s.methods] })),
      );
  let pool: MpiPool | LocalPool;
  let uninstall = (): void => undefined;
  if (world.size > 1) {
    const mpiPool = new MpiPool(world);
    uninstall = reportInFlightOnSigterm(mpiPool);
    await mpiPool.greet();
    log.info(`ranks by host: ${mpiPool.describeHosts()}`);
    pool = mpiPool;
  } else pool = new LocalPool(runner);
  const progress = createProgress(opts.progress ?? true);
  const tDispatch = performance.now();
  // Rank 0 only records finished items in the manifests (the worker that finished an item wrote
  // its files), beside the dispatch loop.
  const manifests = new ManifestWriter(outDir, config, edges);
  let stats: DispatchStats;
  try {
    stats = await dispatch(
      pool,
      items,
      {
        onItemDone: async (item, reply) => {
          const seq = allSequences[item.seq_idx]!;
          if (reply.outputs === 'stale') {
            // Drop the old entry before the files are replaced, then have the item run again.
            await manifests.forget(seq, item.dataset);
            return true;
          }
          if (!reply.entry)
            throw new Error(`dispatcher: finished item (sequence ${item.seq_idx}, dataset ${item.dataset}) came back without its manifest entry`);
          await manifests.record(seq, item.dataset, reply.entry);
          return false;
        },
        onProgress: (p) => progress.update(p),
      },
      { keepDatasets: KEEP_DATASETS },
    );
    await manifests.flush();
  } finally {
    progress.stop();
    uninstall();
  }
  const dispatchWall = (performance.now() - tDispatch) / 1000;
  const summary = summarize(stats, config, sequences.length, datasets.length, world.size, (performance.now() - t0) / 1000, plan?.edges);
  if (world.size > 1) summary.worker_busy_share = stats.workerBusySeconds / (dispatchWall * (world.size - 1));
  // Rank 0's own work per finished item: handling replies (until the freed worker is fed) plus
  // building manifests; the manifest writes' disk waits run beside dispatching and are reported
  // apart. With one rank, rank 0's work as its own worker is not counted.
  const perItem = (ms: number): number => (stats.itemsDone ? ms / stats.itemsDone : 0);
  summary.rank0_ms_per_item = perItem(stats.replyMs + manifests.cpuMs);
  summary.rank0_manifest_io_ms_per_item = perItem(manifests.ioMs);
  summary.rank0_ms_per_reply = stats.replies ? stats.replyMs / stats.replies : 0;
  const perRank = (f: (l: WorkerLoads) => number): Record<string, number> =>
    Object.fromEntries([...stats.loads].sort((a, b) => a[0] - b[0]).map(([w, l]) => [String(w), f(l)]));
  summary.dataset_loads = perRank((l) => l.loads);
  summary.dataset_cache_hits = perRank((l) => l.hits);
  summary.node_disk_reads = perRank((l) => l.nodeReads);
  summary.node_cache_hits = perRank((l) => l.nodeHits);
  await writeRunSummary(outDir, summary);
  log.info(
    `done in ${summary.wall_s.toFixed(1)} s: ${summary.groups_computed} band groups computed, ${summary.groups_reused} reused, ` +
      `${summary.groups_empty} empty; outputs in ${outDir}/sequences, summary ${outDir}/run-summary.json, plots ${outDir}/plots`,
  );
  if (opts.evaluate && prepared) {
    await finishEvaluation({
      outDir,
      datasets,
      sequences,
      plan: plan!,
      config,
      edges,
      summary,
      store,
      threads: opts.threads,
      opts: opts.evaluate,
      prepared,
    });
  }
  if (stats.failedDatasets.size) {
    for (const [name, err] of stats.failedDatasets) log.error(`dataset ${name} failed: ${err}`);
    log.error(`${stats.failedDatasets.size} dataset(s) could not be processed: ${[...stats.failedDatasets.keys()].join(', ')}`);
    return 1;
  }
  return 0;
}

function summarize(
  stats: DispatchStats,
  config: RunConfig,
  nSeq: number,
  nData: number,
  ranks: number,
  wall: number,
  baselineDatasets?: ReadonlyMap<string, unknown>,
): RunSummary {
  let empty = 0;
  let slots = 0;
  const nBaselines = new Set(config.bands.flatMap((b) => b.methods)).size;
  const perBand = prefixesPerBand(config);
  for (const [name, rows] of stats.bandRows) {
    if (stats.failedDatasets.has(name)) continue;
    // --evaluate baselines: one computed band per baseline method, no empty groups.
    if (baselineDatasets?.has(name)) {
      slots += nBaselines;
      continue;
    }
    rows.forEach((r, b) => {
      if (r === 0) empty += perBand[b]!;
      else slots += nSeq;
    });
  }
  return {
    groups_computed: stats.groupsComputed,
    groups_reused: Math.max(0, slots - stats.groupsComputed),
    groups_empty: empty,
    requeues_without_progress: stats.requeuesWithoutProgress,
    wall_s: wall,
    seconds_per_method: stats.secondsPerMethod,
    sequences: nSeq,
    datasets: nData,
    ranks,
    failed_datasets: Object.fromEntries(stats.failedDatasets),
    mean_filled_cells: stats.meanFilledCells,
  };
}
