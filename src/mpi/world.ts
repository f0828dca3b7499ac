// The world communicator: a real MPI world under a launcher, a single-rank world without one.
// Receives never block Node's event loop: each recv first spins briefly inside the addon
// (bounded, default 20 µs, catches ping-pong replies at near-C latency), then is polled from
// the event loop: with setImmediate for `hotWindowMs` after the last progress (a peer that was
// descheduled for a time slice must not push us into timer sleeps), then with timers backing
// off to 2 ms (idle ranks on an oversubscribed node must not starve the busy ones).
// recvSync() is the same first step without a promise: for code that alternates sends and
// receives (ping-pong, request/reply) and would otherwise pay a promise and a microtask per message.
import { buildInfo, buildInfoPath, mpiBuildHowTo, mpiBuilt, rebuildCommand } from '../bindings/paths.js';
import { loadAddon } from '../bindings/load.js';
import { decode, encode, KIND_BYTES, type Decoded, type Payload } from './codec.js';
import { detectLaunch, type Launch } from './launch.js';
import { ANY_SOURCE, ANY_TAG, type Tag } from './tags.js';

export type Message = { source: number; tag: number; length: number } & Decoded;

export interface RecvOptions {
  source?: number;
  tag?: Tag | typeof ANY_TAG;
  /** Receive a bytes payload into this buffer when it is large enough (no allocation). */
  into?: Uint8Array;
}

export interface ProbeResult {
  source: number;
  tag: number;
  length: number;
}

export interface Communicator {
  readonly rank: number;
  readonly size: number;
  readonly launch: Launch;
  /** True when backed by a real MPI library. */
  readonly isMpi: boolean;
  /** Resolves once MPI no longer needs the payload's memory. */
  send(dest: number, tag: Tag, payload: Payload): Promise<void>;
  recv(options?: RecvOptions): Promise<Message>;
  /**
   * Synchronous receive: the matching message if it is already there or arrives within the bounded
   * spin (`spinMicros`, default pollTuning.spinMicros), else null and nothing is consumed. Never
   * blocks longer than the spin. Returns null while recv() calls are still pending, so messages are
   * still taken in call order. Typical use: `w.recvSync(o) ?? (await w.recv(o))`.
   */
  recvSync(options?: RecvOptions & { spinMicros?: number }): Message | null;
  /** Non-blocking probe: a matching message's envelope, or null. */
  probe(options?: { source?: number; tag?: Tag | typeof ANY_TAG }): ProbeResult | null;
  barrier(): Promise<void>;
  /** Ends the whole job (every rank) with this exit code. */
  abort(code: number): never;
  /** Ends MPI cleanly on this rank. Call once, after all sends completed. */
  finalize(): void;
  /** Library, version and thread level, for `hierimpute info`. */
  libraryVersion(): string;
  threadLevel(): string;
  processorName(): string;
}

interface MpiAddon {
  init(level: number): number;
  rank(): number;
  size(): number;
  libraryVersion(): string;
  processorName(): string;
  threadLevels(): Record<'single' | 'funneled' | 'serialized' | 'multiple', number>;
  send(dest: number, tag: number, kind: number, body: Uint8Array): number;
  test(id: number): boolean;
  pendingCount(): number;
  /** Returns the payload (a new Buffer, or `into`); the envelope lands in the status array. */
  tryRecv(source: number, tag: number, spinMicros: number, into?: Uint8Array): Uint8Array | null;
  setStatusArray(status: Int32Array): void;
  probe(source: number, tag: number): ProbeResult | null;
  ibarrier(): number;
  abort(code: number): never;
  finalize(): void;
  wtime(): number;
  state(): { initialized: boolean; finalized: boolean };
}

/** Tuning of the receive poller; exported for the benchmark. */
export const pollTuning = {
  spinMicros: 20,
  /** How long after the last progress polling stays on setImmediate before timers take over. */
  hotWindowMs: 20,
  maxDelayMs: 2,
};

