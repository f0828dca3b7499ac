// Reading and writing tables by file extension: .csv (native parser / writer) or .arrow (IPC file).
// All writes are atomic; input files are never modified.
import { extname } from 'node:path';

import type * as arrow from 'apache-arrow';

import { matrixToTable, tableToMatrix } from './arrow.js';
import { readCsv, writeCsv } from './csv.js';
import { TableInputError } from './errors.js';
import { readArrowFile, writeArrowFile } from './ipc.js';
import type { Matrix } from './matrix.js';

export type TableFormat = 'csv' | 'arrow';

/** The format a path names, by extension (case-insensitive). */
export function tableFormat(path: string): TableFormat {
  const ext = extname(path).toLowerCase();
  if (ext === '.csv') return 'csv';
  if (ext === '.arrow') return 'arrow';
  throw new TableInputError(
    `${path}: unsupported table format '${ext || '(no extension)'}'; use a .csv file (numeric CSV with a header) or an .arrow file (Arrow IPC file format)`,
    path, { kind: 'unsupported_format' });
}

/** Reads a .csv or .arrow file into an Arrow table of Float32 columns (NaN = missing, no nulls). */
export async function readTable(path: string): Promise<arrow.Table> {
  return tableFormat(path) === 'csv' ? matrixToTable(await readCsv(path)) : readArrowFile(path);
}

/** Writes a table as .csv or .arrow (by extension), atomically. */
export async function writeTable(table: arrow.Table, path: string): Promise<void> {
  if (tableFormat(path) === 'csv') await writeCsv(tableToMatrix(table, path), path);
  else await writeArrowFile(table, path);
}

/** Reads a .csv or .arrow file into a Matrix. */
export async function readMatrix(path: string): Promise<Matrix> {
  return tableFormat(path) === 'csv' ? readCsv(path) : tableToMatrix(await readArrowFile(path), path);
}

/** Writes a Matrix as .csv or .arrow (by extension), atomically. */
export async function writeMatrix(m: Matrix, path: string): Promise<void> {
  if (tableFormat(path) === 'csv') await writeCsv(m, path);
  else await writeArrowFile(matrixToTable(m), path);
}
