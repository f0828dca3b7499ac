// A dataset as the engine sees it: its matrix, content hash, global column statistics and the
// band of every row (for one set of band edges).
import { createHash } from 'node:crypto';

import type { Matrix } from '../tables/matrix.js';
import { TableInputError } from '../tables/errors.js';
import { readMatrix } from '../tables/io.js';
import { assignBands, type BandAssignment } from './bands.js';
import { fileHash } from './keys.js';
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
 * Reads a dataset for the engine. Besides the table layer's checks, a sweep needs at least one
 * data row and finite values only (±inf, or numbers beyond float32, cannot be imputed around).
 */
export async function loadDataset(name: string, path: string, edges: readonly number[]): Promise<DatasetState> {
  const matrix = await readMatrix(path);
  if (matrix.nRows === 0) throw new TableInputError(`${path}: the table has a header but no data rows`, path, { kind: 'not_imputable' });
  const inf = engineAddon().firstInfinite(matrix.columns);
  if (inf) {
    const [row, col] = inf;
    throw new TableInputError(
      `${path}, data row ${row + 1}, column '${matrix.names[col]}' (#${col + 1}): infinite value (or beyond the float32 range); ` +
        'cells must be finite numbers, or empty / NA / NaN when missing',
      path,
      { kind: 'not_imputable', column: col + 1, columnName: matrix.names[col] },
    );
  }
  const ds = datasetState(name, path, fileHash(path), matrix, edges);
  const empty = ds.stats.observed.findIndex((o) => o === 0);
  if (empty >= 0) {
    throw new TableInputError(
      `${path}, column '${matrix.names[empty]}' (#${empty + 1}): no observed cell at all; nothing can impute it (drop the column)`,
      path,
      { kind: 'not_imputable', column: empty + 1, columnName: matrix.names[empty] },
    );
  }
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
