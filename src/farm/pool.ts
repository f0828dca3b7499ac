// The workers the dispatcher drives: MPI ranks 1..N-1, or (single rank) rank 0 itself through
// the same TaskRunner a worker uses.
import { log } from '../log/logger.js';
import type { JsonValue } from '../mpi/codec.js';
import { TAG_DONE, TAG_ERROR, TAG_STOP, TAG_TASK } from '../mpi/tags.js';
import type { Communicator } from '../mpi/world.js';
import { asDone, asTask, type DoneMsg, type ErrorMsg, type TaskMsg } from './protocol.js';
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
  constructor(private readonly world: Communicator) {
    this.workers = Array.from({ length: world.size - 1 }, (_, i) => i + 1);
  }
  send(worker: number, task: TaskMsg): Promise<void> {
    return this.world.send(worker, TAG_TASK, task as unknown as JsonValue);
  }
  async next(): Promise<{ worker: number; reply: DoneMsg }> {
    const m = await this.world.recv();
    if (m.tag === TAG_ERROR && m.kind === 'json') {
      const e = m.payload as unknown as ErrorMsg;
      throw new Error(`worker rank ${m.source} failed: ${e.message}`);
    }
    if (m.tag !== TAG_DONE || m.kind !== 'json') throw new Error(`dispatcher: unexpected message (tag ${m.tag}) from rank ${m.source}`);
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
  for (;;) {
    const m = await world.recv({ source: 0 });
    if (m.tag === TAG_STOP) break;
    if (m.tag !== TAG_TASK || m.kind !== 'json') throw new Error(`worker ${world.rank}: unexpected message (tag ${m.tag}) from rank 0`);
    const task = asTask(m.payload, 0);
    let reply: DoneMsg;
    try {
      injectedFault(world.rank);
      reply = await runner.run(task);
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
