// The run planner: how long a sweep takes on N ranks, predicted by running the real dispatcher
// (dispatch() of ./dispatcher.ts, unchanged) over a virtual-time worker pool. The pool's workers
// behave as TaskRunners do (one band per task, the first band of the item without a result;
// empty bands skipped; a node in flight on another worker met as "busy"; the two most recently
// used datasets kept loaded; a finished item's outputs written by the worker that finished it),
// and each task lasts what a cost model says. Nothing here sleeps or reads the wall clock: the
// result depends on the costs only.
//
// Cost model (seconds):
//   task     = task_s (claiming and storing a node, messages)
//            + load_s                   when the worker does not hold the dataset (LRU of 2)
//            + node(method, shape)      when the task computes a node
//            + output_s                 when the task finishes its item (stitch, CSV, SVG)
//   node     = fixed_s + per_model_s × models + per_unit_s × units
// The node's shape: F its fit rows (every row of its band and the bands before it), T its band's
// rows, R the band's rows with a missing cell (the rows a method imputes), C the columns with a
// missing cell in the band, k the table's columns. All of them follow from the band assignment of
// the table as read (no imputation needed). models and units per method family:
//   knn                     units R × F × k      (every receiver against every fit row)
//   mean, median            units F × k          (one pass)
//   iterative_*, xgboost    models C, units C × F × k   (one model per column with a missing cell,
//                           fitted on the fit rows over the other columns; each model also has a
//                           cost of its own that does not grow with F: trees, boosting rounds)
//   lstm, rnn               units F × k          (epochs × rows; rnn's early stop ignored)
//   gan                     units min(F, batch_size) × k   (a fixed number of iterations)
// A band without a missing cell (R = 0) costs fixed_s only: the methods return its rows at once.
// A table known by its band rows only (a hand-written plan) counts every band row as a receiver
// and every column as missing in it (R = T, C = k).
//
// Each worker has a core of its own, unless the cost file has a host_parallelism profile (plan
// --same-host: the run will share this machine): then k workers busy at once each progress at
// min(1, host_parallelism[k-1] / k) of their calibrated speed, and a task's end moves whenever
// another worker starts or stops.
import { bandEdges } from '../engine/bands.js';
import { resolveMethod, type RunConfig } from '../engine/config.js';
import { expandSweep, prefixesPerBand } from '../engine/sweep.js';
import { dispatch, dispatchNodeId, type Clock, type WorkItem } from './dispatcher.js';
import type { WorkerPool } from './pool.js';
import type { DoneMsg, TaskMsg } from './protocol.js';

/** A table as the planner sees it: its name (dataset order = run order), width and rows per band. */
export interface PlanTable {
  readonly name: string;
  readonly cols: number;
  readonly bandRows: readonly number[];
  /** Per band: its rows with a missing cell (default: every row of the band). */
  readonly bandReceivers?: readonly number[];
  /** Per band: the columns with a missing cell in it (default: every column). */
  readonly bandColumns?: readonly number[];
}

/** node seconds = fixed_s + per_model_s × models + per_unit_s × units (see the header). */
export interface MethodCost {
  fixed_s?: number;
  per_model_s?: number;
  per_unit_s?: number;
}

export interface TableCosts {
  load_s?: number;
  output_s?: number;
  task_s?: number;
  methods?: Record<string, MethodCost>;
}

/** Costs for every table (top level), optionally refined per table (`tables.<name>`). */
export interface CostFile extends TableCosts {
  tables?: Record<string, TableCosts>;
  /**
   * When the run shares one machine (plan --same-host): entry k-1 is the throughput of k workers
   * busy at once relative to one (k where each has a core of its own; less when cores are fewer or
   * taken by other jobs), measured when calibrating. Absent: every worker has a core of its own.
   */
  host_parallelism?: number[];
}

/** What a node's cost depends on (see the header). */
export interface NodeShape {
  /** F: fit rows (the band's and every earlier band's). */
  readonly fit: number;
  /** T: the band's rows. */
  readonly rows: number;
  /** R: the band's rows with a missing cell. */
  readonly receivers: number;
  /** C: the columns with a missing cell in the band. */
  readonly columns: number;
  /** k: the table's columns. */
  readonly cols: number;
}

