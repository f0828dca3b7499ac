// The one error type for bad table input: it names the file and, when it is about one place in
// it, the 1-based line and column (index and name). The message already contains all of them.

/** Stable codes for what went wrong (the native reader's `kind`, plus the TypeScript-side ones). */
export type TableErrorKind =
  | 'io' // cannot open / read / write the file (see `errno`)
  | 'empty_file' // no header line
  | 'empty_header_name'
  | 'duplicate_header'
  | 'ragged_row' // a row with a different number of fields than the header
  | 'not_a_number' // a cell that is neither a number nor a missing-value token
  | 'unterminated_quote'
  | 'bad_quote' // text after a closing quote
  | 'invalid_argument' // a table that cannot be written (empty or duplicate names, ...)
  | 'unsupported_format' // an extension other than .csv / .arrow
  | 'bad_arrow' // an .arrow file that cannot be decoded, or a column that is not numeric
  | 'dataset_collision' // two files map to the same dataset name
  | 'not_found' // dataset folder or dataset name missing
  | 'not_imputable'; // readable, but imputation cannot run on it (±inf, no rows, a column never observed)

export interface TableErrorDetails {
  kind: TableErrorKind;
  line?: number;
  column?: number;
  columnName?: string;
  errno?: number;
  cause?: unknown;
}

/** A table that cannot be read, written or imputed; names the file and, when known, line and column. */
export class TableInputError extends Error {
  override readonly name = 'TableInputError';
  /** The file (or folder) at fault. */
  readonly file: string;
  /** 1-based line in `file`, when the error is about one line. */
  readonly line?: number;
  /** 1-based column index, when the error is about one column. */
  readonly column?: number;
  /** Name of that column, when known. */
  readonly columnName?: string;
  readonly kind: TableErrorKind;
  /** OS error number for kind 'io' (e.g. 2 = ENOENT). */
  readonly errno?: number;

  constructor(message: string, file: string, details: TableErrorDetails) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.file = file;
    this.kind = details.kind;
    if (details.line) this.line = details.line;
    if (details.column) this.column = details.column;
    if (details.columnName) this.columnName = details.columnName;
    if (details.errno) this.errno = details.errno;
  }
}

/** The shape of a rejection from the native readCsv / writeCsv. */
interface NativeCsvError extends Error {
  kind?: string;
  file?: string;
  line?: number;
  column?: number;
  columnName?: string;
  errno?: number;
}

/** Turns a native CSV error into a TableInputError; anything else is returned unchanged. */
export function fromNativeError(err: unknown, file: string): unknown {
  const e = err as NativeCsvError;
  if (!(err instanceof Error) || typeof e.kind !== 'string') return err;
  const details: TableErrorDetails = { kind: e.kind as TableErrorKind };
  if (e.line) details.line = e.line;
  if (e.column) details.column = e.column;
  if (e.columnName) details.columnName = e.columnName;
  if (e.errno) details.errno = e.errno;
  return new TableInputError(e.message, e.file || file, details);
}
