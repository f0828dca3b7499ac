// `hierimpute run`: the sweep over every dataset of a folder. Under MPI rank 0 dispatches and
// ranks > 0 work; with one rank, rank 0 works through the same task code.
//
// What is swept comes from a SweepMode: by default the full product of the configuration on the
// input tables (plainSweep, here); `--evaluate` supplies its own (src/eval/evaluated-sweep.ts:
// masked copies, baselines, a beam search, the scoring and the refit afterwards). This file only
// runs the farm: the workers, the dispatch, the manifests, the run summary.
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';

import { bandEdges } from '../engine/bands.js';
import type { RunConfig } from '../engine/config.js';
import { ManifestWriter, writeRunSummary, writeSweepIndex, type ManifestEntry, type RunSummary } from '../engine/outputs.js';
import { DiskStore, type NodeStore } from '../engine/store.js';
import { expandSweep, type Sequence } from '../engine/sweep.js';
import { log } from '../log/logger.js';
import type { Communicator } from '../mpi/world.js';
import { createProgress } from '../report/progress.js';
import { discoverDatasets, type Dataset } from '../tables/datasets.js';
import { dispatch, type DispatchStats, type WorkerLoads, type WorkItem } from './dispatcher.js';
import { holdAfterClaims } from './fault-inject.js';
import { LocalPool, MpiPool, workerLoop } from './pool.js';
import type { DoneMsg } from './protocol.js';
import { reportInFlightOnSigterm } from './teardown.js';
import { TaskRunner, type TaskRunnerOptions } from './task-runner.js';

/** What a mode is built from (the same on every rank). */
export interface SweepContext {
  readonly config: RunConfig;
  readonly datasets: readonly Dataset[];
  readonly outDir: string;
  readonly edges: readonly number[];
  readonly store: NodeStore;
  readonly threads: number;
  readonly ranks: number;
}

/** What a sweep runs and does around it. */
export interface SweepMode {
  // Every rank (computed without reading any file):
  /** Dataset name the farm sees -> the file it reads. */
  readonly paths: ReadonlyMap<string, string>;
  /** Band edges of datasets that do not use the configuration's. */
  readonly datasetEdges?: ReadonlyMap<string, readonly number[]>;
  /** The sequences tasks name by seq_idx (their output folders). */
  readonly sequences: readonly Sequence[];
  /** Scores finished prefix items (TaskMsg.score). */
  readonly scorer?: TaskRunnerOptions['scorer'];
  // Rank 0:
  /** The first log line. */
  describe(): string;
  /** Before any task: files the workers will read. */
  prepare(): Promise<void>;
  /** The first work items. */
  items(): WorkItem[];
  /** Work a finished item makes possible (DispatchHooks.extend). */
  extend?(item: WorkItem, reply: DoneMsg): readonly WorkItem[];
  /**
   * Before the dispatch: the sequences to index and record manifests for. undefined: only known
   * afterwards (settle), so manifest entries wait until then.
   */
  known(): readonly Sequence[] | undefined;
  /** After the sweep's dispatch: the sequences swept (the index) and every sequence with outputs (the manifests). */
  settle(): Promise<{ swept: readonly Sequence[]; outputs: readonly Sequence[] }>;
  /** Datasets whose every row is in band 0 by design (--evaluate baselines): their later bands are not counted as empty groups. */
  oneBand?(dataset: string): boolean;
  /** After the run summary: more work through the same workers (`farm`), reports. */
  finish(ctx: { summary: RunSummary; farm: (items: readonly WorkItem[]) => Promise<DispatchStats> }): Promise<void>;
  /** Fields it adds to run-summary.json. */
  summarize?(summary: RunSummary): void;
}

export interface RunOptions {
  config: RunConfig;
  dataDir: string;
  outDir: string;
  /** Kernel threads per rank (1 = single-threaded; 0 = all cores). */
  threads: number;
  /** Lease of node claims in ms (default DEFAULT_LEASE_MS): how long a lost rank's claim blocks its node. */
  leaseMs?: number;
  progress?: boolean;
  /** What to sweep (default: plainSweep, the full product on the input tables). */
  mode?: (ctx: SweepContext) => SweepMode;
}

/** Checks the data folder before anything is written; throws a clear error. */
export function checkDataDir(dataDir: string): void {
  if (!existsSync(dataDir)) throw new Error(`--data ${dataDir}: no such folder`);
  if (!statSync(dataDir).isDirectory()) throw new Error(`--data ${dataDir}: not a folder (give the folder that holds the *.csv tables)`);
}

/** The full product of the configuration on the input tables. */
export function plainSweep(ctx: SweepContext): SweepMode {
  const { config, datasets } = ctx;
  const sequences = expandSweep(config);
  return {
    paths: new Map(datasets.map((d) => [d.name, d.path])),
    sequences,
    describe: () =>
      `sweep: ${sequences.length} sequences × ${datasets.length} datasets, ${config.bands.length} bands, ${ctx.ranks} rank(s) -> ${ctx.outDir}`,
    prepare: async () => undefined,
    items: () =>
      sequences.flatMap((s) =>
        datasets.map((d) => ({ seq_idx: s.id, dataset: d.name, widths: config.bands.map((b) => b.width), methods: [...s.methods] })),
      ),
    known: () => sequences,
    settle: async () => ({ swept: sequences, outputs: sequences }),
    finish: async () => undefined,
  };
}

/** Datasets each rank keeps loaded (the dispatcher prefers giving a worker items of those). */
const KEEP_DATASETS = 2;

