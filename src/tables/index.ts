// Public API of the table I/O (`hierimpute/tables`): numeric CSV and Arrow IPC files to and from a
// Matrix (named Float32 columns, NaN = missing) or an Arrow table, and dataset discovery in a folder.

/** Named Float32 columns, NaN = missing: the in-memory table every method works on. */
export type { Matrix } from './matrix.js';
/** Builds a Matrix from names and columns (checked for equal lengths; not copied). */
export { makeMatrix } from './matrix.js';
/** Read / write a .csv or .arrow file (chosen by extension; writes are atomic), as a Matrix or an Arrow table. */
export { readMatrix, writeMatrix, readTable, writeTable, tableFormat, type TableFormat, type TableIoOptions } from './io.js';
/** Converts between an Arrow table and a Matrix. */
export { tableToMatrix, matrixToTable } from './arrow.js';
/** The datasets of a folder: every `*.csv` directly in it, named after the file (`-` -> `_`). */
export { discoverDatasets, type Dataset } from './datasets.js';
/** The error for unusable table input, naming file, line and column. */
export { TableInputError, type TableErrorKind } from './errors.js';
