// What a worker does with one task: load the dataset lazily (kept while tasks for it keep
// coming), run exactly one band through runOneGroup, and describe the result for the dispatcher.
// When that finishes the (sequence, dataset), the same worker — it holds the dataset and has
// just read or computed the nodes — stitches and writes the item's output files, so rank 0 only
// records the manifest entry. With one rank, rank 0 calls this same code directly.
import type { RunConfig } from '../engine/config.js';
import { loadDataset, type DatasetState } from '../engine/dataset.js';
import { nextBand, runOneGroup, sequenceNodes, type GroupEnv } from '../engine/group.js';
import { writeDatasetOutputs, type DatasetOutputs } from '../engine/outputs.js';
import { DiskStore, type NodeRef, type NodeStore } from '../engine/store.js';
import type { Sequence } from '../engine/sweep.js';
import { log } from '../log/logger.js';
import type { DoneMsg, TaskMsg } from './protocol.js';

export interface TaskRunnerOptions {
  config: RunConfig;
  edges: readonly number[];
  /** Dataset name -> file path. */
  paths: ReadonlyMap<string, string>;
  store: NodeStore;
  threads: number;
  /** Band edges of datasets that do not use `edges` (--evaluate baselines, src/eval/plan.ts). */
  datasetEdges?: ReadonlyMap<string, readonly number[]>;
  /** Loaded datasets kept in memory. */
  keepDatasets?: number;
  /** Passed to runOneGroup (test fault injection on worker ranks). */
  afterClaim?: GroupEnv['afterClaim'];
  /** Where a finished item's files go (OUT and the sweep's sequences); none written without it. */
  outputs?: { outDir: string; sequences: readonly Sequence[] };
  /**
   * Scores the bands done of a finished task that asks for it (TaskMsg.score): nRMSE on the hidden
   * cells of the dataset (an --evaluate masked copy) in rows of those bands; null when none there.
   */
  scorer?: (ds: DatasetState, nodes: readonly NodeRef[]) => Promise<number | null>;
}

export class TaskRunner {
  private readonly loaded = new Map<string, DatasetState>();
  /** Nodes found claimed by another rank or job, reported once each. */
  private readonly waited = new Set<string>();

  constructor(private readonly opts: TaskRunnerOptions) {}

  /** Datasets read from file, and requests served from memory. */
  loads = 0;
  hits = 0;

  /** The loaded dataset (loading it if needed); throws a clear error when it cannot be read. */
  async dataset(name: string): Promise<DatasetState> {
    const hit = this.loaded.get(name);
    if (hit) {
      this.loaded.delete(name);
      this.loaded.set(name, hit);
      this.hits++;
      return hit;
    }
    const path = this.opts.paths.get(name);
    if (!path) throw new Error(`unknown dataset '${name}'`);
    const t0 = performance.now();
    const ds = await loadDataset(name, path, this.opts.datasetEdges?.get(name) ?? this.opts.edges);
    log.verbose(`loaded ${name} (${ds.matrix.nRows}×${ds.matrix.columns.length}) in ${((performance.now() - t0) / 1000).toFixed(2)} s`);
    this.loads++;
    this.loaded.set(name, ds);
    while (this.loaded.size > (this.opts.keepDatasets ?? 2)) this.loaded.delete(this.loaded.keys().next().value as string);
    return ds;
  }

  async run(task: TaskMsg): Promise<DoneMsg> {
    const base = { seq_idx: task.seq_idx, dataset: task.dataset };
    let ds: DatasetState;
    const loadsBefore = this.loads;
    try {
      ds = await this.dataset(task.dataset);
    } catch (err) {
      return { ...base, done: true, progressed: false, outcome: 'failed', band: -1, next: -1, error: (err as Error).message, loaded: true };
    }
    const loaded = this.loads > loadsBefore;
    const methods = task.methods;
    const env: GroupEnv = { config: this.opts.config, store: this.opts.store, threads: this.opts.threads, afterClaim: this.opts.afterClaim };
    const r = await runOneGroup(env, ds, methods);
    const nodes = sequenceNodes(ds, this.opts.config, methods);
    if (r.outcome === 'busy' && !this.waited.has(nodes[r.band]!.key)) {
      this.waited.add(nodes[r.band]!.key);
      log.info(
        `dataset ${task.dataset} band ${r.band} (${r.method}): node claimed by another rank or job; retried later ` +
          '(taken over once its owner is seen dead on this host or its claim is older than --lock-lease)',
      );
    }
    const next = nextBand(ds, this.opts.store, nodes);
    if (r.outcome === 'computed')
      log.verbose(`seq ${task.seq_idx} ${task.dataset} band ${r.band} (${r.method}) computed in ${r.seconds?.toFixed(2)} s`);
    let outputs: DatasetOutputs | undefined;
    // A prefix (fewer methods than bands) has no output files; a complete sequence names its
    // folder by the task's label, or by the run's sequence seq_idx.
    const complete = methods.length === this.opts.config.bands.length;
    if (next < 0 && complete && task.files !== false && this.opts.outputs) {
      const seq: Sequence | undefined =
        task.label !== undefined ? { id: task.seq_idx, label: task.label, methods } : this.opts.outputs.sequences[task.seq_idx];
      if (!seq) throw new Error(`task for unknown sequence ${task.seq_idx}`);
      outputs = await writeDatasetOutputs(this.opts.outputs.outDir, ds, seq, this.opts.config, this.opts.store);
    }
    let score: number | null | undefined;
    if (next < 0 && task.score) {
      if (!this.opts.scorer) throw new Error(`task for dataset ${task.dataset} asks for a holdout score, but this run has no holdout`);
      score = await this.opts.scorer(ds, nodes);
    }
    return {
      ...base,
      done: next < 0,
      progressed: r.progressed,
      outcome: r.outcome,
      band: r.band,
      next,
      method: r.method,
      seconds: r.seconds,
      meanFilled: r.meanFilled,
      bandRows: ds.bands.rows.map((x) => x.length),
      loaded,
      ...(this.opts.store instanceof DiskStore ? { nodeReads: this.opts.store.diskReads, nodeHits: this.opts.store.memoHits } : {}),
      ...(outputs ? { outputs: outputs.status, entry: outputs.entry } : {}),
      ...(score !== undefined ? { score } : {}),
    };
  }
}
