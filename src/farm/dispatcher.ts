// Rank 0's dispatcher (the reference design's section 9), without lock spinning.
//
// The queue holds (seq_idx, dataset, widths, methods) items. Every idle worker is primed; then,
// for each TAG_DONE reply: if all bands of that (sequence, dataset) are done its final outputs are
// stitched, else the item is requeued; the freed worker gets the next item, or TAG_STOP when the
// queue is empty. Better than the reference: the dispatcher knows which prefix-tree node each
// in-flight task computes and never hands out an item whose next node is being computed by
// another rank; such items wait (and so may a worker) until that node is done.
import { log } from '../log/logger.js';
import type { DoneMsg, TaskMsg } from './protocol.js';
import type { WorkerPool } from './pool.js';

export interface WorkItem {
  readonly seq_idx: number;
  readonly dataset: string;
  readonly widths: readonly number[];
  readonly methods: readonly string[];
}

export interface DispatchStats {
  groupsComputed: number;
  reusedAfterWait: number;
  requeuesWithoutProgress: number;
  secondsPerMethod: Record<string, number>;
  meanFilledCells: number;
  /** Rows per band, per dataset, as reported by workers. */
  bandRows: Map<string, number[]>;
  failedDatasets: Map<string, string>;
  itemsDone: number;
}

export interface DispatchHooks {
  /** Called on rank 0 when every band of (sequence, dataset) is done. */
  onItemDone(item: WorkItem): Promise<void>;
  /** Progress after each reply. */
  onProgress?(p: { itemsDone: number; items: number; slotsDone: number; slots: number; computed: number }): void;
}

/** Delay before an item whose node is claimed by another job is offered again. */
const BUSY_RETRY_MS = 500;

interface Queued {
  item: WorkItem;
  /** First band known to still need a result (from the last reply; 0 before any). */
  next: number;
  notBefore: number;
}

export async function dispatch(pool: WorkerPool, items: readonly WorkItem[], hooks: DispatchHooks): Promise<DispatchStats> {
  const stats: DispatchStats = {
    groupsComputed: 0,
    reusedAfterWait: 0,
    requeuesWithoutProgress: 0,
    secondsPerMethod: {},
    meanFilledCells: 0,
    bandRows: new Map(),
    failedDatasets: new Map(),
    itemsDone: 0,
  };
  const queue = new WorkQueue(items.map((item) => ({ item, next: 0, notBefore: 0 })));
  const inFlight = new Map<number, { q: Queued; node: string | null }>();
  const inFlightNodes = new Set<string>();
  const doneNodes = new Set<string>();
  const idle: number[] = [];
  const nb = items[0]?.methods.length ?? 0;
  const slots = items.length * nb;
  const resolved = new Map<Queued, number>();
  let slotsDone = 0;

  const nodeId = (item: WorkItem, b: number): string => `${item.dataset}\u0000${b}\u0000${item.methods.slice(0, b + 1).join(',')}`;
  /** The node this item would compute next, as far as the dispatcher knows (null = none left). */
  const predicted = (q: Queued): string | null => {
    const rows = stats.bandRows.get(q.item.dataset);
    for (let b = Math.max(q.next, 0); b < nb; b++) {
      if (rows && rows[b] === 0) continue;
      const id = nodeId(q.item, b);
      if (!doneNodes.has(id)) return id;
    }
    return null;
  };

  const assign = async (worker: number): Promise<boolean> => {
    const now = Date.now();
    let node: string | null = null;
    const q = queue.take((c) => {
      if (c.notBefore > now) return false;
      node = predicted(c);
      return node === null || !inFlightNodes.has(node);
    });
    if (!q) return false;
    if (node) inFlightNodes.add(node);
    inFlight.set(worker, { q, node });
    const task: TaskMsg = { seq_idx: q.item.seq_idx, dataset: q.item.dataset, widths: [...q.item.widths], methods: [...q.item.methods] };
    await pool.send(worker, task);
    return true;
  };

  /** Hands work to every waiting worker that can get some; stops them once the queue is empty. */
  const feed = async (): Promise<void> => {
    for (let k = 0; k < idle.length; ) {
      if (await assign(idle[k]!)) idle.splice(k, 1);
      else k++;
    }
    if (queue.length === 0) for (const w of idle.splice(0)) await pool.stop(w);
  };

  let pendingReply: Promise<{ worker: number; reply: DoneMsg }> | undefined;
  idle.push(...pool.workers);
  await feed();
  while (inFlight.size > 0 || queue.length > 0) {
    if (inFlight.size === 0) {
      // Only items claimed by another job are left: wait, then offer them again.
      await sleep(BUSY_RETRY_MS);
      await feed();
      continue;
    }
    const wake = idle.length > 0 && queue.some((c) => c.notBefore > Date.now());
    // One outstanding receive across turns: a reply that arrives while we wake up to retry a
    // busy item must not be lost.
    pendingReply ??= pool.next();
    const got = await (wake ? Promise.race([pendingReply, sleep(BUSY_RETRY_MS).then(() => null)]) : pendingReply);
    if (got === null) {
      await feed();
      continue;
    }
    pendingReply = undefined;
    const { worker, reply } = got;
    const flight = inFlight.get(worker);
    if (!flight) throw new Error(`dispatcher: reply from worker ${worker}, which has no task`);
    inFlight.delete(worker);
    if (flight.node) inFlightNodes.delete(flight.node);
    const q = flight.q;
    account(stats, q.item, reply, doneNodes, nodeId);
    const newly = reply.done ? nb : Math.max(reply.next, 0);
    slotsDone += newly - (resolved.get(q) ?? 0);
    resolved.set(q, newly);
    if (reply.error !== undefined) {
      if (!stats.failedDatasets.has(q.item.dataset)) {
        stats.failedDatasets.set(q.item.dataset, reply.error);
        log.error(`dataset ${q.item.dataset} cannot be loaded, dropping its ${items.filter((x) => x.dataset === q.item.dataset).length} work items: ${reply.error}`);
      }
      queue.removeWhere((c) => c.item.dataset === q.item.dataset);
    } else if (reply.done) {
      await hooks.onItemDone(q.item);
      stats.itemsDone++;
    } else {
      if (!reply.progressed) {
        stats.requeuesWithoutProgress++;
        q.notBefore = Date.now() + BUSY_RETRY_MS;
      }
      q.next = reply.next;
      queue.push(q);
    }
    hooks.onProgress?.({ itemsDone: stats.itemsDone, items: items.length, slotsDone, slots, computed: stats.groupsComputed });
    idle.unshift(worker);
    await feed();
  }
  if (idle.length) for (const w of idle.splice(0)) await pool.stop(w);
  return stats;
}

