// Numeric CSV files <-> Matrix, through the native parser / writer (no per-cell JavaScript).
//
// Semantics (details in native/core/csv.h):
//   - the first line is always the header, even when every field is a number ("1856,1860" names
//     the columns "1856" and "1860", as pandas reads it); names kept (quoted names exactly,
//     unquoted ones trimmed); row order kept
//   - an empty cell, NA, NaN (and pandas' other default NA tokens) is missing -> NaN in the
//     Float32Array (there is no Arrow null bitmap: NaN is the only missing marker)
//   - numbers are parsed as float64 then cast to float32, like pandas read_csv + astype(float32)
//   - written values are the shortest text that reads back to the same float32; NaN -> empty cell
//   - writes are atomic; input files are never modified
import { fromNativeError } from './errors.js';
import { makeMatrix, type Matrix } from './matrix.js';
import { coreAddon } from '../bindings/core.js';

/** Options of the table readers / writers. */
export interface TableIoOptions {
  /** Native threads for CSV parsing / formatting: 1 (default) = one, 0 = all cores. Output never depends on it. */
  threads?: number;
  /**
   * Reading a table to impute: a cell that reads as ±inf ("inf", or a number beyond the float32
   * range) is a TableInputError (kind 'not_imputable') naming the file, line (CSV) or data row
   * (Arrow) and column. Default false: ±inf reads as a value, like pandas.
   */
  finite?: boolean;
}

/** Reads a numeric CSV file into a Matrix (one fresh Float32Array per column). */
export async function readCsv(path: string, options: TableIoOptions = {}): Promise<Matrix> {
  try {
    const t = await coreAddon().readCsv(path, options.threads ?? 1, options.finite ?? false);
    return makeMatrix(t.names, t.columns);
  } catch (err) {
    throw fromNativeError(err, path);
  }
}

/**
 * Parses CSV bytes already read (the same rules, values and errors as readCsv); `path` names the
 * file in error messages. `bytes` must not change until the Promise settles.
 */
export async function parseCsv(bytes: Uint8Array, path: string, options: TableIoOptions = {}): Promise<Matrix> {
  try {
    const t = await coreAddon().parseCsv(bytes, path, options.threads ?? 1, options.finite ?? false);
    return makeMatrix(t.names, t.columns);
  } catch (err) {
    throw fromNativeError(err, path);
  }
}

/** Writes a Matrix as CSV, atomically (the native writer does temp file + fsync + rename itself). */
export async function writeCsv(m: Matrix, path: string, options: TableIoOptions = {}): Promise<void> {
  try {
    await coreAddon().writeCsv(path, m.names, m.columns, m.nRows, options.threads ?? 1);
  } catch (err) {
    throw fromNativeError(err, path);
  }
}
