// The leaderboard: every (sequence, dataset) of an evaluated sweep — and every baseline (a method
// without bands, src/eval/plan.ts) — scored on the hidden cells, ranked within each dataset, and
// written as OUT/leaderboard.csv and OUT/best_sequences.csv.
//
// With several holdout repeats a row's scores are means over the repeats (band nRMSE: over the
// repeats where the band holds hidden cells), with the sample sd of nRMSE and RMSE; a row is
// "within noise" of the best when the mean of its paired nRMSE difference to the best (per
// repeat) is below that difference's sd.
//
// Ranking within a dataset: nRMSE ascending, then RMSE, then sequence id (so ties and NaN scores
// still give one deterministic order; a NaN nRMSE ranks last). Rank 1 = best.
// Numbers are written with JavaScript's shortest round-trip form; NaN is an empty cell.
import { join } from 'node:path';

import { assignBands } from '../engine/bands.js';
import type { Sequence } from '../engine/sweep.js';
import { sequenceDir } from '../engine/outputs.js';
import type { Dataset } from '../tables/datasets.js';
import { readMatrix } from '../tables/io.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { holdoutPaths, readMaskFile } from './holdout.js';
import { scoreAddon } from './native.js';
import { hiddenPredictions, type Candidate } from './ensemble.js';
import { scoreTable, type Score, type Truth } from './score.js';

export interface LeaderboardRow extends Score {
  readonly dataset: string;
  readonly sequence: number;
  readonly label: string;
  readonly methods: readonly string[];
  /** 1 = best within the dataset. */
  rank: number;
  /** A method without bands (one band of width 1), not a sequence of the sweep. */
  readonly baseline: boolean;
  /** Holdout repeats the scores are means over. */
  readonly repeats: number;
  /** Sample sd over the repeats (NaN with one repeat). */
  readonly nrmseSd: number;
  readonly rmseSd: number;
  /** nRMSE of each repeat. */
  readonly perRepeat: readonly number[];
  /** With 2+ repeats, rows after the first: the mean paired nRMSE difference to the best is below its sd. */
  withinNoise?: boolean;
}

/** Everything the scores of one dataset compare against: its mask, sd_j of the unmasked input, bands of the masked table. */
export async function loadTruth(outDir: string, dataset: Dataset, edges: readonly number[], threads = 1, repeat = 0): Promise<Truth> {
  const paths = holdoutPaths(outDir, dataset, repeat);
  const hidden = await readMaskFile(paths.mask);
  const input = await readMatrix(dataset.path, { threads });
  const masked = await readMatrix(paths.masked, { threads });
  if (masked.nRows !== input.nRows || masked.columns.length !== input.columns.length) {
    throw new Error(
      `${paths.masked}: ${masked.nRows}×${masked.columns.length}, but the input ${dataset.path} is ${input.nRows}×${input.columns.length}; rerun with --evaluate`,
    );
  }
  return { hidden, std: scoreAddon().observedStd(input.columns), band: assignBands(masked, edges).band, nBands: edges.length };
}

const byScore = (a: LeaderboardRow, b: LeaderboardRow): number => {
  const an = Number.isNaN(a.nrmse);
  const bn = Number.isNaN(b.nrmse);
  if (an !== bn) return an ? 1 : -1;
  if (!an && a.nrmse !== b.nrmse) return a.nrmse - b.nrmse;
  const ar = Number.isNaN(a.rmse) ? Infinity : a.rmse;
  const br = Number.isNaN(b.rmse) ? Infinity : b.rmse;
  if (ar !== br) return ar - br;
  return a.sequence - b.sequence;
};

/** Sorts one dataset's rows best first and numbers their ranks (in place); marks rows within noise of the best. */
export function rankRows(rows: LeaderboardRow[]): LeaderboardRow[] {
  rows.sort(byScore);
  rows.forEach((r, i) => (r.rank = i + 1));
  const top = rows[0];
  if (top && top.repeats > 1) {
    for (const r of rows.slice(1)) {
      const d = r.perRepeat.map((x, i) => x - top.perRepeat[i]!);
      r.withinNoise = Number.isFinite(meanOf(d)) && meanOf(d) < sampleSd(d);
    }
  }
  return rows;
}

