// Scores of one imputed table on its hidden cells.
//
//   RMSE   = sqrt(Σ squared error / hidden cells), over every hidden cell of the table (input units).
//   nRMSE  = mean over columns j that have hidden cells (and a non-zero sd_j) of
//            sqrt(Σ_j squared error / hidden cells of j) / sd_j,
//            sd_j = population standard deviation (ddof 0) of column j's observed values in the
//            UNMASKED input.
//   band b nRMSE = the same mean restricted to the hidden cells in rows of band b; the band of a row
//            is the band the sweep gave it, i.e. computed on the MASKED table (hiding cells can
//            move a row to a heavier band). NaN (an empty CSV cell) when band b has no hidden cell.
// The per-cell work (squared errors per band and column) is native; this file only combines the
// nBands × columns sums.
import type { Matrix } from '../tables/matrix.js';
import { scoreAddon, type HiddenCells } from './native.js';

export interface Truth {
  /** Hidden cells of the dataset (from its mask file). */
  readonly hidden: HiddenCells;
  /** sd_j of each column's observed values in the unmasked input. */
  readonly std: Float64Array;
  /** Band of each row of the masked table. */
  readonly band: Int32Array;
  readonly nBands: number;
}

export interface Score {
  readonly cells: number;
  readonly rmse: number;
  readonly nrmse: number;
  /** nRMSE per band (NaN where the band holds no hidden cell). */
  readonly bandNrmse: number[];
  /** Hidden cells per band. */
  readonly bandCells: number[];
}

/** Mean over columns with cells (and sd > 0) of sqrt(sse/count)/sd; NaN when none qualifies. */
export function normalizedRmse(sse: ArrayLike<number>, count: ArrayLike<number>, std: Float64Array, offset: number): number {
  let sum = 0;
  let n = 0;
  for (let j = 0; j < std.length; j++) {
    const c = count[offset + j]!;
    const sd = std[j]!;
    if (c > 0 && sd > 0) {
      sum += Math.sqrt(sse[offset + j]! / c) / sd;
      n++;
    }
  }
  return n > 0 ? sum / n : NaN;
}

export function scoreTable(imputed: Matrix, truth: Truth): Score {
  const k = imputed.columns.length;
  if (truth.std.length !== k) throw new Error(`scoreTable: the imputed table has ${k} columns, the input ${truth.std.length}`);
  if (truth.band.length !== imputed.nRows)
    throw new Error(`scoreTable: the imputed table has ${imputed.nRows} rows, the masked input ${truth.band.length}`);
  const { hidden } = truth;
  const { sse, count } = scoreAddon().scoreCells(imputed.columns, hidden.rows, hidden.cols, hidden.values, truth.band, truth.nBands);
  const colSse = new Float64Array(k);
  const colCount = new Float64Array(k);
  let total = 0;
  let cells = 0;
  const bandNrmse: number[] = [];
  const bandCells: number[] = [];
  for (let b = 0; b < truth.nBands; b++) {
    let bc = 0;
    for (let j = 0; j < k; j++) {
      colSse[j]! += sse[b * k + j]!;
      colCount[j]! += count[b * k + j]!;
      total += sse[b * k + j]!;
      bc += count[b * k + j]!;
    }
    cells += bc;
    bandCells.push(bc);
    bandNrmse.push(normalizedRmse(sse, count, truth.std, b * k));
  }
  return { cells, rmse: cells > 0 ? Math.sqrt(total / cells) : NaN, nrmse: normalizedRmse(colSse, colCount, truth.std, 0), bandNrmse, bandCells };
}

/**
 * nRMSE (as above) over the hidden cells in rows of bands 0..lastBand only: the score of a
 * sequence's prefix, with later bands not imputed yet (their cells are ignored). For
 * lastBand = nBands − 1 it equals scoreTable's nRMSE. NaN when those rows hold no hidden cell.
 * Fills the missing cells of `columns` (a scratch copy) in place.
 */
export function prefixNrmse(columns: Float32Array[], truth: Truth, lastBand: number): number {
  const k = columns.length;
  const { hidden } = truth;
  // Rows of later bands still miss cells; zeros stand in (their errors are summed apart and never used).
  scoreAddon().fillColumns(columns, new Uint8Array(k).fill(1), new Float64Array(k));
  const { sse, count } = scoreAddon().scoreCells(columns, hidden.rows, hidden.cols, hidden.values, truth.band, truth.nBands);
  const colSse = new Float64Array(k);
  const colCount = new Float64Array(k);
  for (let b = 0; b <= lastBand; b++) {
    for (let j = 0; j < k; j++) {
      colSse[j]! += sse[b * k + j]!;
      colCount[j]! += count[b * k + j]!;
    }
  }
  return normalizedRmse(colSse, colCount, truth.std, 0);
}