/** The shape of node (table, band): from the band row counts and, when known, the band's missing cells. */
export function nodeShape(t: PlanTable, band: number): NodeShape {
  let fit = 0;
  for (let b = 0; b <= band; b++) fit += t.bandRows[b] ?? 0;
  const rows = t.bandRows[band] ?? 0;
  return { fit, rows, receivers: t.bandReceivers?.[band] ?? rows, columns: t.bandColumns?.[band] ?? t.cols, cols: t.cols };
}

/** Methods whose cost is one model per column with a missing cell (per_model_s applies). */
export function perModelMethod(method: string): boolean {
  return method === 'xgboost' || method.startsWith('iterative_');
}

/** The law's models and units for one node of a registered method (see the header). */
export function costUnits(method: string, s: NodeShape, params: Readonly<Record<string, unknown>> = {}): { models: number; units: number } {
  if (s.receivers === 0) return { models: 0, units: 0 };
  switch (method) {
    case 'knn':
      return { models: 0, units: s.receivers * s.fit * s.cols };
    case 'mean':
    case 'median':
    case 'lstm':
    case 'rnn':
      return { models: 0, units: s.fit * s.cols };
    case 'gan':
      return { models: 0, units: Math.min(s.fit, Number(params.batch_size ?? 128)) * s.cols };
    default:
      return { models: s.columns, units: s.columns * s.fit * s.cols };
  }
}

/** The one-line statement of the scaling laws (for --help and docs). */
export const COST_LAW =
  'node seconds = fixed_s + per_model_s × models + per_unit_s × units; knn: units R×F×k; mean, median: units F×k; ' +
  'iterative_*, xgboost: models C, units C×F×k; lstm, rnn: units F×k; gan: units min(F,batch_size)×k ' +
  "(F fit rows = the band and every band before it, R the band's rows with a missing cell, C the columns with a missing cell in the band, " +
  'k columns; a band without a missing cell costs fixed_s)';

export class Costs {
  constructor(
    private readonly file: CostFile,
    private readonly config: RunConfig,
  ) {}
  private pick<K extends 'load_s' | 'output_s' | 'task_s'>(table: string, key: K): number {
    return this.file.tables?.[table]?.[key] ?? this.file[key] ?? 0;
  }
  load(table: string): number {
    return this.pick(table, 'load_s');
  }
  /** Whether busy workers slow each other down (a host_parallelism profile is given). */
  get shared(): boolean {
    return (this.file.host_parallelism?.length ?? 0) > 0;
  }
  /** The speed of each of `busy` workers busy at once, relative to one alone (1 without a profile). */
  rate(busy: number): number {
    const p = this.file.host_parallelism;
    if (!p || p.length === 0 || busy <= 1) return 1;
    const throughput = p[Math.min(busy, p.length) - 1]!;
    return Math.min(1, Math.max(throughput, 1e-3) / busy);
  }
  output(table: string): number {
    return this.pick(table, 'output_s');
  }
  task(table: string): number {
    return this.pick(table, 'task_s');
  }
  /** Seconds of node (table t, band, method); `method` as the band lists it (a method or a variant). */
  node(t: PlanTable, band: number, method: string): number {
    const c = this.file.tables?.[t.name]?.methods?.[method] ?? this.file.methods?.[method];
    if (!c) throw new Error(`no cost for method ${method} (table ${t.name}): calibrate it or give it in the costs file`);
    const resolved = resolveMethod(this.config, method);
    const { models, units } = costUnits(resolved.method, nodeShape(t, band), resolved.params);
    return (c.fixed_s ?? 0) + (c.per_model_s ?? 0) * models + (c.per_unit_s ?? 0) * units;
  }
}

/** The work items of a run, in the order runSweep builds them. */
export function planItems(config: RunConfig, tables: readonly PlanTable[]): WorkItem[] {
  const widths = config.bands.map((b) => b.width);
  return expandSweep(config).flatMap((s) => tables.map((t) => ({ seq_idx: s.id, dataset: t.name, widths, methods: [...s.methods] })));
}