/** What send() returns when MPI is already done with the payload: shared, nothing allocated. */
const SENT: Promise<void> = Promise.resolve();

type Waiter =
  | { kind: 'recv'; source: number; tag: number; into?: Uint8Array; resolve: (m: Message) => void; reject: (e: Error) => void }
  | { kind: 'request'; id: number; resolve: () => void; reject: (e: Error) => void };

class MpiWorld implements Communicator {
  readonly isMpi = true;
  readonly rank: number;
  readonly size: number;
  private readonly waiters: Waiter[] = [];
  private scheduled = false;
  private lastProgress = 0;
  private readonly provided: number;
  private finalized = false;
  private readonly status = new Int32Array(4);

  constructor(
    private readonly addon: MpiAddon,
    readonly launch: Launch,
  ) {
    const levels = addon.threadLevels();
    this.provided = addon.init(levels.serialized);
    addon.setStatusArray(this.status);
    this.rank = addon.rank();
    this.size = addon.size();
  }

  threadLevel(): string {
    const levels = this.addon.threadLevels();
    const name = (Object.keys(levels) as (keyof typeof levels)[]).find((k) => levels[k] === this.provided);
    return `MPI_THREAD_${(name ?? String(this.provided)).toUpperCase()}`;
  }
  libraryVersion(): string {
    return this.addon.libraryVersion();
  }
  processorName(): string {
    return this.addon.processorName();
  }

  send(dest: number, tag: Tag, payload: Payload): Promise<void> {
    this.checkPeer(dest, 'send to');
    const { kind, body } = encode(payload);
    const id = this.addon.send(dest, tag, kind, body);
    if (id === 0) return SENT;
    return new Promise((resolve, reject) => this.enqueue({ kind: 'request', id, resolve, reject }));
  }

  recv(options: RecvOptions = {}): Promise<Message> {
    const source = options.source ?? ANY_SOURCE;
    const tag = options.tag ?? ANY_TAG;
    if (source !== ANY_SOURCE) this.checkPeer(source, 'receive from');
    // Fast path: only when nobody is queued ahead of us (keeps receives in call order).
    if (this.waiters.length === 0) {
      const hit = this.addon.tryRecv(source, tag, pollTuning.spinMicros, options.into);
      if (hit) return Promise.resolve(this.message(hit));
    }
    return new Promise((resolve, reject) => this.enqueue({ kind: 'recv', source, tag, into: options.into, resolve, reject }));
  }

  recvSync(options: RecvOptions & { spinMicros?: number } = {}): Message | null {
    if (this.waiters.length !== 0) return null;
    const source = options.source ?? ANY_SOURCE;
    if (source !== ANY_SOURCE) this.checkPeer(source, 'receive from');
    const hit = this.addon.tryRecv(source, options.tag ?? ANY_TAG, options.spinMicros ?? pollTuning.spinMicros, options.into);
    return hit ? this.message(hit) : null;
  }

  probe(options: { source?: number; tag?: Tag | typeof ANY_TAG } = {}): ProbeResult | null {
    return this.addon.probe(options.source ?? ANY_SOURCE, options.tag ?? ANY_TAG);
  }

  barrier(): Promise<void> {
    const id = this.addon.ibarrier();
    return new Promise((resolve, reject) => this.enqueue({ kind: 'request', id, resolve, reject }));
  }

  abort(code: number): never {
    return this.addon.abort(code);
  }

  finalize(): void {
    if (this.finalized) return;
    this.finalized = true;
    const pending = this.waiters.splice(0);
    for (const w of pending) w.reject(new Error('MPI finalized while an operation was pending'));
    this.addon.finalize();
  }

