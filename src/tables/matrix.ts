// The in-memory shape every kernel works on: named Float32 columns, NaN = missing.
// Columns are the Arrow column buffers themselves (no copy) when they come from a table.

export interface Matrix {
  /** Column names, in input order. */
  readonly names: readonly string[];
  /** One Float32Array per column, each of length nRows; NaN marks a missing cell. */
  readonly columns: readonly Float32Array[];
  readonly nRows: number;
}

/** A Matrix from column names and equally long Float32 columns (NaN = missing); the arrays are not copied. */
export function makeMatrix(names: readonly string[], columns: readonly Float32Array[]): Matrix {
  if (names.length !== columns.length) throw new Error(`matrix: ${names.length} names but ${columns.length} columns`);
  const nRows = columns[0]?.length ?? 0;
  columns.forEach((c, i) => {
    if (c.length !== nRows) throw new Error(`matrix: column '${names[i]}' has ${c.length} rows, expected ${nRows}`);
  });
  return { names, columns, nRows };
}
