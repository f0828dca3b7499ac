// Band-wise beam search over a sweep too large to enumerate (config `search: {beam: K}` or
// `--beam K`, with --evaluate). For each dataset, bands are decided in order:
//
//   stage 0       every alternative of band 0 is a candidate prefix;
//   stage b       the candidates of band b are the K kept prefixes of stage b−1, each extended by
//                 every alternative of band b; each candidate runs (as a prefix item: its bands
//                 only) on every holdout copy of the dataset, and the worker that finishes it
//                 scores it: nRMSE on the hidden cells in rows of bands 0..b (score.ts
//                 prefixNrmse). Its score is the mean over the copies;
//   no choice     a band with at most K candidates keeps them all: it is not scored, and its
//                 candidates are extended by the next band at once;
//   keeping       once every candidate of a stage has its score, the K best are kept (nRMSE
//                 ascending, a missing score last, ties by the sequence's index in the full
//                 product). A band without rows in any copy changes nothing: only its first
//                 alternative is kept of each parent;
//   last band     its candidates are complete sequences: they run as ordinary items (output
//                 files written) and are the dataset's sequences in the leaderboard.
//
// Prefixes share the prefix tree's nodes, so a stage computes only its new band: per holdout copy,
// at most Σ_b min(K, kept_{b−1})·|alternatives_b| nodes instead of the product. Rank 0 only keeps
// the scores and decides (it never computes); the dispatcher asks for the next stage's items as
// soon as a dataset's stage is complete (DispatchHooks.extend), so datasets advance independently.
// Every decision depends on scores and the configuration only, so the search, its outputs and the
// leaderboard are the same for any rank count.
import type { RunConfig } from '../engine/config.js';
import { sequenceIndex, sequenceLabel, sweepSize, type Sequence } from '../engine/sweep.js';
import type { DoneMsg } from '../farm/protocol.js';
import type { WorkItem } from '../farm/dispatcher.js';
import { log } from '../log/logger.js';
import type { HoldoutCopy } from './plan.js';

/** One band of the search's shape (before any score is known). */
export interface BeamBand {
  readonly band: number;
  readonly alternatives: number;
  /** Candidate prefixes of this band (per dataset), at most. */
  readonly candidates: number;
  /** Prefixes kept for the next band. */
  readonly kept: number;
}

export interface BeamShape {
  readonly width: number;
  readonly bands: readonly BeamBand[];
  /** Nodes per dataset and holdout copy, at most (fewer when bands are empty). */
  readonly nodes: number;
  /** Complete sequences searched per dataset (the last band's candidates). */
  readonly sequences: number;
  /** The full product, for comparison: its sequences and its prefix-tree nodes per dataset. */
  readonly fullSequences: bigint;
  readonly fullNodes: bigint;
}

/** What a beam of width K does with a configuration, before any data is seen. */
export function beamShape(config: RunConfig, width: number): BeamShape {
  let kept = 1;
  let nodes = 0;
  let fullWidth = 1n;
  let fullNodes = 0n;
  const last = config.bands.length - 1;
  const bands = config.bands.map((band, b) => {
    const alternatives = band.methods.length;
    const candidates = kept * alternatives;
    nodes += candidates;
    fullWidth *= BigInt(alternatives);
    fullNodes += fullWidth;
    kept = b === last ? candidates : Math.min(width, candidates);
    return { band: b, alternatives, candidates, kept };
  });
  return { width, bands, nodes, sequences: bands[last]?.candidates ?? 0, fullSequences: sweepSize(config), fullNodes };
}

/** One stage's decision for one dataset (OUT/beam.json). */
export interface BeamStage {
  readonly band: number;
  readonly candidates: number;
  /** The band had more candidates than the beam keeps, so they were scored and ranked. */
  readonly ranked: boolean;
  /** The kept prefixes (method names joined by '+') with their mean nRMSE (null: not scored, or no hidden cell in their rows). */
  readonly kept: readonly { readonly prefix: string; readonly nrmse: number | null }[];
}

