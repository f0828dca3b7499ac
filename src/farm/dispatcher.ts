// Rank 0's dispatcher (the reference design's section 9), without lock spinning.
//
// The queue holds (seq_idx, dataset, widths, methods) items. Every idle worker is primed; then,
// for each TAG_DONE reply the freed worker gets its next item at once (or TAG_STOP when nothing
// is left), and only then is the reply's bookkeeping that involves I/O started: an unfinished
// item is requeued; a finished one (its outputs already written by the worker that finished it)
// goes to `hooks.onItemDone`, which runs beside the dispatch loop and is never awaited on its
// path. Better than the reference: the dispatcher knows which prefix-tree node each in-flight task
// computes and never hands out an item whose next node is being computed by another rank; such
// items wait (and so may a worker) until that node is done.
//
// Locality: the dispatcher mirrors which datasets each worker keeps loaded (the TaskRunner's most
// recently used ones) and offers a worker items of those first, then items of datasets no worker
// holds, then any. Which worker computes a node never changes its result (seeds come from the
// node), so this changes loads, not outputs.
//
// Time: every decision that depends on time (when an item found claimed by another job is offered
// again) reads the injected Clock, so tests drive the dispatcher in virtual time.
import { log } from '../log/logger.js';
import type { DoneMsg, TaskMsg } from './protocol.js';
import type { WorkerPool } from './pool.js';

export interface WorkItem {
  readonly seq_idx: number;
  readonly dataset: string;
  readonly widths: readonly number[];
  /** One method per band, or a prefix (its bands only). */
  readonly methods: readonly string[];
  /** TaskMsg.label, score and files. */
  readonly label?: string;
  readonly score?: boolean;
  readonly files?: false;
}

export interface WorkerLoads {
  /** Tasks for which the worker read its dataset from file. */
  loads: number;
  /** Tasks served from a dataset the worker already held. */
  hits: number;
  /** Node results the worker read from disk, and from memory (its latest running totals). */
  nodeReads: number;
  nodeHits: number;
}

export interface DispatchStats {
  groupsComputed: number;
  /** Nodes computed per dataset (as the farm names it). */
  computedByDataset: Map<string, number>;
  requeuesWithoutProgress: number;
  secondsPerMethod: Record<string, number>;
  meanFilledCells: number;
  /** Rows per band, per dataset, as reported by workers. */
  bandRows: Map<string, number[]>;
  failedDatasets: Map<string, string>;
  itemsDone: number;
  /**
   * Over finished items: the nodes of their bands that have rows (each visit counts: a node shared
   * by many items is computed once and reused by the others), and the distinct nodes of their
   * bands without rows (never computed), by dataset.
   */
  nodeVisits: number;
  emptyNodes: Map<string, Set<string>>;
  /** Sum of the workers' busy seconds (as they report them). */
  workerBusySeconds: number;
  /** Dataset loads and in-memory hits per worker. */
  loads: Map<number, WorkerLoads>;
  /** Replies handled, and rank 0's time from receiving a reply to having fed the freed worker (ms). */
  replies: number;
  replyMs: number;
}

export interface DispatchHooks {
  /**
   * Called when every band of (sequence, dataset) is done and the worker that finished it has
   * dealt with its outputs (the reply says how). It runs beside the dispatch loop: workers keep
   * getting work meanwhile, and the dispatcher awaits every such call before it returns (the first
   * failure fails the dispatch). Resolves to true when the item must run once more (its outputs
   * could not be written yet), false when it is finished.
   */
  onItemDone(item: WorkItem, reply: DoneMsg): Promise<boolean>;
  /**
   * Work that a finished item makes possible (a beam search's next band, once the scores it ranks
   * by are in). Called for every reply that finishes an item (an item whose outputs had to be
   * rewritten finishes twice, so it must tolerate a repeat), on the dispatch path, before the freed
   * worker is fed: it must only decide, never compute. While it is given, idle workers are kept
   * until no item is in flight (a reply may still bring work).
   */
  extend?(item: WorkItem, reply: DoneMsg): readonly WorkItem[];
  /** Progress after each reply. */
  onProgress?(p: { itemsDone: number; items: number; slotsDone: number; slots: number; computed: number }): void;
}

/** The time source of the dispatcher's retry decisions. */
export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

export interface DispatchOptions {
  clock?: Clock;
  /** Datasets a worker keeps loaded (TaskRunnerOptions.keepDatasets); default 2. */
  keepDatasets?: number;
  /**
   * Send TAG_STOP to each worker once nothing is left for it (default true). false: the workers
   * are left waiting for more (a later dispatch over the same pool); the caller stops them.
   */
  stopWorkers?: boolean;
}

