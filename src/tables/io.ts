// Reading and writing tables by file extension: .csv (native parser / writer) or .arrow (IPC file).
//
// The table shape: named Float32 columns, row order and header order kept. Missing = NaN inside
// the Float32 data; there is NO Arrow null bitmap on tables made here (fields are non-nullable and
// the schema carries metadata hierimpute.missing=NaN). Foreign .arrow files with nulls or other
// numeric types are converted on reading (nulls -> NaN, values -> float32).
//
// CSV reading (native/core/csv.h has the full rules):
//   - the first line is always the header (numeric names too, as pandas reads them); ',' separated;
//     RFC 4180 quotes; CRLF / LF / CR; optional final newline; BOM skipped; spaces around fields
//     ignored; blank lines skipped
//   - missing: empty cell, NA, NaN and pandas' other default NA tokens (N/A, NULL, null, None, ...)
//   - numbers: parsed as float64 (std::from_chars, correctly rounded) then cast to float32, which is
//     what pandas read_csv + astype(float32) does; bit-identical to Python float() + numpy cast
//   - errors (TableInputError) name the file, the 1-based line and the column name + 1-based index
// CSV writing: the shortest text that reads back to the same float32, laid out like numpy's repr of
//   a float32 without the trailing ".0" ("0.1", "12.5", "-3", "1e-05", "100000", "1e+16"); NaN is an
//   empty cell ("" for a one-column table); header names quoted only when needed (a ',', a quote, a
//   line break, spaces at either end, or empty; never just for being numeric). Text differs from
//   the input only in layout, never in value: "1.50" -> "1.5", "1e5" -> "100000", "0.00001" -> "1e-05",
//   "+4" -> "4", ".5" -> "0.5"; inputs with more digits than float32 holds come back rounded
//   ("16777217" -> "16777216", "0.1234567891" -> "0.12345679").
// Options: { threads } for the native CSV parser / formatter (1 = one thread, the default and what
//   MPI ranks use; 0 = all cores); values, text and the error reported never depend on it.
//   { finite: true } when reading a table to impute: ±inf cells are errors naming file, line, column.
// All writes are atomic (temp file in the same folder + fsync + rename + fsync of the folder; the
// native CSV writer does this itself, .arrow goes through util/atomic-write); input files are never
// modified.
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';

import type * as arrow from 'apache-arrow';

import { parseCsv, readCsv, writeCsv, type TableIoOptions } from './csv.js';
import { TableInputError } from './errors.js';
import type { Matrix } from './matrix.js';

/** Arrow (a large library) loads on the first .arrow file or Arrow table, not for CSV. */
async function arrowIo(): Promise<typeof import('./arrow.js') & typeof import('./ipc.js')> {
  const [conv, ipc] = await Promise.all([import('./arrow.js'), import('./ipc.js')]);
  return { ...conv, ...ipc };
}

export type { TableIoOptions };
export type TableFormat = 'csv' | 'arrow';

/** The format a path names, by extension (case-insensitive). */
export function tableFormat(path: string): TableFormat {
  const ext = extname(path).toLowerCase();
  if (ext === '.csv') return 'csv';
  if (ext === '.arrow') return 'arrow';
  throw new TableInputError(
    `${path}: unsupported table format '${ext || '(no extension)'}'; use a .csv file (numeric CSV with a header) or an .arrow file (Arrow IPC file format)`,
    path,
    { kind: 'unsupported_format' },
  );
}

/** Reads a .csv or .arrow file into an Arrow table of Float32 columns (NaN = missing, no nulls). */
export async function readTable(path: string, options: TableIoOptions = {}): Promise<arrow.Table> {
  const format = tableFormat(path);
  const { matrixToTable, readArrowFile } = await arrowIo();
  return format === 'csv' ? matrixToTable(await readCsv(path, options)) : readArrowFile(path);
}

