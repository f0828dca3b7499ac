// Arrow IPC files (.arrow, the IPC *file* format; the stream format is also accepted on reading),
// so large runs can skip CSV parsing. Written atomically via util/atomic-write.
import { readFile } from 'node:fs/promises';

import * as arrow from 'apache-arrow';

import { writeFileAtomic } from '../util/atomic-write.js';
import { matrixToTable, tableToMatrix } from './arrow.js';
import { TableInputError } from './errors.js';

/**
 * Reads an .arrow file and returns it in hierimpute's shape: Float32 columns, one chunk each,
 * NaN = missing. A file written by writeArrowFile comes back zero-copy (the columns are views into
 * the file's bytes); a file with several record batches, nulls or other numeric types is
 * converted with one copy per column.
 */
export async function readArrowFile(path: string): Promise<arrow.Table> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new TableInputError(`cannot open '${path}': ${e.message}`, path, { kind: 'io', errno: errnoOf(e), cause: err });
  }
  return arrowFromBytes(bytes, path);
}

/**
 * An .arrow file's bytes, already read, as readArrowFile returns them (`path` names the file in
 * errors). The columns may be views into `bytes`.
 */
export function arrowFromBytes(bytes: Uint8Array, path: string): arrow.Table {
  let t: arrow.Table;
  try {
    t = arrow.tableFromIPC(bytes);
  } catch (err) {
    throw new TableInputError(`${path}: not a readable Arrow IPC file (${(err as Error).message})`, path, { kind: 'bad_arrow', cause: err });
  }
  if (t.schema.fields.length === 0) {
    throw new TableInputError(`${path}: the Arrow file has no columns`, path, { kind: 'empty_file' });
  }
  return isMatrixShaped(t) ? t : matrixToTable(tableToMatrix(t, path));
}

/** Writes a table as an Arrow IPC file, atomically. */
export async function writeArrowFile(table: arrow.Table, path: string): Promise<void> {
  const bytes = arrow.tableToIPC(table, 'file');
  try {
    await writeFileAtomic(path, bytes);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new TableInputError(e.message, path, { kind: 'io', errno: errnoOf(e.cause ?? e), cause: err });
  }
}

function errnoOf(err: unknown): number | undefined {
  const n = (err as NodeJS.ErrnoException | undefined)?.errno;
  return typeof n === 'number' && n !== 0 ? Math.abs(n) : undefined;
}

function isMatrixShaped(t: arrow.Table): boolean {
  if (t.batches.length !== 1) return false;
  return t.schema.fields.every((f, i) => {
    const data = t.getChildAt(i)?.data ?? [];
    return data.length === 1 && data[0]!.values instanceof Float32Array && data[0]!.nullCount === 0;
  });
}