/** Every node's cost summed (what one worker would compute), and the longest chain of dependent tasks. */
export function workAndCriticalPath(
  config: RunConfig,
  tables: readonly PlanTable[],
  costs: Costs,
): { nodeSeconds: number; criticalPath: number; nodes: number } {
  let nodeSeconds = 0;
  let nodes = 0;
  let criticalPath = 0;
  const perBand = prefixesPerBand(config);
  for (const t of tables) {
    let chain = costs.load(t.name) + costs.output(t.name);
    config.bands.forEach((band, b) => {
      const width = perBand[b]!;
      if ((t.bandRows[b] ?? 0) === 0) return;
      // Every prefix ending in a method pays that method's cost at this band.
      const per = band.methods.map((m) => costs.node(t, b, m) + costs.task(t.name));
      nodeSeconds += (width / band.methods.length) * per.reduce((a, c) => a + c, 0);
      nodes += width;
      chain += Math.max(...per);
    });
    criticalPath = Math.max(criticalPath, chain);
  }
  return { nodeSeconds, criticalPath, nodes };
}

/** A clock that moves only when the simulation fires its next event. */
class VirtualClock implements Clock {
  t = 0;
  readonly timers: { at: number; resolve: () => void }[] = [];
  now(): number {
    return this.t;
  }
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.timers.push({ at: this.t + ms, resolve }));
  }
}

interface Pending {
  worker: number;
  /** When it ends (virtual ms), at the present rate of the busy workers. */
  at: number;
  reply: DoneMsg;
  /** The node this task computes (claimed until `at`). */
  node?: string;
}

