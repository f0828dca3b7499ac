// Typed shape of the CSV functions of hierimpute_core (native/core/csv_binding.cc).
import { loadAddon } from '../bindings/load.js';

export interface NativeCsvTable {
  names: string[];
  columns: Float32Array[];
  nRows: number;
}

export interface TablesAddon {
  /**
   * Parses a numeric CSV file off the JS thread (see native/core/csv.h for the rules).
   * threads: 1 (default) = one thread, 0 = all cores; the result never depends on it.
   * finite: reject cells that read as ±inf (kind 'not_imputable', naming line and column).
   */
  readCsv(path: string, threads?: number, finite?: boolean): Promise<NativeCsvTable>;
  /** Writes a numeric CSV file atomically (temp file + fsync + rename + fsync of the folder). */
  writeCsv(path: string, names: readonly string[], columns: readonly Float32Array[], nRows: number, threads?: number): Promise<void>;
}

export function tablesAddon(): TablesAddon {
  return loadAddon<TablesAddon>('hierimpute_core');
}