function account(stats: DispatchStats, item: WorkItem, r: DoneMsg, doneNodes: Set<string>, nodeId: (i: WorkItem, b: number) => string): void {
  if (r.bandRows && !stats.bandRows.has(item.dataset)) stats.bandRows.set(item.dataset, r.bandRows);
  if (r.outcome === 'computed' || r.outcome === 'reused') doneNodes.add(nodeId(item, r.band));
  if (r.outcome === 'computed') {
    stats.groupsComputed++;
    if (r.method) stats.secondsPerMethod[r.method] = (stats.secondsPerMethod[r.method] ?? 0) + (r.seconds ?? 0);
    stats.meanFilledCells += r.meanFilled ?? 0;
  }
  if (r.outcome === 'reused') stats.reusedAfterWait++;
  // Nodes before `next` are done too (found on disk, or computed by others).
  for (let b = 0; b < (r.next < 0 ? item.methods.length : r.next); b++) doneNodes.add(nodeId(item, b));
}

/** FIFO of waiting items: O(1) take from the front (the common case), scans only past blocked items. */
class WorkQueue {
  private head = 0;
  constructor(private items: Queued[]) {}
  get length(): number {
    return this.items.length - this.head;
  }
  push(q: Queued): void {
    this.items.push(q);
  }
  /** Removes and returns the first item accepted by `ok`. */
  take(ok: (q: Queued) => boolean): Queued | undefined {
    for (let i = this.head; i < this.items.length; i++) {
      const q = this.items[i]!;
      if (!ok(q)) continue;
      if (i === this.head) {
        this.head++;
        if (this.head > 1024 && this.head * 2 > this.items.length) {
          this.items = this.items.slice(this.head);
          this.head = 0;
        }
      } else this.items.splice(i, 1);
      return q;
    }
    return undefined;
  }
  some(pred: (q: Queued) => boolean): boolean {
    for (let i = this.head; i < this.items.length; i++) if (pred(this.items[i]!)) return true;
    return false;
  }
  removeWhere(pred: (q: Queued) => boolean): void {
    this.items = this.items.slice(this.head).filter((q) => !pred(q));
    this.head = 0;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
