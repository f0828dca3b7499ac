// Typed shape of the engine's native row/band helpers (native/core/engine_binding.cc).
import { loadAddon } from '../bindings/load.js';

export interface EngineAddon {
  rowMissingCounts(columns: readonly Float32Array[]): Int32Array;
  takeRows(columns: readonly Float32Array[], rows: Int32Array): Float32Array[];
  scatterRows(target: readonly Float32Array[], rows: Int32Array, source: readonly Float32Array[]): void;
  columnStats(columns: readonly Float32Array[]): { min: Float64Array; max: Float64Array; mean: Float64Array; observed: Int32Array };
  /** Restores observed cells of `original`, clips imputed ones to [min, max]; returns NaN cells left. */
  finishBand(imputed: readonly Float32Array[], original: readonly Float32Array[], min: Float64Array, max: Float64Array): number;
  fillColumns(columns: readonly Float32Array[], which: Uint8Array, values: Float64Array): void;
  /** The first ±Infinity cell in row-major order, as [row, column], or null. */
  firstInfinite(columns: readonly Float32Array[]): [number, number] | null;
}

export function engineAddon(): EngineAddon {
  return loadAddon<EngineAddon>('hierimpute_core');
}
