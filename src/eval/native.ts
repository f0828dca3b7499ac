// Typed shape of the evaluation's native per-cell loops (native/core/score_binding.cc).
import { loadAddon } from '../bindings/load.js';

export interface HiddenCells {
  /** Row (0-based) of each hidden cell, row-major order (row, then column). */
  readonly rows: Int32Array;
  /** Column (0-based) of each hidden cell. */
  readonly cols: Int32Array;
  /** The observed value that was hidden. */
  readonly values: Float32Array;
}

export interface ScoreAddon {
  /** Hides round(share × observed) cells per column (never leaving fewer than minKeep observed). */
  holdoutMask(columns: readonly Float32Array[], share: number, seedHi: number, seedLo: number, minKeep: number): HiddenCells & { masked: Float32Array[] };
  /** Squared error of each hidden cell summed per (band of its row, column): index band × k + column. */
  scoreCells(
    imputed: readonly Float32Array[],
    rows: Int32Array,
    cols: Int32Array,
    values: Float32Array,
    rowBand: Int32Array,
    nBands: number,
  ): { sse: Float64Array; count: Int32Array };
  /** Population standard deviation (ddof 0) of each column's observed cells; NaN when none. */
  observedStd(columns: readonly Float32Array[]): Float64Array;
}

export function scoreAddon(): ScoreAddon {
  return loadAddon<ScoreAddon>('hierimpute_core');
}