interface DatasetSearch {
  readonly copies: readonly HoldoutCopy[];
  stage: number;
  candidates: string[][];
  /** Prefix key -> score per copy (by copy index), as replies come in. */
  scores: Map<string, (number | null | undefined)[]>;
  /** Candidates x copies still to be scored in this stage. */
  pending: number;
  /** Rows per band of each copy (from the replies). */
  bandRows: Map<string, number[]>;
  trace: BeamStage[];
  /** Every complete sequence of the last band has finished on every copy. */
  done: boolean;
}

const keyOf = (methods: readonly string[]): string => methods.join('\u0000');

export class BeamSearch {
  private readonly searches = new Map<string, DatasetSearch>();
  /** Copy name -> (real dataset name, copy index). */
  private readonly copyOf = new Map<string, { dataset: string; index: number }>();
  private readonly widths: number[];
  private readonly finishedItems = new Set<string>();

  constructor(
    private readonly config: RunConfig,
    copies: readonly HoldoutCopy[],
    readonly width: number,
  ) {
    this.widths = config.bands.map((b) => b.width);
    for (const c of copies) {
      let s = this.searches.get(c.dataset.name);
      if (!s) {
        s = { copies: [], stage: 0, candidates: [], scores: new Map(), pending: 0, bandRows: new Map(), trace: [], done: false };
        this.searches.set(c.dataset.name, s);
      }
      (s.copies as HoldoutCopy[]).push(c);
      this.copyOf.set(c.name, { dataset: c.dataset.name, index: s.copies.length - 1 });
    }
  }

  /** Stage 0's items of every dataset. */
  initialItems(): WorkItem[] {
    const items: WorkItem[] = [];
    for (const s of this.searches.values())
      items.push(
        ...this.startStage(
          s,
          this.config.bands[0]!.methods.map((m) => [m]),
        ),
      );
    return items;
  }

  /** A finished item: records its score; when its dataset's stage is complete, the next stage's items. */
  onDone(item: WorkItem, reply: DoneMsg): WorkItem[] {
    const at = this.copyOf.get(item.dataset);
    if (!at) return [];
    const s = this.searches.get(at.dataset)!;
    if (reply.bandRows) s.bandRows.set(item.dataset, reply.bandRows);
    // A complete sequence's item may finish twice (its outputs had to be rewritten): count it once.
    const id = `${item.dataset}\u0000${keyOf(item.methods)}`;
    if (this.finishedItems.has(id)) return [];
    this.finishedItems.add(id);
    if (item.methods.length === this.config.bands.length) {
      if (--s.pending === 0) s.done = true;
      return [];
    }
    const row = s.scores.get(keyOf(item.methods));
    if (!row || item.methods.length !== s.stage + 1) throw new Error(`beam search: unexpected item ${item.methods.join('+')} on ${item.dataset}`);
    row[at.index] = reply.score ?? null;
    if (--s.pending > 0) return [];
    return this.advance(s, at.dataset);
  }

  /** The complete sequences searched for a dataset (empty if its search did not finish, e.g. a holdout copy failed to load). */
  finalists(dataset: string): string[][] {
    const s = this.searches.get(dataset);
    return s?.done ? s.candidates : [];
  }

  /** Band b has no rows in any holdout copy of the dataset (known once every copy has replied). */
  private emptyBand(s: DatasetSearch, b: number): boolean {
    return s.copies.every((c) => s.bandRows.get(c.name)?.[b] === 0);
  }

  /**
   * A band without rows leaves the table unchanged, so its alternatives give equal tables: of
   * prefixes that differ only in such bands, the one with each such band's first alternative stays.
   */
  private prune(s: DatasetSearch, candidates: string[][]): string[][] {
    const bands = this.config.bands;
    return candidates.filter((p) => p.every((m, i) => m === bands[i]!.methods[0] || !this.emptyBand(s, i)));
  }

  /** Every dataset's decisions so far. */
  trace(): Record<string, BeamStage[]> {
    return Object.fromEntries([...this.searches].map(([name, s]) => [name, s.trace]));
  }