const meanOf = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
/** Sample standard deviation (n − 1); NaN below 2 values. */
function sampleSd(xs: readonly number[]): number {
  if (xs.length < 2) return NaN;
  const m = meanOf(xs);
  return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1));
}

/** A leaderboard row from one score per repeat. */
export function aggregateRow(
  base: { dataset: string; sequence: number; label: string; methods: readonly string[]; baseline: boolean },
  scores: readonly Score[],
): LeaderboardRow {
  if (scores.length === 1) {
    const s = scores[0]!;
    return { ...base, rank: 0, ...s, repeats: 1, nrmseSd: NaN, rmseSd: NaN, perRepeat: [s.nrmse] };
  }
  const nb = scores[0]!.bandNrmse.length;
  const bandNrmse = Array.from({ length: nb }, (_, b) => {
    const v = scores.map((s) => s.bandNrmse[b]!).filter(Number.isFinite);
    return v.length ? meanOf(v) : NaN;
  });
  return {
    ...base,
    rank: 0,
    cells: scores.reduce((a, s) => a + s.cells, 0),
    rmse: meanOf(scores.map((s) => s.rmse)),
    nrmse: meanOf(scores.map((s) => s.nrmse)),
    bandNrmse,
    bandCells: Array.from({ length: nb }, (_, b) => scores.reduce((a, s) => a + s.bandCells[b]!, 0)),
    repeats: scores.length,
    nrmseSd: sampleSd(scores.map((s) => s.nrmse)),
    rmseSd: sampleSd(scores.map((s) => s.rmse)),
    perRepeat: scores.map((s) => s.nrmse),
  };
}

/**
 * Scores every candidate (the sweep's sequences and the baselines) of one dataset on each repeat's
 * hidden cells: `tables(seq, repeat)` names the output table. Rows come back ranked; the
 * candidates (their hidden-cell predictions, in leaderboard order) feed the ensemble.
 */
export async function scoreCandidates(
  dataset: string,
  seqs: readonly Sequence[],
  truths: readonly Truth[],
  tables: (seq: Sequence, repeat: number) => string,
  threads = 1,
): Promise<{ rows: LeaderboardRow[]; candidates: Candidate[] }> {
  const rows: LeaderboardRow[] = [];
  const preds = new Map<number, Float32Array[]>();
  for (const seq of seqs) {
    const scores: Score[] = [];
    const p: Float32Array[] = [];
    for (let r = 0; r < truths.length; r++) {
      const path = tables(seq, r);
      try {
        const m = await readMatrix(path, { threads });
        scores.push(scoreTable(m, truths[r]!));
        p.push(hiddenPredictions(m.columns, truths[r]!));
      } catch (err) {
        throw new Error(`scoring ${path}: ${(err as Error).message}`);
      }
    }
    preds.set(seq.id, p);
    const methods = seq.baseline ? seq.methods.slice(0, 1) : seq.methods;
    rows.push(aggregateRow({ dataset, sequence: seq.id, label: seq.label, methods, baseline: seq.baseline === true }, scores));
  }
  rankRows(rows);
  return { rows, candidates: rows.map((r) => ({ sequence: r.sequence, label: r.label, preds: preds.get(r.sequence)! })) };
}

/** Scores every sequence's output table of one dataset; rows come back ranked. */
export async function scoreDataset(
  outDir: string,
  dataset: Dataset,
  sequences: readonly Sequence[],
  truth: Truth,
  threads = 1,
): Promise<LeaderboardRow[]> {
  const rows: LeaderboardRow[] = [];
  for (const seq of sequences) {
    const path = join(sequenceDir(outDir, seq), `${dataset.name}.csv`);
    let score: Score;
    try {
      score = scoreTable(await readMatrix(path, { threads }), truth);
    } catch (err) {
      throw new Error(`scoring ${path}: ${(err as Error).message}`);
    }
    rows.push(
      aggregateRow({ dataset: dataset.name, sequence: seq.id, label: seq.label, methods: seq.methods, baseline: seq.baseline === true }, [score]),
    );
  }
  return rankRows(rows);
}

