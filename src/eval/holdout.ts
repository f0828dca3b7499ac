// Holdout masking for `hierimpute run --evaluate`. Per dataset and column, a seeded share of the
// observed cells is hidden (round(share × observed), never leaving a column with fewer than
// MIN_OBSERVED observed cells). The hidden cells go to OUT/holdout/<dataset>.mask.csv
// (`row,col,value`, 0-based row and column of the input table, row-major order, values written
// like the output tables so they read back to the same float32); the masked table to
// OUT/holdout/masked/<input file name>, and the sweep runs on that folder. The mask depends on
// the table, the share, the holdout seed and the dataset name only (never rank or threads).
// --holdout-repeats R: repeat 0 is the mask above; repeat r >= 1 is an independent mask with its
// own seed (repeatSeed), under OUT/holdout/repeat_<r>/ (same layout).
import { mkdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

import { sha256 } from '../engine/keys.js';
import { engineAddon } from '../engine/native.js';
import type { Dataset } from '../tables/datasets.js';
import { readMatrix, writeMatrix } from '../tables/io.js';
import { makeMatrix, type Matrix } from '../tables/matrix.js';
import { scoreAddon, type HiddenCells } from './native.js';

export type { HiddenCells };

/** A column keeps at least this many observed cells after masking. */
export const MIN_OBSERVED = 2;
/** Row indices are written as float32 in the mask file: exact up to 2^24. */
const MAX_ROWS = 2 ** 24;

export interface HoldoutOptions {
  /** Share of each column's observed cells to hide, in (0, 1). */
  readonly share: number;
  /** Holdout seed, an integer in [0, 2^32). */
  readonly seed: number;
}

export interface HoldoutPaths {
  /** OUT/holdout/<dataset>.mask.csv */
  readonly mask: string;
  /** OUT/holdout/masked/<input file name> */
  readonly masked: string;
}

export function holdoutPaths(outDir: string, dataset: Dataset, repeat = 0): HoldoutPaths {
  const dir = repeat === 0 ? join(outDir, 'holdout') : join(outDir, 'holdout', `repeat_${repeat}`);
  return { mask: join(dir, `${dataset.name}.mask.csv`), masked: join(dir, 'masked', basename(dataset.path)) };
}

/**
 * The mask seed of holdout repeat r: the holdout seed itself for repeat 0 (so one repeat is the
 * single holdout of before), otherwise derived from (seed, r) by a hash, an integer in [0, 2^32).
 */
export function repeatSeed(seed: number, repeat: number): number {
  if (repeat === 0) return seed;
  return Number.parseInt(sha256(`hierimpute holdout repeat\n${seed}\n${repeat}`).slice(0, 8), 16) >>> 0;
}

export function checkHoldoutOptions(opts: HoldoutOptions): void {
  if (typeof opts.share !== 'number' || !(opts.share > 0 && opts.share < 1)) {
    throw new Error(`--holdout must be a share of the observed cells in (0, 1), e.g. 0.1 (got ${opts.share})`);
  }
  if (!Number.isSafeInteger(opts.seed) || opts.seed < 0 || opts.seed > 0xffffffff) {
    throw new Error(`--holdout-seed must be an integer in [0, 2^32) (got ${opts.seed})`);
  }
}

/** The 64-bit seed of a dataset's mask, as two uint32 halves. */
function datasetSeed(seed: number, dataset: string): [number, number] {
  const h = sha256(`hierimpute holdout\n${seed}\n${dataset}`);
  return [Number.parseInt(h.slice(0, 8), 16) >>> 0, Number.parseInt(h.slice(8, 16), 16) >>> 0];
}

/** Hides cells of a table (see the file comment); the table itself is not modified. */
export function maskTable(m: Matrix, dataset: string, opts: HoldoutOptions): { masked: Matrix; hidden: HiddenCells } {
  checkHoldoutOptions(opts);
  if (m.nRows > MAX_ROWS) throw new Error(`dataset '${dataset}': ${m.nRows} rows; --evaluate supports tables of up to ${MAX_ROWS} rows`);
  const [hi, lo] = datasetSeed(opts.seed, dataset);
  const r = scoreAddon().holdoutMask(m.columns, opts.share, hi, lo, MIN_OBSERVED);
  return { masked: makeMatrix(m.names, r.masked), hidden: { rows: r.rows, cols: r.cols, values: r.values } };
}

/** Writes the mask file (`row,col,value`) atomically. */
export async function writeMaskFile(path: string, hidden: HiddenCells): Promise<void> {
  await writeMatrix(makeMatrix(['row', 'col', 'value'], [Float32Array.from(hidden.rows), Float32Array.from(hidden.cols), hidden.values]), path);
}

/** Reads a mask file back; errors name the file. */
export async function readMaskFile(path: string): Promise<HiddenCells> {
  const m = await readMatrix(path);
  if (m.names.join(',') !== 'row,col,value') throw new Error(`${path}: expected the header row,col,value (got ${m.names.join(',')})`);
  const observed = engineAddon().columnStats(m.columns).observed;
  observed.forEach((o, j) => {
    if (o !== m.nRows) throw new Error(`${path}: column '${m.names[j]}' has ${m.nRows - o} empty cells`);
  });
  return { rows: Int32Array.from(m.columns[0]!), cols: Int32Array.from(m.columns[1]!), values: m.columns[2]! };
}

/** Masks one dataset and writes its mask and masked table; returns the number of hidden cells. */
export async function writeHoldout(outDir: string, dataset: Dataset, opts: HoldoutOptions, threads = 1, repeat = 0): Promise<number> {
  const input = await readMatrix(dataset.path, { threads });
  const { masked, hidden } = maskTable(input, dataset.name, { share: opts.share, seed: repeatSeed(opts.seed, repeat) });
  const paths = holdoutPaths(outDir, dataset, repeat);
  mkdirSync(dirname(paths.masked), { recursive: true });
  await writeMaskFile(paths.mask, hidden);
  await writeMatrix(masked, paths.masked, { threads });
  return hidden.rows.length;
}