/**
 * The dispatcher's name for prefix-tree node (band b, methods[0..b]) of a dataset, within one run.
 * It is not the engine's node key (src/engine/keys.ts nodeKey): that key hashes the input file's
 * bytes, and rank 0 does not read the tables to dispatch them (workers load them lazily; hashing
 * every input first would delay the first task by a full read of each). Within one run the
 * configuration (edges, parameters, seed) is fixed and a dataset name stands for one file, so
 * (dataset, band, method prefix) names the node nodeKey names; across runs and jobs the key (and
 * the node's lock file) is what counts. The id only decides what to hand out next, never a
 * result. See docs/design.md.
 */
export function dispatchNodeId(dataset: string, methods: readonly string[], b: number): string {
  return `${dataset}\u0000${b}\u0000${methods.slice(0, b + 1).join(',')}`;
}

/** Delay before an item whose node is claimed by another job is offered again. */
export const BUSY_RETRY_MS = 500;

interface Queued {
  item: WorkItem;
  /** First band known to still need a result (from the last reply; 0 before any). */
  next: number;
  notBefore: number;
}

type Event = { kind: 'reply'; worker: number; reply: DoneMsg } | { kind: 'hook' } | { kind: 'timer' };

export async function dispatch(
  pool: WorkerPool,
  items: readonly WorkItem[],
  hooks: DispatchHooks,
  opts: DispatchOptions = {},
): Promise<DispatchStats> {
  const clock = opts.clock ?? systemClock;
  const keep = Math.max(1, opts.keepDatasets ?? 2);
  const stopWorkers = opts.stopWorkers ?? true;
  const stats: DispatchStats = {
    groupsComputed: 0,
    computedByDataset: new Map(),
    requeuesWithoutProgress: 0,
    secondsPerMethod: {},
    meanFilledCells: 0,
    bandRows: new Map(),
    failedDatasets: new Map(),
    itemsDone: 0,
    nodeVisits: 0,
    emptyNodes: new Map(),
    workerBusySeconds: 0,
    loads: new Map(),
    replies: 0,
    replyMs: 0,
  };
  const queue = new WorkQueue(items.map((item) => ({ item, next: 0, notBefore: 0 })));
  const inFlight = new Map<number, { q: Queued; node: string | null }>();
  const inFlightNodes = new Set<string>();
  const doneNodes = new Set<string>();
  const idle: number[] = [];
  /** Datasets each worker holds, most recently used first (a mirror of its TaskRunner's cache). */
  const held = new Map<number, string[]>();
  /** How many workers hold each dataset. */
  const holders = new Map<string, number>();
  let itemCount = items.length;
  let slots = items.reduce((a, i) => a + i.methods.length, 0);
  const resolved = new Map<Queued, number>();
  let slotsDone = 0;

  const nodeId = (item: WorkItem, b: number): string => dispatchNodeId(item.dataset, item.methods, b);
  /** The node this item would compute next, as far as the dispatcher knows (null = none left). */
  const predicted = (q: Queued): string | null => {
    const rows = stats.bandRows.get(q.item.dataset);
    for (let b = Math.max(q.next, 0); b < q.item.methods.length; b++) {
      if (rows && rows[b] === 0) continue;
      const id = nodeId(q.item, b);
      if (!doneNodes.has(id)) return id;
    }
    return null;
  };

  const hold = (worker: number, dataset: string): void => {
    const list = held.get(worker) ?? [];
    const at = list.indexOf(dataset);
    if (at >= 0) list.splice(at, 1);
    else holders.set(dataset, (holders.get(dataset) ?? 0) + 1);
    list.unshift(dataset);
    for (const gone of list.splice(keep)) holders.set(gone, (holders.get(gone) ?? 1) - 1);
    held.set(worker, list);
  };

  const assign = async (worker: number): Promise<boolean> => {
    const now = clock.now();
    let node: string | null = null;
    const q = queue.take(
      (c) => {
        if (c.notBefore > now) return false;
        node = predicted(c);
        return node === null || !inFlightNodes.has(node);
      },
      held.get(worker) ?? [],
      (dataset) => (holders.get(dataset) ?? 0) > 0,
    );
    if (!q) return false;
    if (node) inFlightNodes.add(node);
    inFlight.set(worker, { q, node });
    hold(worker, q.item.dataset);
    const task: TaskMsg = {
      seq_idx: q.item.seq_idx,
      dataset: q.item.dataset,
      widths: [...q.item.widths],
      methods: [...q.item.methods],
      ...(q.item.label !== undefined ? { label: q.item.label } : {}),
      ...(q.item.score ? { score: true } : {}),
      ...(q.item.files === false ? { files: false as const } : {}),
    };
    await pool.send(worker, task);
    return true;
  };

  /** Hands work to every waiting worker that can get some; stops them once nothing can come back. */
  const feed = async (): Promise<void> => {
    // Whether an item may run does not depend on the worker (only the order in which a worker
    // looks at the datasets does), so once one idle worker finds nothing, none can: stop there.
    // This keeps a reply's handling independent of how many workers wait (thousands of ranks).
    while (idle.length > 0 && (await assign(idle[0]!))) idle.shift();
    // An item whose outputs are being dealt with may still come back (onItemDone resolving true).
    // With `extend`, an item in flight may still bring more.
    if (stopWorkers && queue.length === 0 && hooksPending.size === 0 && !(hooks.extend && inFlight.size > 0))
      for (const w of idle.splice(0)) await pool.stop(w);
  };

  const progress = (): void => hooks.onProgress?.({ itemsDone: stats.itemsDone, items: itemCount, slotsDone, slots, computed: stats.groupsComputed });

  // Finished items whose outputs are being recorded; settling one wakes the loop, which then
  // feeds (a requeued item may be waiting) before it waits again.
  const hooksPending = new Set<Promise<void>>();
  let hookFailure: { error: unknown } | undefined;
  let hookEvents = 0;
  let hookEventsSeen = 0;
  let wakeOnHook: (() => void) | undefined;
  const settled = (): void => {
    hookEvents++;
    wakeOnHook?.();
  };
  const countNodes = (item: WorkItem): void => {
    const rows = stats.bandRows.get(item.dataset);
    if (!rows) return;
    for (let b = 0; b < item.methods.length; b++) {
      if (rows[b]! > 0) stats.nodeVisits++;
      else {
        let empty = stats.emptyNodes.get(item.dataset);
        if (!empty) stats.emptyNodes.set(item.dataset, (empty = new Set()));
        empty.add(nodeId(item, b));
      }
    }
  };
  const finish = (q: Queued, reply: DoneMsg): void => {
    const p: Promise<void> = hooks.onItemDone(q.item, reply).then(
      (again) => {
        hooksPending.delete(p);
        if (again) {
          q.next = -1;
          q.notBefore = 0;
          queue.push(q);
        } else {
          stats.itemsDone++;
          countNodes(q.item);
          progress();
        }
        settled();
      },
      (error: unknown) => {
        hooksPending.delete(p);
        hookFailure ??= { error };
        settled();
      },
    );
    hooksPending.add(p);
  };

  let pendingReply: Promise<Event> | undefined;
  let pendingTimer: Promise<Event> | undefined;
  idle.push(...pool.workers);
  await feed();
  while (inFlight.size > 0 || queue.length > 0 || hooksPending.size > 0) {
    if (hookFailure) throw hookFailure.error;
    if (hookEvents !== hookEventsSeen) {
      hookEventsSeen = hookEvents;
      await feed();
      continue;
    }
    const waits: Promise<Event>[] = [];
    // One outstanding receive across turns: a reply that arrives while we wake up for something
    // else (a busy item's retry, a finished item's outputs) must not be lost.
    if (inFlight.size > 0) waits.push((pendingReply ??= pool.next().then(({ worker, reply }) => ({ kind: 'reply', worker, reply }) as Event)));
    if (hooksPending.size > 0) waits.push(new Promise<Event>((resolve) => (wakeOnHook = () => resolve({ kind: 'hook' }))));
    // Idle workers and items claimed by another job: offer them again after a while.
    if (idle.length > 0 && queue.some((c) => c.notBefore > clock.now())) {
      waits.push((pendingTimer ??= clock.sleep(BUSY_RETRY_MS).then(() => ({ kind: 'timer' }) as Event)));
    }
    if (waits.length === 0) throw new Error(`dispatcher: ${queue.length} item(s) left that no idle worker can take`);
    const ev = await Promise.race(waits);
    wakeOnHook = undefined;
    if (ev.kind === 'hook') continue;
    if (ev.kind === 'timer') {
      pendingTimer = undefined;
      await feed();
      continue;
    }
    pendingReply = undefined;
    const t0 = performance.now();
    const { worker, reply } = ev;
    const flight = inFlight.get(worker);
    if (!flight) throw new Error(`dispatcher: reply from worker ${worker}, which has no task`);
    inFlight.delete(worker);
    if (flight.node) inFlightNodes.delete(flight.node);
    const q = flight.q;
    account(stats, q.item, reply, doneNodes, nodeId);
    stats.workerBusySeconds += reply.busy_s ?? 0;
    if (reply.loaded !== undefined) {
      const l = stats.loads.get(worker) ?? { loads: 0, hits: 0, nodeReads: 0, nodeHits: 0 };
      if (reply.loaded) l.loads++;
      else l.hits++;
      l.nodeReads = Math.max(l.nodeReads, reply.nodeReads ?? 0);
      l.nodeHits = Math.max(l.nodeHits, reply.nodeHits ?? 0);
      stats.loads.set(worker, l);
    }
    const newly = reply.done ? q.item.methods.length : Math.max(reply.next, 0);
    slotsDone += newly - (resolved.get(q) ?? 0);
    resolved.set(q, newly);
    let finished = false;
    if (reply.error !== undefined) {
      if (!stats.failedDatasets.has(q.item.dataset)) {
        stats.failedDatasets.set(q.item.dataset, reply.error);
        log.error(
          `dataset ${q.item.dataset} cannot be loaded, dropping its ${items.filter((x) => x.dataset === q.item.dataset).length} work items: ${reply.error}`,
        );
      }
      queue.removeDataset(q.item.dataset);
    } else if (reply.done) {
      finished = true;
      const more = hooks.extend?.(q.item, reply) ?? [];
      for (const item of more) queue.push({ item, next: 0, notBefore: 0 });
      itemCount += more.length;
      slots += more.reduce((a, i) => a + i.methods.length, 0);
    } else {
      if (!reply.progressed) {
        stats.requeuesWithoutProgress++;
        q.notBefore = clock.now() + BUSY_RETRY_MS;
      }
      q.next = reply.next;
      queue.push(q);
    }
    // The freed worker first; what a finished item still needs runs beside the loop.
    idle.unshift(worker);
    if (finished) {
      // Counted as pending before feeding, so that no worker is stopped while it may come back.
      finish(q, reply);
    }
    await feed();
    stats.replies++;
    stats.replyMs += performance.now() - t0;
    progress();
  }
  if (hookFailure) throw hookFailure.error;
  if (stopWorkers && idle.length) for (const w of idle.splice(0)) await pool.stop(w);
  return stats;
}