const num = (x: number): string => (Number.isFinite(x) ? String(x) : '');
const field = (s: string): string => (/[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);

const flag = (b: boolean | undefined): string => (b === undefined ? '' : String(b));

/**
 * OUT/leaderboard.csv: dataset, sequence_id, label, nrmse, rmse, rank, nrmse_band_0..B-1, nrmse_sd,
 * rmse_sd, repeats, within_noise, baseline; datasets in order, rank 1 first.
 */
export function leaderboardCsv(rows: readonly LeaderboardRow[], nBands: number): string {
  const header = [
    'dataset',
    'sequence_id',
    'label',
    'nrmse',
    'rmse',
    'rank',
    ...Array.from({ length: nBands }, (_, b) => `nrmse_band_${b}`),
    'nrmse_sd',
    'rmse_sd',
    'repeats',
    'within_noise',
    'baseline',
  ];
  const lines = rows.map((r) =>
    [
      field(r.dataset),
      String(r.sequence),
      field(r.label),
      num(r.nrmse),
      num(r.rmse),
      String(r.rank),
      ...r.bandNrmse.map(num),
      num(r.nrmseSd),
      num(r.rmseSd),
      String(r.repeats),
      flag(r.withinNoise),
      String(r.baseline),
    ].join(','),
  );
  return [header.join(','), ...lines].join('\n') + '\n';
}

export interface BestRow {
  /** The leaderboard's rank 1 (a sequence or a baseline). */
  readonly row: LeaderboardRow;
  /** OUT-relative path of the refitted table (best/<dataset>.csv), or '' without --refit-best. */
  readonly refit: string;
  /** The recommended table: the cell-wise mean of these members (best first) and its holdout score. */
  readonly ensemble?: { k: number; members: readonly string[]; nrmse: number; rmse: number; scoredOn: 'B' | 'all' };
  /** Within noise of rank 1 (with 2+ repeats): their labels. */
  readonly withinNoise?: readonly string[];
  /** The recommendation in one sentence. */
  readonly recommendation?: string;
}

/**
 * OUT/best_sequences.csv: one row per dataset: the leaderboard's rank 1 (`baseline` = true when it
 * is a method without bands), the refitted table, and the recommended ensemble: its size, members
 * (labels, best first, space-separated), its holdout score and the cells that score is on ('B' =
 * the half not used to choose it, 'all' = every hidden cell), and the recommendation in words.
 */
export function bestSequencesCsv(best: readonly BestRow[]): string {
  const header =
    'dataset,sequence_id,label,methods,nrmse,rmse,hidden_cells,refit_table,baseline,nrmse_sd,ensemble_k,ensemble_members,ensemble_nrmse,ensemble_rmse,ensemble_scored_on,recommendation';
  const lines = best.map(({ row: r, refit, ensemble: e, recommendation }) =>
    [
      field(r.dataset),
      String(r.sequence),
      field(r.label),
      field(r.methods.join(' ')),
      num(r.nrmse),
      num(r.rmse),
      String(r.cells),
      field(refit),
      String(r.baseline),
      num(r.nrmseSd),
      e ? String(e.k) : '',
      field(e ? e.members.join(' ') : ''),
      num(e ? e.nrmse : NaN),
      num(e ? e.rmse : NaN),
      e ? e.scoredOn : '',
      field(recommendation ?? ''),
    ].join(','),
  );
  return [header, ...lines].join('\n') + '\n';
}

export async function writeLeaderboard(outDir: string, rows: readonly LeaderboardRow[], nBands: number): Promise<void> {
  await writeFileAtomic(join(outDir, 'leaderboard.csv'), leaderboardCsv(rows, nBands));
}

export async function writeBestSequences(outDir: string, best: readonly BestRow[]): Promise<void> {
  await writeFileAtomic(join(outDir, 'best_sequences.csv'), bestSequencesCsv(best));
}
