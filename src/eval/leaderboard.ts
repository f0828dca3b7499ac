// The leaderboard: every (sequence, dataset) of an evaluated sweep scored on the hidden cells,
// ranked within each dataset, and written as OUT/leaderboard.csv and OUT/best_sequences.csv.
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
import { scoreTable, type Score, type Truth } from './score.js';

export interface LeaderboardRow extends Score {
  readonly dataset: string;
  readonly sequence: number;
  readonly label: string;
  readonly methods: readonly string[];
  /** 1 = best within the dataset. */
  rank: number;
}

/** Everything the scores of one dataset compare against: its mask, sd_j of the unmasked input, bands of the masked table. */
export async function loadTruth(outDir: string, dataset: Dataset, edges: readonly number[], threads = 1): Promise<Truth> {
  const paths = holdoutPaths(outDir, dataset);
  const hidden = await readMaskFile(paths.mask);
  const input = await readMatrix(dataset.path, { threads });
  const masked = await readMatrix(paths.masked, { threads });
  if (masked.nRows !== input.nRows || masked.columns.length !== input.columns.length) {
    throw new Error(`${paths.masked}: ${masked.nRows}×${masked.columns.length}, but the input ${dataset.path} is ${input.nRows}×${input.columns.length}; rerun with --evaluate`);
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

/** Sorts one dataset's rows best first and numbers their ranks (in place). */
export function rankRows(rows: LeaderboardRow[]): LeaderboardRow[] {
  rows.sort(byScore);
  rows.forEach((r, i) => (r.rank = i + 1));
  return rows;
}

/** Scores every sequence's output table of one dataset; rows come back ranked. */
export async function scoreDataset(outDir: string, dataset: Dataset, sequences: readonly Sequence[], truth: Truth, threads = 1): Promise<LeaderboardRow[]> {
  const rows: LeaderboardRow[] = [];
  for (const seq of sequences) {
    const path = join(sequenceDir(outDir, seq), `${dataset.name}.csv`);
    let score: Score;
    try {
      score = scoreTable(await readMatrix(path, { threads }), truth);
    } catch (err) {
      throw new Error(`scoring ${path}: ${(err as Error).message}`);
    }
    rows.push({ dataset: dataset.name, sequence: seq.id, label: seq.label, methods: seq.methods, rank: 0, ...score });
  }
  return rankRows(rows);
}

const num = (x: number): string => (Number.isFinite(x) ? String(x) : '');
const field = (s: string): string => (/[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);

/** OUT/leaderboard.csv: dataset, sequence_id, label, nrmse, rmse, rank, nrmse_band_0..B-1; datasets in order, rank 1 first. */
export function leaderboardCsv(rows: readonly LeaderboardRow[], nBands: number): string {
  const header = ['dataset', 'sequence_id', 'label', 'nrmse', 'rmse', 'rank', ...Array.from({ length: nBands }, (_, b) => `nrmse_band_${b}`)];
  const lines = rows.map((r) => [field(r.dataset), String(r.sequence), field(r.label), num(r.nrmse), num(r.rmse), String(r.rank), ...r.bandNrmse.map(num)].join(','));
  return [header.join(','), ...lines].join('\n') + '\n';
}

export interface BestRow {
  readonly row: LeaderboardRow;
  /** OUT-relative path of the refitted table (best/<dataset>.csv), or '' without --refit-best. */
  readonly refit: string;
}

/** OUT/best_sequences.csv: one row per dataset. */
export function bestSequencesCsv(best: readonly BestRow[]): string {
  const header = 'dataset,sequence_id,label,methods,nrmse,rmse,hidden_cells,refit_table';
  const lines = best.map(({ row: r, refit }) =>
    [field(r.dataset), String(r.sequence), field(r.label), field(r.methods.join(' ')), num(r.nrmse), num(r.rmse), String(r.cells), field(refit)].join(','),
  );
  return [header, ...lines].join('\n') + '\n';
}

export async function writeLeaderboard(outDir: string, rows: readonly LeaderboardRow[], nBands: number): Promise<void> {
  await writeFileAtomic(join(outDir, 'leaderboard.csv'), leaderboardCsv(rows, nBands));
}

export async function writeBestSequences(outDir: string, best: readonly BestRow[]): Promise<void> {
  await writeFileAtomic(join(outDir, 'best_sequences.csv'), bestSequencesCsv(best));
}