  /** Mean score over the copies of a prefix (NaN when no copy has a hidden cell in its rows). */
  private meanScore(s: DatasetSearch, prefix: readonly string[]): number {
    const v = (s.scores.get(keyOf(prefix)) ?? []).filter((x): x is number => typeof x === 'number');
    return v.length ? v.reduce((a, b) => a + b, 0) / v.length : NaN;
  }

  private advance(s: DatasetSearch, dataset: string): WorkItem[] {
    const b = s.stage;
    const pool = this.prune(s, s.candidates);
    const ranked = pool
      .map((prefix) => ({ prefix, score: this.meanScore(s, prefix), index: sequenceIndex(this.config, prefix) }))
      .sort((x, y) => {
        const xn = Number.isNaN(x.score);
        const yn = Number.isNaN(y.score);
        if (xn !== yn) return xn ? 1 : -1;
        if (!xn && x.score !== y.score) return x.score - y.score;
        return x.index < y.index ? -1 : x.index > y.index ? 1 : 0;
      });
    const kept = ranked.slice(0, this.width);
    s.trace.push({
      band: b,
      candidates: s.candidates.length,
      ranked: pool.length > this.width,
      kept: kept.map((k) => ({ prefix: k.prefix.join('+'), nrmse: Number.isNaN(k.score) ? null : k.score })),
    });
    log.verbose(
      `beam: ${dataset} band ${b}: kept ${kept.length} of ${s.candidates.length} prefixes (best ${kept[0]?.prefix.join('+')}, nRMSE ${kept[0]?.score.toPrecision(4)})`,
    );
    // Kept prefixes in index order, so the next stage's items come in one order whatever the scores' ties.
    kept.sort((x, y) => (x.index < y.index ? -1 : x.index > y.index ? 1 : 0));
    const next = kept.flatMap((k) => this.config.bands[b + 1]!.methods.map((m) => [...k.prefix, m]));
    return this.startStage(s, next);
  }

  private startStage(s: DatasetSearch, candidates: string[][]): WorkItem[] {
    const last = this.config.bands.length - 1;
    let b = candidates[0]!.length - 1;
    candidates = this.prune(s, candidates);
    // No more candidates than the beam keeps: all are kept whatever their scores, so the band
    // needs no decision (and no wait): extend at once.
    while (b < last && candidates.length <= this.width) {
      s.trace.push({ band: b, candidates: candidates.length, ranked: false, kept: candidates.map((p) => ({ prefix: p.join('+'), nrmse: null })) });
      candidates = this.prune(
        s,
        candidates.flatMap((p) => this.config.bands[b + 1]!.methods.map((m) => [...p, m])),
      );
      b++;
    }
    s.stage = b;
    s.candidates = candidates;
    s.scores = new Map(candidates.map((p) => [keyOf(p), s.copies.map(() => undefined)]));
    s.pending = candidates.length * s.copies.length;
    const complete = b === last;
    return candidates.flatMap((methods) =>
      s.copies.map((c) => ({
        // The run's sequence ids are given once the search is over (finalSequences); items name
        // their output folder by label instead.
        seq_idx: -1,
        dataset: c.name,
        widths: this.widths,
        methods,
        ...(complete ? { label: sequenceLabel(this.config, methods) } : { score: true }),
      })),
    );
  }
}

/**
 * The sequences of a finished search: every dataset's finalists, each once, in the order of the
 * full product (so ids, and the leaderboard's tie-breaks, follow the same order as a full sweep),
 * numbered 0..n−1.
 */
export function finalSequences(config: RunConfig, beam: BeamSearch, datasets: readonly string[]): Sequence[] {
  const byKey = new Map<string, { methods: string[]; index: bigint }>();
  for (const d of datasets) for (const m of beam.finalists(d)) byKey.set(keyOf(m), { methods: m, index: sequenceIndex(config, m) });
  return [...byKey.values()]
    .sort((x, y) => (x.index < y.index ? -1 : x.index > y.index ? 1 : 0))
    .map((x, id) => ({ id, methods: x.methods, label: sequenceLabel(config, x.methods) }));
}
