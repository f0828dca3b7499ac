// The workers the dispatcher drives: MPI ranks 1..N-1, or (single rank) rank 0 itself through
// the same TaskRunner a worker uses.
import { hostname } from 'node:os';

import { log } from '../log/logger.js';
import { PeerAbortingError } from '../mpi/abort.js';
import type { JsonValue } from '../mpi/codec.js';
import { TAG_DONE, TAG_ERROR, TAG_HELLO, TAG_STOP, TAG_TASK } from '../mpi/tags.js';
import type { Communicator } from '../mpi/world.js';
import { asDone, asTask, type DoneMsg, type ErrorMsg, type HelloMsg, type TaskMsg } from './protocol.js';
import { injectedFault } from './fault-inject.js';
import type { TaskRunner } from './task-runner.js';

export interface WorkerPool {
  /** Worker ids. */
  readonly workers: readonly number[];
  send(worker: number, task: TaskMsg): Promise<void>;
  /** The next reply from any worker. */
  next(): Promise<{ worker: number; reply: DoneMsg }>;
  stop(worker: number): Promise<void>;
}

export class MpiPool implements WorkerPool {
  readonly workers: readonly number[];
  /** Host name of each rank (rank 0's own, the workers' from their TAG_HELLO). */
  readonly hosts = new Map<number, string>();
  /** The task each worker was sent and has not answered yet. */
  private readonly inFlight = new Map<number, TaskMsg>();
  constructor(private readonly world: Communicator) {
    this.workers = Array.from({ length: world.size - 1 }, (_, i) => i + 1);
    this.hosts.set(world.rank, hostname());
  }
  /** Receives every worker's TAG_HELLO (its host name). Call once, before the first task. */
  async greet(): Promise<void> {
    for (let i = 0; i < this.workers.length; i++) {
      const m = await this.world.recv({ tag: TAG_HELLO });
      const host = m.kind === 'json' ? (m.payload as unknown as HelloMsg | null)?.host : undefined;
      this.hosts.set(m.source, typeof host === 'string' ? host : '?');
    }
  }
  /** "h1: ranks 0, 1; h2: ranks 2, 3": where the ranks run. */
  describeHosts(): string {
    const by = new Map<string, number[]>();
    for (const [rank, host] of [...this.hosts].sort((a, b) => a[0] - b[0])) by.set(host, [...(by.get(host) ?? []), rank]);
    return [...by].map(([host, ranks]) => `${host}: rank${ranks.length > 1 ? 's' : ''} ${ranks.join(', ')}`).join('; ');
  }
  /** One line per worker with a task in flight: its rank, its host and the task. */
  describeInFlight(): string[] {
    return [...this.inFlight]
      .sort((a, b) => a[0] - b[0])
      .map(([w, t]) => `rank ${w} on host ${this.hosts.get(w) ?? '?'}: sequence ${t.seq_idx} (${t.methods.join(', ')}) on dataset ${t.dataset}`);
  }
  send(worker: number, task: TaskMsg): Promise<void> {
    this.inFlight.set(worker, task);
    return this.world.send(worker, TAG_TASK, task as unknown as JsonValue);
  }
  async next(): Promise<{ worker: number; reply: DoneMsg }> {
    const m = await this.world.recv();
    if (m.tag === TAG_ERROR && m.kind === 'json') {
      const e = m.payload as unknown as ErrorMsg;
      // The worker aborts the job itself once its log is written.
      throw new PeerAbortingError(`worker rank ${m.source} failed (it aborts the job): ${e.message}`);
    }
    if (m.tag !== TAG_DONE || m.kind !== 'json') throw new Error(`dispatcher: unexpected message (tag ${m.tag}) from rank ${m.source}`);
    this.inFlight.delete(m.source);
    return { worker: m.source, reply: asDone(m.payload, m.source) };
  }
  stop(worker: number): Promise<void> {
    return this.world.send(worker, TAG_STOP, null);
  }
}

/** One rank: the dispatcher's only "worker" is rank 0 itself. */
export class LocalPool implements WorkerPool {
  readonly workers = [0];
  private pending: Promise<DoneMsg> | undefined;
  constructor(private readonly runner: TaskRunner) {}
  send(_worker: number, task: TaskMsg): Promise<void> {
    if (this.pending) throw new Error('LocalPool: one task at a time');
    this.pending = this.runner.run(task);
    return Promise.resolve();
  }
  async next(): Promise<{ worker: number; reply: DoneMsg }> {
    const p = this.pending;
    if (!p) throw new Error('LocalPool: no task in flight');
    try {
      return { worker: 0, reply: await p };
    } finally {
      this.pending = undefined;
    }
  }
  stop(): Promise<void> {
    return Promise.resolve();
  }
}

/**
 * A worker rank's loop: receive a task or TAG_STOP from rank 0, run one band, reply TAG_DONE.
 * An error in a task is reported to rank 0 (TAG_ERROR) and then aborts the job.
 */
export async function workerLoop(world: Communicator, runner: TaskRunner): Promise<number> {
  let tasks = 0;
  const hello: HelloMsg = { host: hostname() };
  await world.send(0, TAG_HELLO, hello as unknown as JsonValue);
  for (;;) {
    const m = await world.recv({ source: 0 });
    if (m.tag === TAG_STOP) break;
    if (m.tag !== TAG_TASK || m.kind !== 'json') throw new Error(`worker ${world.rank}: unexpected message (tag ${m.tag}) from rank 0`);
    const task = asTask(m.payload, 0);
    let reply: DoneMsg;
    try {
      injectedFault(world.rank);
      const t0 = performance.now();
      reply = await runner.run(task);
      reply.busy_s = (performance.now() - t0) / 1000;
    } catch (err) {
      const message = `seq ${task.seq_idx}, dataset ${task.dataset}: ${(err as Error).stack ?? String(err)}`;
      log.error(message);
      await world.send(0, TAG_ERROR, { rank: world.rank, message });
      throw err;
    }
    await world.send(0, TAG_DONE, reply as unknown as JsonValue);
    tasks++;
  }
  log.verbose(`worker ${world.rank}: stopped after ${tasks} tasks`);
  return tasks;
}