  private message(payload: Uint8Array): Message {
    const st = this.status;
    const source = st[0]!;
    const tag = st[1]!;
    const kind = st[2]!;
    const length = st[3]!;
    // A Buffer of exactly the body (a fresh one from the addon, or an `into` of that size) is the
    // payload as it is; otherwise a view of its first `length` bytes.
    const body = Buffer.isBuffer(payload) && payload.length === length ? payload : Buffer.from(payload.buffer, payload.byteOffset, length);
    if (kind === KIND_BYTES) return { source, tag, length, kind: 'bytes', payload: body };
    return { source, tag, length, ...decode(kind, body) };
  }

  private checkPeer(peer: number, what: string): void {
    if (!Number.isInteger(peer) || peer < 0 || peer >= this.size) {
      throw new RangeError(`cannot ${what} rank ${peer}: the world has ranks 0..${this.size - 1}`);
    }
  }

  private enqueue(w: Waiter): void {
    this.waiters.push(w);
    this.lastProgress = performance.now();
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled || this.waiters.length === 0) return;
    this.scheduled = true;
    const idleMs = performance.now() - this.lastProgress;
    if (idleMs < pollTuning.hotWindowMs) setImmediate(this.pump);
    else setTimeout(this.pump, Math.min(pollTuning.maxDelayMs, 1 + Math.floor(idleMs / 1000)));
  }

  private readonly pump = (): void => {
    this.scheduled = false;
    let progressed = false;
    try {
      for (let i = 0; i < this.waiters.length;) {
        const w = this.waiters[i]!;
        if (w.kind === 'request') {
          if (this.addon.test(w.id)) {
            this.waiters.splice(i, 1);
            w.resolve();
            progressed = true;
            continue;
          }
        } else {
          const hit = this.addon.tryRecv(w.source, w.tag, 0, w.into);
          if (hit) {
            this.waiters.splice(i, 1);
            w.resolve(this.message(hit));
            progressed = true;
            continue;
          }
        }
        i++;
      }
    } catch (err) {
      const pending = this.waiters.splice(0);
      for (const w of pending) w.reject(err as Error);
      return;
    }
    if (progressed) this.lastProgress = performance.now();
    this.schedule();
  };
}

/** One rank, no MPI library loaded. Sends to self are delivered in order (loopback). */
class SingleWorld implements Communicator {
  readonly isMpi = false;
  readonly rank = 0;
  readonly size = 1;
  private readonly queue: Message[] = [];
  private readonly waiters: { source: number; tag: number; resolve: (m: Message) => void }[] = [];

  constructor(readonly launch: Launch) {}

  send(dest: number, tag: Tag, payload: Payload): Promise<void> {
    if (dest !== 0) return Promise.reject(new RangeError(`cannot send to rank ${dest}: single-rank run (no MPI launcher)`));
    const { kind, body } = encode(payload);
    const copy = Buffer.from(body);
    const msg: Message = { source: 0, tag, length: copy.length, ...decode(kind, copy) };
    const i = this.waiters.findIndex((w) => matches(msg, w.source, w.tag));
    if (i >= 0) this.waiters.splice(i, 1)[0]!.resolve(msg);
    else this.queue.push(msg);
    return Promise.resolve();
  }

  recv(options: RecvOptions = {}): Promise<Message> {
    const source = options.source ?? ANY_SOURCE;
    const tag = options.tag ?? ANY_TAG;
    const i = this.queue.findIndex((m) => matches(m, source, tag));
    if (i >= 0) return Promise.resolve(this.queue.splice(i, 1)[0]!);
    return new Promise((resolve) => this.waiters.push({ source, tag, resolve }));
  }

  recvSync(options: RecvOptions = {}): Message | null {
    if (this.waiters.length !== 0) return null;
    const i = this.queue.findIndex((m) => matches(m, options.source ?? ANY_SOURCE, options.tag ?? ANY_TAG));
    return i >= 0 ? this.queue.splice(i, 1)[0]! : null;
  }