/** Writes a table as .csv or .arrow (by extension), atomically. */
export async function writeTable(table: arrow.Table, path: string, options: TableIoOptions = {}): Promise<void> {
  const format = tableFormat(path);
  const { tableToMatrix, writeArrowFile } = await arrowIo();
  if (format === 'csv') await writeCsv(tableToMatrix(table, path), path, options);
  else await writeArrowFile(table, path);
}

/** Reads a .csv or .arrow file into a Matrix. */
export async function readMatrix(path: string, options: TableIoOptions = {}): Promise<Matrix> {
  if (tableFormat(path) === 'csv') return readCsv(path, options);
  const { readArrowFile, tableToMatrix } = await arrowIo();
  const m = tableToMatrix(await readArrowFile(path), path);
  if (options.finite) rejectInfinite(m, path);
  return m;
}

/**
 * Reads a .csv or .arrow file once and returns its Matrix with the exact bytes it was parsed from,
 * so that a content hash covers what was parsed (a second read could see a file changed in
 * between). Values, checks and errors are readMatrix's.
 */
export async function readMatrixBytes(path: string, options: TableIoOptions = {}): Promise<{ matrix: Matrix; bytes: Uint8Array }> {
  const format = tableFormat(path);
  const bytes = await readFileBytes(path, format);
  if (format === 'csv') return { matrix: await parseCsv(bytes, path, options), bytes };
  const { arrowFromBytes, tableToMatrix } = await arrowIo();
  const matrix = tableToMatrix(arrowFromBytes(bytes, path), path);
  if (options.finite) rejectInfinite(matrix, path);
  return { matrix, bytes };
}

/**
 * A file's bytes; a failure is the TableInputError each reader gave before: for CSV worded as the
 * native reader words it ("cannot open '<file>': No such file or directory"), for Arrow as readArrowFile.
 */
async function readFileBytes(path: string, format: TableFormat): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const errno = typeof e.errno === 'number' && e.errno !== 0 ? Math.abs(e.errno) : undefined;
    const message =
      format === 'arrow' ? `cannot open '${path}': ${e.message}` : `cannot ${e.syscall === 'open' ? 'open' : 'read'} '${path}': ${systemReason(e)}`;
    throw new TableInputError(message, path, { kind: 'io', errno, cause: err });
  }
}

/** The system's reason of a Node file error, as strerror() words it ("No such file or directory"). */
function systemReason(e: NodeJS.ErrnoException): string {
  if (e.code === 'EISDIR') return 'Is a directory';
  // Node's text is "<CODE>: <reason>, <syscall> '<path>'".
  const m = /^[A-Z0-9_]+: (.*?), [a-z]+(?: '.*')?$/s.exec(e.message);
  const reason = m ? m[1]! : e.message;
  return reason.charAt(0).toUpperCase() + reason.slice(1);
}

/** The finite check of an Arrow table (the CSV reader does it natively, with line numbers). */
function rejectInfinite(m: Matrix, path: string): void {
  // The first ±inf in row-major order, as the CSV reader would meet it.
  let at: { row: number; col: number } | undefined;
  m.columns.forEach((c, col) => {
    const end = at ? at.row : c.length; // only an earlier row can come first
    for (let row = 0; row < end; row++) {
      if (c[row] === Infinity || c[row] === -Infinity) {
        at = { row, col };
        break;
      }
    }
  });
  if (!at) return;
  const name = m.names[at.col]!;
  throw new TableInputError(
    `${path}, data row ${at.row + 1}, column '${name}' (#${at.col + 1}): ${m.columns[at.col]![at.row]! < 0 ? '-inf' : 'inf'} is an ` +
      'infinite value; cells to impute must be finite numbers, or NaN when missing',
    path,
    { kind: 'not_imputable', column: at.col + 1, columnName: name },
  );
}

/** Writes a Matrix as .csv or .arrow (by extension), atomically. */
export async function writeMatrix(m: Matrix, path: string, options: TableIoOptions = {}): Promise<void> {
  if (tableFormat(path) === 'csv') return writeCsv(m, path, options);
  const { matrixToTable, writeArrowFile } = await arrowIo();
  await writeArrowFile(matrixToTable(m), path);
}
