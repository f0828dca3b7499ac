// Matrix <-> apache-arrow Table, without copying when the table already holds what a Matrix is.
//
// Missing values are NaN inside the Float32 data; tables made here have no null bitmap and their
// fields are declared non-nullable (schema metadata "hierimpute.missing" = "NaN" says so).
// Tables from elsewhere (e.g. an .arrow file written by pyarrow) may use nulls and other numeric
// types; tableToMatrix then copies the column once, converting to float32 and nulls to NaN.
import * as arrow from 'apache-arrow';

import { TableInputError } from './errors.js';
import { makeMatrix, type Matrix } from './matrix.js';

export const MISSING_METADATA_KEY = 'hierimpute.missing';

/**
 * Arrow table -> Matrix. Zero-copy when a column is Float32, in one chunk, without nulls: the
 * Matrix column IS the Arrow data buffer (writes to one show in the other). Otherwise the column
 * is copied once into a fresh Float32Array (several record batches are concatenated; other numeric
 * types are converted; null slots become NaN). `source` names the table in error messages.
 */
export function tableToMatrix(t: arrow.Table, source = '<arrow table>'): Matrix {
  const fields = t.schema.fields;
  const names = fields.map((f) => f.name);
  const seen = new Map<string, number>();
  names.forEach((n, i) => {
    const prev = seen.get(n);
    if (prev !== undefined) {
      throw new TableInputError(`${source}: duplicate column name '${n}' at columns #${prev + 1} and #${i + 1}`, source, {
        kind: 'duplicate_header',
        column: i + 1,
        columnName: n,
      });
    }
    if (n === '') throw new TableInputError(`${source}, column #${i + 1}: empty column name`, source, { kind: 'empty_header_name', column: i + 1 });
    seen.set(n, i);
  });
  const columns = fields.map((f, i) => columnToFloat32(t.getChildAt(i) as arrow.Vector | null, t.numRows, f, i, source));
  return makeMatrix(names, columns);
}

/** Matrix -> Arrow table (zero-copy: each Arrow Float32 data buffer is the Matrix column itself). */
export function matrixToTable(m: Matrix): arrow.Table {
  const type = new arrow.Float32();
  const fields = m.names.map((n) => new arrow.Field(n, type, false));
  const schema = new arrow.Schema(fields, new Map([[MISSING_METADATA_KEY, 'NaN']]));
  const children = m.columns.map((c) => arrow.makeData({ type, length: m.nRows, nullCount: 0, data: c }));
  const struct = arrow.makeData({ type: new arrow.Struct(fields), length: m.nRows, nullCount: 0, children });
  return new arrow.Table(schema, [new arrow.RecordBatch(schema, struct)]);
}

function columnToFloat32(vec: arrow.Vector | null, nRows: number, field: arrow.Field, index: number, source: string): Float32Array {
  const where = `${source}, column '${field.name}' (#${index + 1})`;
  const type = field.type as arrow.DataType;
  if (!arrow.DataType.isFloat(type) && !arrow.DataType.isInt(type)) {
    throw new TableInputError(`${where}: type ${String(type)} is not numeric (hierimpute tables hold float32 numbers; NaN = missing)`, source, {
      kind: 'bad_arrow',
      column: index + 1,
      columnName: field.name,
    });
  }
  const chunks = (vec?.data ?? []) as arrow.Data[];
  const isF32 = (d: arrow.Data) => d.values instanceof Float32Array;
  if (chunks.length === 1 && isF32(chunks[0]!) && chunks[0]!.nullCount === 0) {
    const values = chunks[0]!.values as Float32Array;
    return values.length === chunks[0]!.length ? values : values.subarray(0, chunks[0]!.length);
  }
  const out = new Float32Array(nRows);
  let at = 0;
  for (const d of chunks) {
    out.set(chunkToFloat32(d, where, source, index, field.name), at);
    if (d.nullCount > 0) setNullsToNaN(out, at, d);
    at += d.length;
  }
  return out;
}

/** The chunk's values as numbers a Float32Array.set() can take (converted by V8, not per cell here). */
function chunkToFloat32(d: arrow.Data, where: string, source: string, index: number, name: string): ArrayLike<number> {
  const v = d.values as ArrayLike<number> | BigInt64Array | BigUint64Array | Uint16Array;
  const n = d.length;
  if (arrow.DataType.isFloat(d.type) && (d.type as arrow.Float).precision === arrow.Precision.HALF) {
    // Half floats are stored as Uint16 bit patterns: decode through Arrow (slow path, rare input).
    return Float32Array.from(new arrow.Vector([d]) as Iterable<number | null>, (x) => (x === null ? NaN : x));
  }
  if (v instanceof BigInt64Array || v instanceof BigUint64Array) {
    return Float32Array.from(v.subarray(0, n), (x) => Number(x)); // 64-bit integers: slow path, rare input
  }
  if (!v || typeof (v as ArrayLike<number>).length !== 'number') {
    throw new TableInputError(`${where}: cannot read this column's data`, source, { kind: 'bad_arrow', column: index + 1, columnName: name });
  }
  const typed = v as Float32Array | Float64Array | Int32Array;
  return typed.length === n ? typed : typed.subarray(0, n);
}

/** Null slots -> NaN, walking the validity bitmap a byte at a time (all-valid bytes skipped). */
function setNullsToNaN(out: Float32Array, at: number, d: arrow.Data): void {
  const bitmap = d.nullBitmap;
  if (!bitmap || bitmap.length === 0) return;
  for (let i = 0; i < d.length;) {
    const pos = d.offset + i;
    if ((pos & 7) === 0 && i + 8 <= d.length && bitmap[pos >> 3] === 0xff) {
      i += 8;
      continue;
    }
    if ((bitmap[pos >> 3]! & (1 << (pos & 7))) === 0) out[at + i] = NaN;
    i += 1;
  }
}
