// A dataset as the engine sees it: its matrix, content hash, global column statistics and the
// band of every row (for one set of band edges).
import { createHash } from 'node:crypto';

import type { Matrix } from '../tables/matrix.js';
import { TableInputError } from '../tables/errors.js';
import { readMatrix, readMatrixBytes } from '../tables/io.js';
import { assignBands, type BandAssignment } from './bands.js';
import { sha256 } from './keys.js';
import { engineAddon } from './native.js';

export interface ColumnStats {
  readonly min: Float64Array;
  readonly max: Float64Array;
  readonly mean: Float64Array;
  readonly observed: Int32Array;
}

export interface DatasetState {
  readonly name: string;
  /** Where it came from (a file path, or a description for in-memory tables). */
  readonly source: string;
  /** Content hash of the input: different content never shares cached results. */
  readonly hash: string;
  readonly matrix: Matrix;
  readonly stats: ColumnStats;
  readonly edges: readonly number[];
  readonly bands: BandAssignment;
}

export function datasetState(name: string, source: string, hash: string, matrix: Matrix, edges: readonly number[]): DatasetState {
  return { name, source, hash, matrix, stats: engineAddon().columnStats(matrix.columns), edges, bands: assignBands(matrix, edges) };
}

/**
 * Reads a table to impute (for `run` and `impute` alike): the table layer's checks plus finite
 * values only (±inf, or numbers beyond float32, cannot be imputed around), each error naming the
 * file, the line (CSV; the data row for Arrow) and the column.
 */
export function readImputable(path: string): Promise<Matrix> {
  return readMatrix(path, { finite: true });
}

/**
 * The error for the first column with no observed cell (nothing can impute it), naming the file and
 * the column; undefined when every column has one. `fix` ends the message.
 */
export function emptyColumnError(path: string, matrix: Matrix, observed: ArrayLike<number>, fix: string): TableInputError | undefined {
  for (let j = 0; j < matrix.names.length; j++) {
    if (observed[j] !== 0) continue;
    return new TableInputError(`${path}, column '${matrix.names[j]}' (#${j + 1}): no observed cell at all; nothing can impute it (${fix})`, path, {
      kind: 'not_imputable',
      column: j + 1,
      columnName: matrix.names[j]!,
    });
  }
  return undefined;
}

/**
 * Reads a dataset for the engine: readImputable, and a sweep also needs a data row and no empty
 * column. The file is read once: its content hash is over exactly the bytes that were parsed.
 */
export async function loadDataset(name: string, path: string, edges: readonly number[]): Promise<DatasetState> {
  const { matrix, bytes } = await readMatrixBytes(path, { finite: true });
  if (matrix.nRows === 0) throw new TableInputError(`${path}: the table has a header but no data rows`, path, { kind: 'not_imputable' });
  const ds = datasetState(name, path, sha256(bytes), matrix, edges);
  const empty = emptyColumnError(path, matrix, ds.stats.observed, 'drop the column');
  if (empty) throw empty;
  return ds;
}

/** Content hash of an in-memory matrix (names and cells). */
export function matrixHash(m: Matrix): string {
  const parts: Uint8Array[] = [Buffer.from(JSON.stringify(m.names))];
  for (const c of m.columns) parts.push(Buffer.from(c.buffer, c.byteOffset, c.byteLength));
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest('hex');
}