  probe(options: { source?: number; tag?: Tag | typeof ANY_TAG } = {}): ProbeResult | null {
    const m = this.queue.find((q) => matches(q, options.source ?? ANY_SOURCE, options.tag ?? ANY_TAG));
    return m ? { source: m.source, tag: m.tag, length: m.length } : null;
  }

  barrier(): Promise<void> {
    return Promise.resolve();
  }
  abort(code: number): never {
    process.exit(code);
  }
  finalize(): void {}
  libraryVersion(): string {
    return 'none (single rank, MPI not loaded)';
  }
  threadLevel(): string {
    return 'n/a';
  }
  processorName(): string {
    return process.env.HOSTNAME ?? 'localhost';
  }
}

function matches(m: Message, source: number, tag: number): boolean {
  return (source === ANY_SOURCE || m.source === source) && (tag === ANY_TAG || m.tag === tag);
}

let world: Communicator | undefined;

/** Thrown on every rank started by a launcher when the build has no MPI addon. */
export class MpiNotBuiltError extends Error {
  override readonly name = 'MpiNotBuiltError';
}

/**
 * The error for a launched process in a build without MPI: each rank would otherwise run the
 * whole job alone (N copies of a single-rank run), so every rank refuses to start instead.
 */
export function mpiNotBuiltError(launch: Launch): MpiNotBuiltError {
  const info = buildInfo();
  const why = info?.mpiNote ? ` (${info.mpiNote})` : '';
  const rank = launch.expectedRank === null ? '' : `; this is rank ${launch.expectedRank}`;
  return new MpiNotBuiltError(
    [
      `started by an MPI launcher (${launch.describe}${rank}), but hierimpute was built without its MPI addon${why}: ` +
        `${buildInfoPath()} says "mpi": false. Each rank would run the whole job alone, so none starts.`,
      'Fix, either:',
      `  - ${mpiBuildHowTo().join('\n')}`,
      '  - or run on one rank: start the same command without mpiexec/srun (`node dist/main.js ...`)',
    ].join('\n'),
  );
}

/**
 * The world of this process, created on first use. Under a launcher this loads the MPI addon
 * and calls MPI_Init (or, in a build without MPI, throws MpiNotBuiltError); without one it never
 * touches libmpi.
 */
export function getWorld(): Communicator {
  if (world) return world;
  const launch = detectLaunch();
  if (launch.mode === 'single') {
    world = new SingleWorld(launch);
    return world;
  }
  if (!mpiBuilt()) throw mpiNotBuiltError(launch);
  const addon = loadAddon<MpiAddon>('hierimpute_mpi');
  const w = new MpiWorld(addon, launch);
  if (launch.expectedSize > 1 && w.size === 1) {
    const info = buildInfo();
    const built = info ? `${info.mpiFlavor} (its mpiexec: ${info.mpiexec})` : 'an unknown MPI';
    throw new Error(
      `MPI launch mismatch: the launcher (${launch.describe}) started ${launch.expectedSize} tasks, but MPI_Init ` +
        `reports a world of size 1, so every task would run alone.\n` +
        `  The addon was built against ${built}; its library says: ${w.libraryVersion().split('\n')[0]}\n` +
        'Possible fixes:\n' +
        `  - launch with the mpiexec of the MPI the addon was built with${info ? ` (${info.mpiexec})` : ''}\n` +
        `  - or rebuild for the MPI you launch with: \`${rebuildCommand('MPI_HOME=/path/to/mpi')}\`\n` +
        '  - under Slurm: `srun --mpi=pmix` (or the plugin `srun --mpi=list` shows for your MPI)',
    );
  }
  if (launch.expectedSize > 1 && w.size !== launch.expectedSize) {
    throw new Error(`MPI launch mismatch: launcher announced ${launch.expectedSize} tasks, MPI world has ${w.size}`);
  }
  world = w;
  return world;
}

/** For tests: a world whose launch is already decided. */
export function worldIfCreated(): Communicator | undefined {
  return world;
}