/** Workers whose tasks last what the cost model says, in the virtual time of `clock` (ms). */
class VirtualPool implements WorkerPool {
  readonly workers: readonly number[];
  private readonly done = new Set<string>();
  private readonly claimed = new Set<string>();
  private readonly cache = new Map<number, string[]>();
  private readonly pending: Pending[] = [];
  private readonly ready: { worker: number; reply: DoneMsg }[] = [];
  private waiter: (() => void) | undefined;
  private readonly tables: Map<string, PlanTable>;
  busySeconds = 0;
  loads = 0;
  tasks = 0;
  constructor(
    ranks: number,
    tables: readonly PlanTable[],
    private readonly costs: Costs,
    private readonly clock: VirtualClock,
    private readonly keep: number,
  ) {
    // One rank: rank 0 is its own (only) worker; otherwise ranks 1..N-1 work.
    this.workers = ranks === 1 ? [0] : Array.from({ length: ranks - 1 }, (_, i) => i + 1);
    for (const w of this.workers) this.cache.set(w, []);
    this.tables = new Map(tables.map((t) => [t.name, t]));
  }
  private nodeId(task: TaskMsg, b: number): string {
    return dispatchNodeId(task.dataset, task.methods, b);
  }
  send(worker: number, task: TaskMsg): Promise<void> {
    const t = this.tables.get(task.dataset)!;
    const cache = this.cache.get(worker)!;
    const at = cache.indexOf(task.dataset);
    const loaded = at < 0;
    if (at >= 0) cache.splice(at, 1);
    cache.unshift(task.dataset);
    cache.splice(this.keep);
    let seconds = this.costs.task(t.name) + (loaded ? this.costs.load(t.name) : 0);
    if (loaded) this.loads++;
    const undone = (from: number): number => {
      for (let b = from; b < task.methods.length; b++) if ((t.bandRows[b] ?? 0) > 0 && !this.done.has(this.nodeId(task, b))) return b;
      return -1;
    };
    const b = undone(0);
    const base = { seq_idx: task.seq_idx, dataset: task.dataset, bandRows: [...t.bandRows], loaded };
    let reply: DoneMsg;
    let node: string | undefined;
    if (b >= 0 && this.claimed.has(this.nodeId(task, b))) {
      reply = { ...base, done: false, progressed: false, outcome: 'busy', band: b, next: b, method: task.methods[b] };
    } else if (b >= 0) {
      node = this.nodeId(task, b);
      this.claimed.add(node);
      const nodeS = this.costs.node(t, b, task.methods[b]!);
      seconds += nodeS;
      // Later nodes of this prefix need this one, so none of them can be done yet.
      const next = undone(b + 1);
      if (next < 0) seconds += this.costs.output(t.name);
      reply = { ...base, done: next < 0, progressed: true, outcome: 'computed', band: b, next, method: task.methods[b], seconds: nodeS };
    } else {
      seconds += this.costs.output(t.name);
      reply = { ...base, done: true, progressed: false, outcome: 'done', band: -1, next: -1 };
    }
    if (reply.done) reply.outputs = 'written';
    reply.busy_s = seconds;
    this.busySeconds += seconds;
    this.tasks++;
    this.reshare(this.pending.length + 1);
    this.pending.push({ worker, at: this.clock.t + (seconds * 1000) / this.costs.rate(this.pending.length + 1), reply, node });
    return Promise.resolve();
  }
  /**
   * Workers sharing one machine (Costs.rate below 1): when the number of busy workers changes to
   * `busy`, the tasks in progress keep the work they have left and finish at the new rate.
   */
  private reshare(busy: number): void {
    if (!this.costs.shared) return;
    const factor = this.costs.rate(this.pending.length) / this.costs.rate(busy);
    if (factor === 1) return;
    const now = this.clock.t;
    for (const p of this.pending) p.at = now + (p.at - now) * factor;
  }
  async next(): Promise<{ worker: number; reply: DoneMsg }> {
    while (this.ready.length === 0) await new Promise<void>((resolve) => (this.waiter = resolve));
    return this.ready.shift()!;
  }
  stop(): Promise<void> {
    return Promise.resolve();
  }
  /** Fires the earliest event (a task ending, or a dispatcher timer); false when there is none. */
  advance(): boolean {
    let best = -1;
    for (let i = 0; i < this.pending.length; i++) {
      const p = this.pending[i]!;
      const b = this.pending[best];
      if (!b || p.at < b.at || (p.at === b.at && p.worker < b.worker)) best = i;
    }
    const timers = this.clock.timers;
    let tBest = -1;
    for (let i = 0; i < timers.length; i++) if (tBest < 0 || timers[i]!.at < timers[tBest]!.at) tBest = i;
    if (best < 0 && tBest < 0) return false;
    if (tBest >= 0 && (best < 0 || timers[tBest]!.at < this.pending[best]!.at)) {
      const [timer] = timers.splice(tBest, 1);
      this.clock.t = Math.max(this.clock.t, timer!.at);
      timer!.resolve();
      return true;
    }
    this.clock.t = Math.max(this.clock.t, this.pending[best]!.at);
    this.reshare(this.pending.length - 1);
    const [p] = this.pending.splice(best, 1);
    if (p!.node) {
      this.claimed.delete(p!.node);
      this.done.add(p!.node);
    }
    this.ready.push({ worker: p!.worker, reply: p!.reply });
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
    return true;
  }
}

export interface RankPrediction {
  ranks: number;
  workers: number;
  /** Predicted wall seconds of the dispatch (virtual time). */
  seconds: number;
  /** Workers' busy seconds ÷ (workers × seconds). */
  efficiency: number;
  /** Share of all ranks' time (rank 0 included) not spent on tasks: 1 − busy ÷ (ranks × seconds). */
  idle_share: number;
  /** Busy seconds summed over workers (node costs plus loads, outputs and per-task costs). */
  busy_seconds: number;
  tasks: number;
  dataset_loads: number;
}

