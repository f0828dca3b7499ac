// Logging (winston). Every record carries the MPI rank. Rank 0 logs to the console as
// `[Rank r] ...`; every rank writes `<dir>/rank_<r>.log`; all ranks append to one shared run log.
// File transports write synchronously (one write(2) per record, O_APPEND), so nothing is lost
// when a rank aborts right after logging; `flushLogs()` still drains winston's pipeline.
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';

import winston from 'winston';
import Transport from 'winston-transport';

export type LogLevel = 'error' | 'warn' | 'info' | 'verbose' | 'debug';
export const LOG_LEVELS: readonly LogLevel[] = ['error', 'warn', 'info', 'verbose', 'debug'];

interface Info {
  level: string;
  message: unknown;
  timestamp?: string;
  [key: string | symbol]: unknown;
}

/** Appends each record as one line with a single write(2) on an O_APPEND descriptor. */
class SyncLineTransport extends Transport {
  constructor(
    private readonly fd: number,
    private readonly render: (info: Info) => string,
    private readonly owned: boolean,
    opts?: Transport.TransportStreamOptions,
  ) {
    super(opts);
  }
  override log(info: Info, next: () => void): void {
    this.writeNow(info);
    next();
  }
  /** Writes one record at once, outside winston's stream (see logNow). */
  writeNow(info: Info): void {
    writeSync(this.fd, this.render(info) + '\n');
  }
  override close(): void {
    if (this.owned) closeSync(this.fd);
  }
}

let rank = 0;
const fileLine = (info: Info): string =>
  `${info.timestamp ?? new Date().toISOString()} [Rank ${rank}] ${info.level.toUpperCase()} ${String(info.message)}`;
const consoleLine = (info: Info): string => `[Rank ${rank}] ${info.level === 'info' ? '' : info.level.toUpperCase() + ': '}${String(info.message)}`;

export const log: winston.Logger = winston.createLogger({
  level: 'info',
  format: winston.format.timestamp(),
  transports: [new SyncLineTransport(2, consoleLine, false)],
});

export interface LoggingOptions {
  rank: number;
  /** Folder for rank_<r>.log and the shared run log; omitted = console only. */
  dir?: string;
  /** File name of the shared run log inside `dir`. */
  runLog?: string;
  level?: LogLevel;
  /** Console output on this rank (default: rank 0 only). */
  console?: boolean;
}

/** (Re)configures the process logger. Call once the rank is known. */
export function configureLogging(opts: LoggingOptions): void {
  rank = opts.rank;
  const transports: Transport[] = [];
  if (opts.console ?? opts.rank === 0) transports.push(new SyncLineTransport(2, consoleLine, false));
  // Other ranks still show their errors on the console (the job's stderr), so a failing worker is
  // visible even before (or without) a log folder.
  else transports.push(new SyncLineTransport(2, consoleLine, false, { level: 'error' }));
  if (opts.dir) {
    mkdirSync(opts.dir, { recursive: true });
    const own = openSync(join(opts.dir, `rank_${opts.rank}.log`), 'a');
    transports.push(new SyncLineTransport(own, fileLine, true));
    const shared = openSync(join(opts.dir, opts.runLog ?? 'run.log'), 'a');
    transports.push(new SyncLineTransport(shared, fileLine, true));
  }
  for (const t of log.transports.slice()) {
    log.remove(t);
    t.close?.();
  }
  for (const t of transports) log.add(t);
  log.level = opts.level ?? 'info';
  log.defaultMeta = { rank: opts.rank };
}

/**
 * Writes one record to every transport that takes its level, synchronously and outside winston's
 * stream: on disk when this returns, even if winston still holds records of its own (for the last
 * line before MPI_Abort, which ends the process at once).
 */
export function logNow(level: LogLevel, message: string): void {
  const info: Info = { level, message, timestamp: new Date().toISOString() };
  const levels = log.levels;
  for (const t of log.transports) {
    const max = t.level ?? log.level;
    if (t instanceof SyncLineTransport && levels[level]! <= levels[max]!) t.writeNow(info);
  }
}

/** Waits until every record logged so far has reached its transport (bounded by timeoutMs). */
export function flushLogs(timeoutMs = 2000): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, timeoutMs);
    const done = (): void => {
      clearTimeout(timer);
      resolve();
    };
    // winston's Logger is an object-mode stream: once the queue it is draining is empty, the
    // records already sit in the (synchronous) transports.
    if (log.writableLength === 0) setImmediate(done);
    else log.once('drain', done);
  });
}