export async function runSweep(world: Communicator, opts: RunOptions): Promise<number> {
  const t0 = performance.now();
  const { config } = opts;
  const outDir = resolve(opts.outDir);
  const datasets = discoverDatasets(opts.dataDir);
  if (datasets.length === 0) throw new Error(`--data ${opts.dataDir}: no *.csv files in this folder`);
  const edges = bandEdges(config.bands.map((b) => b.width));
  const store = new DiskStore(outDir, { rank: world.rank, leaseMs: opts.leaseMs });
  const mode = (opts.mode ?? plainSweep)({ config, datasets, outDir, edges, store, threads: opts.threads, ranks: world.size });
  const worker = world.size > 1 && world.rank > 0;
  const runner = new TaskRunner({
    config,
    edges,
    paths: mode.paths,
    store,
    threads: opts.threads,
    datasetEdges: mode.datasetEdges,
    keepDatasets: KEEP_DATASETS,
    afterClaim: worker ? holdAfterClaims(world.rank) : undefined,
    outputs: { outDir, sequences: mode.sequences },
    scorer: mode.scorer,
  });

  if (worker) {
    await workerLoop(world, runner);
    return 0;
  }
  log.info(mode.describe());
  await mode.prepare();
  const known = mode.known();
  if (known)
    await writeSweepIndex(
      outDir,
      known,
      datasets.map((d) => d.name),
      config,
    );
  const items = mode.items();
  let pool: MpiPool | LocalPool | undefined;
  // The SIGTERM report of tasks in flight covers every dispatch (the sweep's and the refit's).
  let uninstall = (): void => undefined;
  // The workers stay for the work after the sweep (mode.finish); they are stopped at the end, or
  // when anything on rank 0 fails, so that a caller who catches the error never leaves them waiting.
  try {
    return await sweepWith();
  } finally {
    uninstall();
    if (pool) for (const w of pool.workers) await pool.stop(w);
  }

  async function sweepWith(): Promise<number> {
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
    // its files), beside the dispatch loop; entries whose sequence has no id yet wait for settle().
    const manifests = new ManifestWriter(outDir, config, edges);
    const deferred: { label: string; dataset: string; entry: ManifestEntry }[] = [];
    const sequenceOf = (item: WorkItem): Sequence =>
      item.label !== undefined ? { id: item.seq_idx, label: item.label, methods: item.methods } : mode.sequences[item.seq_idx]!;
    let stats: DispatchStats;
    try {
      stats = await dispatch(
        pool,
        items,
        {
          onItemDone: async (item, reply) => {
            // A prefix (a beam search's item): no files, its score went to the search.
            if (item.methods.length < config.bands.length) return false;
            const seq = sequenceOf(item);
            if (reply.outputs === 'stale') {
              // Drop the old entry before the files are replaced, then have the item run again.
              await manifests.forget(seq, item.dataset);
              return true;
            }
            if (!reply.entry)
              throw new Error(`dispatcher: finished item (sequence ${seq.label}, dataset ${item.dataset}) came back without its manifest entry`);
            if (known) await manifests.record(seq, item.dataset, reply.entry);
            else deferred.push({ label: seq.label, dataset: item.dataset, entry: reply.entry });
            return false;
          },
          ...(mode.extend ? { extend: (item: WorkItem, reply: DoneMsg) => mode.extend!(item, reply) } : {}),
          onProgress: (p) => progress.update(p),
        },
        { keepDatasets: KEEP_DATASETS, stopWorkers: false },
      );
      await manifests.flush();
    } finally {
      progress.stop();
    }
    const dispatchWall = (performance.now() - tDispatch) / 1000;
    const { swept, outputs } = await mode.settle();
    if (!known) {
      const byLabel = new Map(outputs.map((s) => [s.label, s]));
      // An entry of a sequence that is not among them belongs to a dataset whose search did not end
      // (a holdout copy failed to load): its files stay, unrecorded, and the run ends non-zero.
      for (const d of deferred) {
        const seq = byLabel.get(d.label);
        if (seq) await manifests.record(seq, d.dataset, d.entry);
      }
      await manifests.flush();
      await writeSweepIndex(
        outDir,
        swept,
        datasets.map((d) => d.name),
        config,
      );
    }
    const summary = summarize(stats, mode, swept.length, datasets.length, world.size, (performance.now() - t0) / 1000);
    mode.summarize?.(summary);
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
    const farmPool = pool;
    await mode.finish({
      summary,
      farm: (more) => dispatch(farmPool, more, { onItemDone: async () => false }, { keepDatasets: KEEP_DATASETS, stopWorkers: false }),
    });
    if (stats.failedDatasets.size) {
      for (const [name, err] of stats.failedDatasets) log.error(`dataset ${name} failed: ${err}`);
      log.error(`${stats.failedDatasets.size} dataset(s) could not be processed: ${[...stats.failedDatasets.keys()].join(', ')}`);
      return 1;
    }
    return 0;
  }
}

/**
 * The run summary's counts: computed nodes; reused = node visits of finished items (each item's
 * bands with rows) beyond the computed ones; empty = distinct nodes of bands without rows (--evaluate
 * baselines put every row in band 0 by design: their later bands are not counted).
 */
function summarize(stats: DispatchStats, mode: SweepMode, nSeq: number, nData: number, ranks: number, wall: number): RunSummary {
  let empty = 0;
  for (const [name, nodes] of stats.emptyNodes) if (!mode.oneBand?.(name)) empty += nodes.size;
  return {
    groups_computed: stats.groupsComputed,
    groups_reused: Math.max(0, stats.nodeVisits - stats.groupsComputed),
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
