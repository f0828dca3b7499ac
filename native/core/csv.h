// Numeric CSV tables: parse a file into one float32 column per header name, and write such a table
// back as CSV. Pure C++ (no Node-API); csv_binding.cc exposes it to JavaScript.
//
// Reading
//   - The first non-blank line is the header, always (pandas' read_csv header=0): a line of numbers
//     such as "1856,1860,1864" is read as the column names "1856", "1860", "1864". Fields are split on ',' with RFC
//     4180 quoting
//     ("a ""quoted"" name", fields may span lines inside quotes); CRLF, LF or a lone CR end a
//     record; the final newline is optional; a UTF-8 byte order mark is skipped; spaces and tabs
//     around a field are ignored. Blank lines are skipped (as pandas' skip_blank_lines does).
//   - Header names: quoted names are kept exactly; unquoted names are trimmed.
//   - Cells: empty, or one of pandas' default NA tokens ("NA", "NaN", "nan", "N/A", "NULL", "null",
//     "None", "<NA>", "#N/A", ...) -> missing, stored as a quiet NaN. Anything else must be a
//     number: parsed as double with std::from_chars (an optional leading '+' is allowed; "inf" and
//     "infinity" are accepted like pandas does) and then cast to float32. Double-then-cast is
//     deliberate: the reference reads with pandas (float64) and then calls astype(float32), so the
//     same text gives the same float32 bits even in the rare cases where parsing straight to float32
//     would round differently (double rounding). Values beyond float32 range become +-inf, as
//     with numpy's cast.
//   - finite = true (readers of tables to impute): a cell that reads as +-inf ("inf", "-Infinity",
//     or a number beyond the float32 range) is an error (kNotImputable) at its line and column.
//   - Errors throw CsvInputError naming the file, the 1-based line and (for cells) the column name
//     and its 1-based index.
//
// Writing
//   - Header names are quoted only when needed (empty, a ',', '"', CR or LF, leading/trailing
//     spaces); numeric names ("1856") are written as they are, since the first line is always read
//     as the header. NaN is written as an empty cell (as "" when the table
//     has a single column, because a blank line would be skipped on reading).
//   - Each value is the shortest text that reads back to the same float32 (std::to_chars), laid
//     out like Python's repr: fixed notation when the decimal exponent is in [-4, 16), scientific
//     otherwise ("1e-05", "1e+16"); integers have no ".0".
//   - The file is written to a unique temp file in the target's folder, fsync'ed, renamed over the
//     target, and the folder is fsync'ed. On failure the temp file is removed and the target is left
//     as it was.
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace hierimpute::csv {

// What went wrong, as a stable code JavaScript can switch on.
enum class ErrorKind {
  kIo,                 // cannot open / read / write the file
  kEmptyFile,          // no header line at all
  kEmptyHeaderName,    // a header field is empty
  kDuplicateHeader,    // two header fields have the same name
  kRaggedRow,          // a row with a different number of fields than the header
  kNotANumber,         // a cell that is neither a number nor a missing-value token
  kUnterminatedQuote,  // a quoted field that never closes
  kBadQuote,           // text after a closing quote
  kInvalidArgument,    // writer: inconsistent names / columns
  kNotImputable,       // reader with finite = true: a cell that reads as +-inf
};

const char* ErrorKindCode(ErrorKind kind);  // "io", "empty_file", "not_a_number", ...

struct CsvInputError : std::runtime_error {
  CsvInputError(ErrorKind kind, const std::string& message, std::string file, int64_t line = 0, int64_t column = 0,
                std::string column_name = std::string(), int sys_errno = 0)
      : std::runtime_error(message),
        kind(kind),
        file(std::move(file)),
        line(line),
        column(column),
        column_name(std::move(column_name)),
        sys_errno(sys_errno) {}
  ErrorKind kind;
  std::string file;
  int64_t line;    // 1-based; 0 = not about one line
  int64_t column;  // 1-based; 0 = not about one column
  std::string column_name;
  int sys_errno;  // errno for kIo, else 0
};

struct Table {
  std::vector<std::string> names;
  std::vector<std::vector<float>> columns;  // columns[c].size() == n_rows
  size_t n_rows = 0;
};

// Threads: 1 = the calling thread only, 0 = all cores, n = at most n. Results (values, text, and
// which error is reported) never depend on it. Reading splits the body into pieces only when it
// holds no '"' at all (so every '\n' ends a record) and is at least 1 MiB per piece; a piece
// that fails makes the whole body be parsed again sequentially, so an error is always the first
// one in the file with its exact line. Writing formats blocks of 8192 rows in parallel and writes
// them in row order. Both run on ParallelFor (kernels/parallel.h), like the kernels.

// Parses CSV text; `file` is only used in error messages. `finite`: see "Reading" above.
Table ParseCsv(const char* data, size_t size, const std::string& file, int threads = 1, bool finite = false);

// Reads and parses a file (never modifies it).
Table ReadCsvFile(const std::string& path, int threads = 1, bool finite = false);

// Appends the CSV text of one float32 value (see "Writing" above); NaN appends nothing.
void AppendFloat(std::string& out, float value);

// Appends a header name, quoted when needed.
void AppendHeaderName(std::string& out, const std::string& name);

// Writes names + columns (each n_rows long) atomically to `path`.
void WriteCsvFile(const std::string& path, const std::vector<std::string>& names,
                  const std::vector<const float*>& columns, size_t n_rows, int threads = 1);

}  // namespace hierimpute::csv