/** Lets every pending promise callback run: the dispatcher is then waiting for an event. */
const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Runs the real dispatcher over `ranks` ranks in virtual time. */
export async function simulate(
  config: RunConfig,
  tables: readonly PlanTable[],
  costs: Costs,
  ranks: number,
  keepDatasets = 2,
): Promise<RankPrediction> {
  if (!Number.isInteger(ranks) || ranks < 1) throw new Error(`ranks must be integers >= 1 (got ${ranks})`);
  const clock = new VirtualClock();
  const pool = new VirtualPool(ranks, tables, costs, clock, keepDatasets);
  const items = planItems(config, tables);
  let finished = false;
  let failure: { error: unknown } | undefined;
  const run = dispatch(pool, items, { onItemDone: async () => false }, { clock, keepDatasets }).then(
    () => void (finished = true),
    (error: unknown) => void ((finished = true), (failure = { error })),
  );
  for (;;) {
    await turn();
    if (finished) break;
    if (!pool.advance()) throw new Error('planner: the dispatcher waits for an event that cannot come');
  }
  await run;
  if (failure) throw failure.error;
  const seconds = clock.t / 1000;
  const workers = pool.workers.length;
  const busy = pool.busySeconds;
  return {
    ranks,
    workers,
    seconds,
    efficiency: seconds > 0 ? busy / (workers * seconds) : 1,
    idle_share: seconds > 0 ? Math.max(0, 1 - busy / (ranks * seconds)) : 0,
    busy_seconds: busy,
    tasks: pool.tasks,
    dataset_loads: pool.loads,
  };
}

export interface Plan {
  ranks: RankPrediction[];
  critical_path_seconds: number;
  node_seconds: number;
  nodes: number;
  items: number;
  recommended_ranks: number | null;
  /** Why no rank count is recommended (when recommended_ranks is null). */
  no_recommendation?: string;
  /** `sbatch --time` in minutes for the recommended rank count. */
  sbatch_time_minutes: number | null;
}

/** Efficiency a recommended rank count must reach. */
export const MIN_EFFICIENCY = 0.8;
/** Safety factor on the predicted wall time, and what `--time` adds: start-up and the requeue signal offset of slurm/*.sbatch (300 s). */
export const TIME_FACTOR = 1.5;
export const STARTUP_S = 60;
export const SIGNAL_OFFSET_S = 300;

/** `sbatch --time` (minutes) for a predicted wall time: 1.5× the prediction, plus start-up and the requeue signal's offset. */
export function sbatchMinutes(predictedSeconds: number, calibrationSeconds = 0): number {
  return Math.ceil((TIME_FACTOR * predictedSeconds + calibrationSeconds + STARTUP_S + SIGNAL_OFFSET_S) / 60);
}

export async function planRun(
  config: RunConfig,
  tables: readonly PlanTable[],
  costFile: CostFile,
  rankCounts: readonly number[],
  opts: { calibrationSeconds?: number } = {},
): Promise<Plan> {
  const costs = new Costs(costFile, config);
  const { nodeSeconds, criticalPath, nodes } = workAndCriticalPath(config, tables, costs);
  const ranks: RankPrediction[] = [];
  for (const n of [...new Set(rankCounts)].sort((a, b) => a - b)) ranks.push(await simulate(config, tables, costs, n));
  const ok = ranks.filter((r) => r.efficiency >= MIN_EFFICIENCY);
  const best = ok.length ? ok[ok.length - 1]! : undefined;
  const plan: Plan = {
    ranks,
    critical_path_seconds: criticalPath,
    node_seconds: nodeSeconds,
    nodes,
    items: planItems(config, tables).length,
    recommended_ranks: best?.ranks ?? null,
    sbatch_time_minutes: best ? sbatchMinutes(best.seconds, opts.calibrationSeconds) : null,
  };
  if (!best) {
    const top = ranks.reduce((a, r) => (r.efficiency > a.efficiency ? r : a), ranks[0]!);
    plan.no_recommendation =
      `no rank count given reaches efficiency ${MIN_EFFICIENCY} (best: ${top.ranks} ranks at ${top.efficiency.toFixed(2)}); ` +
      'the sweep has too few independent nodes for that many workers: add 1 or 2 to --ranks, or plan more tables per job';
  }
  return plan;
}

/** Band edges of a config (re-exported for the calibration, which assigns bands as the run does). */
export const planEdges = (config: RunConfig): number[] => bandEdges(config.bands.map((b) => b.width));