function account(stats: DispatchStats, item: WorkItem, r: DoneMsg, doneNodes: Set<string>, nodeId: (i: WorkItem, b: number) => string): void {
  if (r.bandRows && !stats.bandRows.has(item.dataset)) stats.bandRows.set(item.dataset, r.bandRows);
  if (r.outcome === 'computed' || r.outcome === 'reused') doneNodes.add(nodeId(item, r.band));
  if (r.outcome === 'computed') {
    stats.groupsComputed++;
    stats.computedByDataset.set(item.dataset, (stats.computedByDataset.get(item.dataset) ?? 0) + 1);
    if (r.method) stats.secondsPerMethod[r.method] = (stats.secondsPerMethod[r.method] ?? 0) + (r.seconds ?? 0);
    stats.meanFilledCells += r.meanFilled ?? 0;
  }
  // Nodes before `next` are done too (found on disk, or computed by others).
  for (let b = 0; b < (r.next < 0 ? item.methods.length : r.next); b++) doneNodes.add(nodeId(item, b));
}

/**
 * The waiting items, one FIFO per dataset (datasets in the order they were first queued, a
 * dataset whose list empties going to the back when it comes again). `take` looks at the
 * preferred datasets first, then at datasets nobody holds, then at the rest, scanning each list
 * only past items that cannot run yet.
 */
