// Messages between the dispatcher (rank 0) and the workers, as in the reference design:
// TAG_TASK carries a work item (seq_idx, dataset, widths, methods); TAG_DONE the reply
// (seq_idx, dataset, done, progressed) plus what the dispatcher needs to avoid handing out a
// node that another rank is computing; TAG_STOP ends a worker; TAG_ERROR reports a failing rank;
// TAG_HELLO, a worker's first message, names its host.
import type { GroupOutcome } from '../engine/group.js';
import type { ManifestEntry, OutputStatus } from '../engine/outputs.js';
import type { JsonValue } from '../mpi/codec.js';

export interface TaskMsg {
  seq_idx: number;
  dataset: string;
  widths: number[];
  /** One method per band; fewer for a prefix (a beam search's item: its bands only, no output files). */
  methods: string[];
  /** The output folder's label of a complete sequence (a beam search's items carry it; else the run's sequence seq_idx names it). */
  label?: string;
  /** Reply with the holdout score of the bands done (a beam search ranks prefixes by it). */
  score?: boolean;
  /** false: compute the nodes only, write no output files (the refit of --refit-best). */
  files?: false;
}

export interface DoneMsg {
  seq_idx: number;
  dataset: string;
  done: boolean;
  progressed: boolean;
  outcome: GroupOutcome | 'failed';
  /** Band this call worked on (-1 when there was nothing left). */
  band: number;
  /** First band still without a result after this call (-1 = all done). */
  next: number;
  method?: string;
  seconds?: number;
  meanFilled?: number;
  /** Rows per band of this dataset (for the dispatcher's view of empty bands). */
  bandRows?: number[];
  /** The dataset could not be loaded: it is dropped, and the run ends non-zero naming it. */
  error?: string;
  /** Seconds the worker spent on this task (loading, computing, writing outputs). */
  busy_s?: number;
  /** The worker read the dataset from its file for this task (false: it already held it). */
  loaded?: boolean;
  /** The worker's node results read so far: from disk, and from its in-memory cache (running totals). */
  nodeReads?: number;
  nodeHits?: number;
  /**
   * With done: what the worker did with the item's output files (engine/outputs.ts, OutputStatus),
   * and the manifest entry rank 0 records once they are complete.
   */
  outputs?: OutputStatus;
  entry?: ManifestEntry;
  /** With done and the task's `score`: nRMSE on the hidden cells in rows of the task's bands (null: none there). */
  score?: number | null;
}

export interface HelloMsg {
  host: string;
}

export interface ErrorMsg {
  rank: number;
  message: string;
}

export function asTask(v: JsonValue, from: number): TaskMsg {
  const t = v as unknown as TaskMsg;
  if (!t || typeof t.seq_idx !== 'number' || typeof t.dataset !== 'string' || !Array.isArray(t.methods)) {
    throw new Error(`protocol: rank ${from} sent a malformed task: ${JSON.stringify(v).slice(0, 200)}`);
  }
  return t;
}

export function asDone(v: JsonValue, from: number): DoneMsg {
  const d = v as unknown as DoneMsg;
  if (!d || typeof d.seq_idx !== 'number' || typeof d.dataset !== 'string' || typeof d.done !== 'boolean') {
    throw new Error(`protocol: rank ${from} sent a malformed reply: ${JSON.stringify(v).slice(0, 200)}`);
  }
  return d;
}