class WorkQueue {
  private readonly lists = new Map<string, Queued[]>();
  private n = 0;
  constructor(items: readonly Queued[]) {
    for (const q of items) this.push(q);
  }
  get length(): number {
    return this.n;
  }
  push(q: Queued): void {
    let list = this.lists.get(q.item.dataset);
    if (!list) this.lists.set(q.item.dataset, (list = []));
    list.push(q);
    this.n++;
  }
  /** Removes and returns the first item accepted by `ok`, in the order described above. */
  take(ok: (q: Queued) => boolean, prefer: readonly string[], isHeld: (dataset: string) => boolean): Queued | undefined {
    for (const dataset of prefer) {
      const q = this.takeFrom(dataset, ok);
      if (q) return q;
    }
    for (const pass of [false, true]) {
      for (const dataset of this.lists.keys()) {
        if (prefer.includes(dataset) || isHeld(dataset) !== pass) continue;
        const q = this.takeFrom(dataset, ok);
        if (q) return q;
      }
    }
    return undefined;
  }
  some(pred: (q: Queued) => boolean): boolean {
    for (const list of this.lists.values()) if (list.some(pred)) return true;
    return false;
  }
  removeDataset(dataset: string): void {
    this.n -= this.lists.get(dataset)?.length ?? 0;
    this.lists.delete(dataset);
  }
  private takeFrom(dataset: string, ok: (q: Queued) => boolean): Queued | undefined {
    const list = this.lists.get(dataset);
    if (!list) return undefined;
    const i = list.findIndex(ok);
    if (i < 0) return undefined;
    const [q] = list.splice(i, 1);
    if (list.length === 0) this.lists.delete(dataset);
    this.n--;
    return q;
  }
}
