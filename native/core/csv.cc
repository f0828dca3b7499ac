// Numeric CSV reader and writer; semantics documented in csv.h.
#include "csv.h"

#include "kernels/parallel.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <limits>
#include <random>
#include <string_view>
#include <system_error>
#include <unordered_map>

namespace hierimpute::csv {
namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

// One field of a record: the bytes between the delimiters (inside the quotes for a quoted field),
// spaces around it already removed for unquoted fields.
struct FieldView {
  const char* begin;
  const char* end;
  bool quoted;
  bool has_escapes;  // quoted and contains "" pairs: Text() must unescape
  std::string Text() const {
    if (!has_escapes) return std::string(begin, end);
    std::string s;
    s.reserve(static_cast<size_t>(end - begin));
    for (const char* p = begin; p < end; ++p) {
      s.push_back(*p);
      if (*p == '"') ++p;  // skip the second quote of a "" pair
    }
    return s;
  }
};

inline bool IsSpace(char c) { return c == ' ' || c == '\t'; }

std::string Quote(std::string_view text, size_t max_len = 80) {
  std::string s = "\"";
  if (text.size() > max_len) {
    s.append(text.substr(0, max_len));
    s += "...";
  } else {
    s.append(text);
  }
  s += '"';
  return s;
}

std::string Where(const std::string& file, int64_t line) { return file + ", line " + std::to_string(line); }

std::string ColumnLabel(const std::string& name, int64_t index1) {
  return "column '" + name + "' (#" + std::to_string(index1) + ")";
}

// Splits text into records. Tracks the physical line number (1-based).
class Scanner {
 public:
  Scanner(const char* data, size_t size, const std::string& file, bool at_file_start = true)
      : p_(data), end_(data + size), file_(file) {
    if (at_file_start && size >= 3 && static_cast<unsigned char>(data[0]) == 0xEF &&
        static_cast<unsigned char>(data[1]) == 0xBB && static_cast<unsigned char>(data[2]) == 0xBF) {
      p_ += 3;
    }
  }

  // Reads the next non-blank record into `fields`; returns false at end of input.
  // `record_line` receives the line the record starts on.
  bool Next(std::vector<FieldView>& fields, int64_t& record_line) {
    SkipBlankLines();
    if (p_ >= end_) return false;
    record_line = line_;
    fields.clear();
    for (;;) {
      while (p_ < end_ && IsSpace(*p_)) ++p_;
      FieldView f;
      if (p_ < end_ && *p_ == '"') {
        const int64_t open_line = line_;
        ++p_;
        const char* b = p_;
        bool escapes = false;
        for (;;) {
          const char* q = static_cast<const char*>(std::memchr(p_, '"', static_cast<size_t>(end_ - p_)));
          if (!q) {
            throw CsvInputError(ErrorKind::kUnterminatedQuote,
                                Where(file_, open_line) + ", field #" + std::to_string(fields.size() + 1) +
                                    ": a quoted field is never closed (missing '\"')",
                                file_, open_line, static_cast<int64_t>(fields.size() + 1));
          }
          CountNewlines(p_, q);
          if (q + 1 < end_ && q[1] == '"') {
            escapes = true;
            p_ = q + 2;
            continue;
          }
          f = FieldView{b, q, true, escapes};
          p_ = q + 1;
          break;
        }
        while (p_ < end_ && IsSpace(*p_)) ++p_;
        if (p_ < end_ && *p_ != ',' && *p_ != '\n' && *p_ != '\r') {
          throw CsvInputError(ErrorKind::kBadQuote,
                              Where(file_, line_) + ", field #" + std::to_string(fields.size() + 1) + ": unexpected " +
                                  Quote(std::string_view(p_, 1)) +
                                  " after a closing quote (a quote inside a quoted field is written \"\")",
                              file_, line_, static_cast<int64_t>(fields.size() + 1));
        }
      } else {
        const char* b = p_;
        while (p_ < end_ && *p_ != ',' && *p_ != '\n' && *p_ != '\r') ++p_;
        const char* e = p_;
        while (e > b && IsSpace(e[-1])) --e;
        f = FieldView{b, e, false, false};
      }
      fields.push_back(f);
      if (p_ >= end_) break;
      if (*p_ == ',') {
        ++p_;
        continue;
      }
      EatNewline();
      break;
    }
    return true;
  }

  // Fast path for the common record: every field an unquoted number or empty. Writes the values
  // to dst[c][row] and returns true; returns false, consuming nothing, when the record needs the
  // general path (blank line, quotes, NA tokens, '+', out-of-range numbers, errors), which then
  // parses it again from the start (so both paths accept and reject exactly the same input).
  // finite: a value that reads as +-inf also takes the general path, which reports it.
  bool TryFastRecord(size_t n_cols, float* const* dst, size_t row, bool finite) {
    const char* p = p_;
    const char* const end = end_;
    while (p < end && IsSpace(*p)) ++p;
    if (p >= end || *p == '\n' || *p == '\r') return false;  // end, or a blank line to skip
    for (size_t c = 0; c < n_cols; ++c) {
      while (p < end && IsSpace(*p)) ++p;
      float v = kNaN;  // empty cell unless a number follows
      if (p < end && ((*p >= '0' && *p <= '9') || *p == '-' || *p == '.')) {
        double d = 0;
        const auto r = std::from_chars(p, end, d, std::chars_format::general);
        if (r.ec != std::errc()) return false;
        p = r.ptr;
        while (p < end && IsSpace(*p)) ++p;
        v = std::isnan(d) ? kNaN : static_cast<float>(d);
        if (finite && std::isinf(v)) return false;
      }
      if (c + 1 < n_cols) {
        if (p >= end || *p != ',') return false;
        ++p;
      } else if (p < end && *p != '\n' && *p != '\r') {
        return false;
      }
      dst[c][row] = v;
    }
    if (p < end) {
      if (*p == '\r' && p + 1 < end && p[1] == '\n') ++p;
      ++p;
      ++line_;
    }
    p_ = p;
    return true;
  }

  const char* pos() const { return p_; }
  const char* end() const { return end_; }

  // Upper bound on the number of records left (for reserving column storage).
  size_t CountRemainingLines() const {
    size_t n = 1;
    for (const char* p = p_; p < end_;) {
      const char* q = static_cast<const char*>(std::memchr(p, '\n', static_cast<size_t>(end_ - p)));
      if (!q) break;
      ++n;
      p = q + 1;
    }
    return n;
  }

 private:
  void EatNewline() {
    if (*p_ == '\r') {
      ++p_;
      if (p_ < end_ && *p_ == '\n') ++p_;
    } else {
      ++p_;
    }
    ++line_;
  }

  void CountNewlines(const char* b, const char* e) {
    for (const char* p = b; p < e; ++p) {
      if (*p == '\n') {
        ++line_;
      } else if (*p == '\r' && (p + 1 >= e || p[1] != '\n')) {
        ++line_;
      }
    }
  }

  void SkipBlankLines() {
    while (p_ < end_) {
      const char* q = p_;
      while (q < end_ && IsSpace(*q)) ++q;
      if (q >= end_) {
        p_ = q;
        return;
      }
      if (*q != '\n' && *q != '\r') return;
      p_ = q;
      EatNewline();
    }
  }

  const char* p_;
  const char* end_;
  const std::string& file_;
  int64_t line_ = 1;
};

// pandas' default NA tokens (read_csv keep_default_na=True), minus "" which is handled apart.
bool IsNaToken(std::string_view s) {
  static const std::string_view kTokens[] = {"#N/A", "#N/A N/A", "#NA",     "-1.#IND", "-1.#QNAN", "-NaN",
                                             "-nan", "1.#IND",   "1.#QNAN", "<NA>",    "N/A",      "NA",
                                             "NULL", "NaN",      "None",    "n/a",     "nan",      "null"};
  for (std::string_view t : kTokens) {
    if (s == t) return true;
  }
  return false;
}

// Strict number: [+|-]digits[.digits][e[+|-]digits], ".5", "1.", inf, infinity, nan.
// Parses as double, then casts to float32 (see csv.h for why).
bool ParseNumber(const char* b, const char* e, float& out) {
  if (b == e) return false;
  const char* s = b;
  if (*s == '+') {
    ++s;
    if (s == e || *s == '-' || *s == '+') return false;
  }
  double d = 0;
  auto r = std::from_chars(s, e, d, std::chars_format::general);
  if (r.ptr != e) return false;
  if (r.ec == std::errc::result_out_of_range) {
    // from_chars reports overflow / underflow without a value; strtod gives +-HUGE_VAL or the
    // (sub)normal/zero result, as numpy would.
    std::string tmp(s, e);
    d = std::strtod(tmp.c_str(), nullptr);
  } else if (r.ec != std::errc()) {
    return false;
  }
  out = std::isnan(d) ? kNaN : static_cast<float>(d);
  return true;
}

// A data cell: number, or missing.
inline bool ParseCell(const FieldView& f, float& out) {
  const char* b = f.begin;
  const char* e = f.end;
  if (f.quoted) {
    if (f.has_escapes) return false;
    while (b < e && IsSpace(*b)) ++b;
    while (e > b && IsSpace(e[-1])) --e;
  }
  if (b == e) {
    out = kNaN;
    return true;
  }
  if (ParseNumber(b, e, out)) return true;
  if (IsNaToken(std::string_view(b, static_cast<size_t>(e - b)))) {
    out = kNaN;
    return true;
  }
  return false;
}

// The first record is always the header, as pandas' read_csv (header=0) reads it: numeric fields
// ("1856,1860,...") are column names like any other.
std::vector<std::string> ParseHeader(const std::vector<FieldView>& fields, int64_t line, const std::string& file) {
  std::vector<std::string> names;
  names.reserve(fields.size());
  std::unordered_map<std::string, size_t> seen;
  for (size_t i = 0; i < fields.size(); ++i) {
    std::string name = fields[i].Text();
    const int64_t idx1 = static_cast<int64_t>(i + 1);
    if (name.empty()) {
      std::string hint = (i + 1 == fields.size() && fields.size() > 1) ? " (a trailing ',' on the header line?)" : "";
      throw CsvInputError(
          ErrorKind::kEmptyHeaderName,
          Where(file, line) + ", column #" + std::to_string(idx1) + ": empty column name in the header" + hint, file,
          line, idx1);
    }
    auto [it, inserted] = seen.emplace(name, i);
    if (!inserted) {
      throw CsvInputError(ErrorKind::kDuplicateHeader,
                          Where(file, line) + ": duplicate column name '" + name + "' at columns #" +
                              std::to_string(it->second + 1) + " and #" + std::to_string(idx1),
                          file, line, idx1, name);
    }
    names.push_back(std::move(name));
  }
  return names;
}

[[noreturn]] void ThrowIo(const std::string& what, const std::string& path, int err) {
  std::string msg = what + " '" + path + "': " + std::strerror(err);
  throw CsvInputError(ErrorKind::kIo, msg, path, 0, 0, std::string(), err);
}

std::string ReadWholeFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) ThrowIo("cannot open", path, errno);
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    ThrowIo("cannot stat", path, err);
  }
  if (S_ISDIR(st.st_mode)) {
    ::close(fd);
    ThrowIo("cannot read", path, EISDIR);
  }
  std::string data;
  data.resize(st.st_size > 0 ? static_cast<size_t>(st.st_size) : 0);
  size_t got = 0;
  for (;;) {
    if (got == data.size()) data.resize(data.size() + (1 << 16));  // file grew or size unknown
    ssize_t n = ::read(fd, &data[got], data.size() - got);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      ThrowIo("cannot read", path, err);
    }
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  ::close(fd);
  data.resize(got);
  return data;
}

// ---- writing ----

std::string DirName(const std::string& path) {
  size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

std::string BaseName(const std::string& path) {
  size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string UniqueSuffix() {
  static std::atomic<uint64_t> counter{0};
  static const uint64_t salt = [] {
    std::random_device rd;
    return (static_cast<uint64_t>(rd()) << 32) ^ rd() ^
           static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
  }();
  uint64_t x = salt + 0x9E3779B97F4A7C15ull * (counter.fetch_add(1) + 1);
  x ^= x >> 31;
  char buf[17];
  static const char* hex = "0123456789abcdef";
  for (int i = 15; i >= 0; --i) {
    buf[i] = hex[x & 15];
    x >>= 4;
  }
  buf[16] = 0;
  return std::to_string(::getpid()) + "-" + buf;
}

class FileWriter {
 public:
  FileWriter(int fd, const std::string& path) : fd_(fd), path_(path) {}
  void Write(const std::string& s) {
    const char* p = s.data();
    size_t left = s.size();
    while (left > 0) {
      ssize_t n = ::write(fd_, p, left);
      if (n < 0) {
        if (errno == EINTR) continue;
        ThrowIo("cannot write", path_, errno);
      }
      p += n;
      left -= static_cast<size_t>(n);
    }
  }

 private:
  int fd_;
  const std::string& path_;
};

bool NeedsQuoting(const std::string& name) {
  if (name.empty()) return true;
  if (IsSpace(name.front()) || IsSpace(name.back())) return true;
  for (char c : name) {
    if (c == ',' || c == '"' || c == '\n' || c == '\r') return true;
  }
  return false;
}

void FsyncDir(const std::string& dir) {
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return;  // best effort: some file systems refuse to open folders
  ::fsync(dfd);
  ::close(dfd);
}

}  // namespace

const char* ErrorKindCode(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kIo:
      return "io";
    case ErrorKind::kEmptyFile:
      return "empty_file";
    case ErrorKind::kEmptyHeaderName:
      return "empty_header_name";
    case ErrorKind::kDuplicateHeader:
      return "duplicate_header";
    case ErrorKind::kRaggedRow:
      return "ragged_row";
    case ErrorKind::kNotANumber:
      return "not_a_number";
    case ErrorKind::kUnterminatedQuote:
      return "unterminated_quote";
    case ErrorKind::kBadQuote:
      return "bad_quote";
    case ErrorKind::kInvalidArgument:
      return "invalid_argument";
    case ErrorKind::kNotImputable:
      return "not_imputable";
  }
  return "unknown";
}

namespace {

// The error for a cell that reads as +-inf when the caller asked for finite values.
[[noreturn]] void ThrowNotFinite(const std::string& file, int64_t line, const std::string& name, size_t c,
                                 const std::string& text, float v) {
  // "inf" / "-Infinity" say so themselves; a long number that overflows float32 needs the reason.
  const bool spelled_inf = text.find_first_of("iI") != std::string::npos;
  const std::string what = spelled_inf ? " is an infinite value"
                                       : std::string(" is beyond the float32 range (about +-3.4e38), so it reads as ") +
                                             (v < 0 ? "-inf" : "inf");
  throw CsvInputError(ErrorKind::kNotImputable,
                      Where(file, line) + ", " + ColumnLabel(name, static_cast<int64_t>(c + 1)) + ": " + Quote(text) +
                          what + "; cells to impute must be finite numbers, or empty / NA / NaN when missing",
                      file, line, static_cast<int64_t>(c + 1), name);
}

// Parses the data records left in `scanner` into one vector per column.
std::vector<std::vector<float>> ParseRows(Scanner& scanner, const std::vector<std::string>& names,
                                          const std::string& file, bool finite, size_t& n_rows) {
  const size_t n_cols = names.size();
  std::vector<std::vector<float>> columns(n_cols);
  std::vector<FieldView> fields;
  int64_t line = 0;
  // At most one record per remaining line: size the columns once, write through raw pointers,
  // trim at the end.
  size_t capacity = scanner.CountRemainingLines();
  std::vector<float*> dst(n_cols);
  for (size_t c = 0; c < n_cols; ++c) {
    columns[c].resize(capacity);
    dst[c] = columns[c].data();
  }
  size_t row = 0;
  for (;;) {
    if (row == capacity) {  // only when lines end in a lone CR (the estimate counts '\n')
      capacity = capacity * 2 + 1024;
      for (size_t c = 0; c < n_cols; ++c) {
        columns[c].resize(capacity);
        dst[c] = columns[c].data();
      }
    }
    if (scanner.TryFastRecord(n_cols, dst.data(), row, finite)) {
      ++row;
      continue;
    }
    if (!scanner.Next(fields, line)) break;
    if (fields.size() != n_cols) {
      throw CsvInputError(ErrorKind::kRaggedRow,
                          Where(file, line) + ": expected " + std::to_string(n_cols) +
                              " fields (one per header column), got " + std::to_string(fields.size()),
                          file, line);
    }
    for (size_t c = 0; c < n_cols; ++c) {
      float v;
      if (!ParseCell(fields[c], v)) {
        const FieldView& f = fields[c];
        std::string text = f.Text();
        std::string hint;
        if (text.find(';') != std::string::npos || text.find('\t') != std::string::npos) {
          hint = "; this reader splits fields on ',' only: is the file ';'- or tab-separated?";
        }
        throw CsvInputError(ErrorKind::kNotANumber,
                            Where(file, line) + ", " + ColumnLabel(names[c], static_cast<int64_t>(c + 1)) + ": " +
                                Quote(text) +
                                " is not a number (a cell must be a number, or empty / NA / NaN when missing)" + hint,
                            file, line, static_cast<int64_t>(c + 1), names[c]);
      }
      if (finite && std::isinf(v)) ThrowNotFinite(file, line, names[c], c, fields[c].Text(), v);
      dst[c][row] = v;
    }
    ++row;
  }
  for (auto& c : columns) c.resize(row);
  n_rows = row;
  return columns;
}

constexpr size_t kMinChunkBytes = 1 << 20;

// Parallel body parse, used when the body has no quote at all (so every '\n' ends a record):
// the body is cut after a '\n' into `n_threads` pieces parsed independently, then concatenated in
// order. Returns false when any piece fails; the caller then parses sequentially, so an error is
// always the first one in file order with its exact line number.
bool ParseRowsParallel(const char* body, const char* end, unsigned n_threads, const std::vector<std::string>& names,
                       const std::string& file, bool finite, Table& t) {
  std::vector<const char*> cuts{body};
  const size_t len = static_cast<size_t>(end - body);
  for (unsigned k = 1; k < n_threads; ++k) {
    const char* at = body + len / n_threads * k;
    if (at <= cuts.back()) continue;
    const char* nl = static_cast<const char*>(std::memchr(at, '\n', static_cast<size_t>(end - at)));
    if (!nl || nl + 1 >= end) break;
    if (nl + 1 > cuts.back()) cuts.push_back(nl + 1);
  }
  cuts.push_back(end);
  const size_t n_pieces = cuts.size() - 1;
  if (n_pieces < 2) return false;
  struct Piece {
    std::vector<std::vector<float>> columns;
    size_t n_rows = 0;
    bool failed = false;
    std::exception_ptr other;  // not an input error (e.g. out of memory): rethrown
  };
  std::vector<Piece> pieces(n_pieces);
  auto work = [&](size_t i) {
    try {
      Scanner s(cuts[i], static_cast<size_t>(cuts[i + 1] - cuts[i]), file, /*at_file_start=*/false);
      pieces[i].columns = ParseRows(s, names, file, finite, pieces[i].n_rows);
    } catch (const CsvInputError&) {
      pieces[i].failed = true;
    } catch (...) {
      pieces[i].other = std::current_exception();
    }
  };
  // One worker per piece; `work` catches everything, so no piece is skipped by a failing one.
  ParallelFor(n_pieces, static_cast<int>(n_pieces), [&](size_t i, int) { work(i); });
  size_t total = 0;
  for (auto& p : pieces) {
    if (p.other) std::rethrow_exception(p.other);
    if (p.failed) return false;
    total += p.n_rows;
  }
  t.columns.assign(names.size(), std::vector<float>());
  for (size_t c = 0; c < names.size(); ++c) {
    t.columns[c].resize(total);
    size_t at = 0;
    for (auto& p : pieces) {
      if (p.n_rows) std::memcpy(t.columns[c].data() + at, p.columns[c].data(), p.n_rows * sizeof(float));
      at += p.n_rows;
      std::vector<float>().swap(p.columns[c]);
    }
  }
  t.n_rows = total;
  return true;
}

}  // namespace

Table ParseCsv(const char* data, size_t size, const std::string& file, int threads, bool finite) {
  Scanner scanner(data, size, file);
  std::vector<FieldView> fields;
  int64_t line = 0;
  if (!scanner.Next(fields, line)) {
    throw CsvInputError(ErrorKind::kEmptyFile,
                        file + ": empty file (expected a header line with column names, then one line per row)", file);
  }
  Table t;
  t.names = ParseHeader(fields, line, file);
  const char* body = scanner.pos();
  const size_t body_len = static_cast<size_t>(scanner.end() - body);
  // At most one piece per kMinChunkBytes of body (1 when the body is shorter).
  const unsigned n_threads = static_cast<unsigned>(ResolveThreads(threads, body_len / kMinChunkBytes));
  if (n_threads > 1 && !std::memchr(body, '"', body_len) &&
      ParseRowsParallel(body, scanner.end(), n_threads, t.names, file, finite, t)) {
    return t;
  }
  t.columns = ParseRows(scanner, t.names, file, finite, t.n_rows);
  return t;
}

Table ReadCsvFile(const std::string& path, int threads, bool finite) {
  std::string data = ReadWholeFile(path);
  return ParseCsv(data.data(), data.size(), path, threads, finite);
}

void AppendFloat(std::string& out, float value) {
  if (std::isnan(value)) return;
  if (std::isinf(value)) {
    out += value < 0 ? "-inf" : "inf";
    return;
  }
  // Shortest round-trip digits in scientific form: [-]d[.ddd]e(+|-)XX. A float's decimal exponent
  // is within [-45, 38], so it always has exactly two digits.
  char sci[32];
  const auto r = std::to_chars(sci, sci + sizeof sci, value, std::chars_format::scientific);
  const char* end = r.ptr;
  const char* e_pos = end - 4;
  int exp10 = (e_pos[2] - '0') * 10 + (e_pos[3] - '0');
  if (e_pos[1] == '-') exp10 = -exp10;
  if (exp10 < -4 || exp10 >= 16) {
    out.append(sci, static_cast<size_t>(end - sci));
    return;
  }
  char buf[40];
  char* o = buf;
  const char* p = sci;
  if (*p == '-') *o++ = *p++;
  char digits[12];
  int n_digits = 0;
  for (; p < e_pos; ++p) {
    if (*p != '.') digits[n_digits++] = *p;
  }
  if (exp10 >= 0) {
    const int int_len = exp10 + 1;
    for (int i = 0; i < int_len; ++i) *o++ = i < n_digits ? digits[i] : '0';
    if (n_digits > int_len) {
      *o++ = '.';
      for (int i = int_len; i < n_digits; ++i) *o++ = digits[i];
    }
  } else {
    *o++ = '0';
    *o++ = '.';
    for (int i = 0; i < -exp10 - 1; ++i) *o++ = '0';
    for (int i = 0; i < n_digits; ++i) *o++ = digits[i];
  }
  out.append(buf, static_cast<size_t>(o - buf));
}

void AppendHeaderName(std::string& out, const std::string& name) {
  if (!NeedsQuoting(name)) {
    out += name;
    return;
  }
  out += '"';
  for (char c : name) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
}

namespace {
constexpr size_t kRowsPerBlock = 8192;

// Appends rows [r0, r1) as CSV lines.
void FormatRows(std::string& buf, const std::vector<const float*>& columns, size_t r0, size_t r1) {
  const size_t n_cols = columns.size();
  const bool single = n_cols == 1;
  for (size_t r = r0; r < r1; ++r) {
    for (size_t c = 0; c < n_cols; ++c) {
      if (c) buf += ',';
      const float v = columns[c][r];
      if (single && std::isnan(v)) {
        buf += "\"\"";
      } else {
        AppendFloat(buf, v);
      }
    }
    buf += '\n';
  }
}
}  // namespace

void WriteCsvFile(const std::string& path, const std::vector<std::string>& names,
                  const std::vector<const float*>& columns, size_t n_rows, int threads) {
  if (names.size() != columns.size()) {
    throw CsvInputError(ErrorKind::kInvalidArgument,
                        "cannot write '" + path + "': " + std::to_string(names.size()) + " names but " +
                            std::to_string(columns.size()) + " columns",
                        path);
  }
  if (names.empty()) {
    throw CsvInputError(ErrorKind::kInvalidArgument,
                        "cannot write '" + path + "': a CSV table needs at least one column", path);
  }
  {
    std::unordered_map<std::string, size_t> seen;
    for (size_t i = 0; i < names.size(); ++i) {
      auto [it, inserted] = seen.emplace(names[i], i);
      if (names[i].empty() || !inserted) {
        std::string why = names[i].empty() ? "column #" + std::to_string(i + 1) + " has an empty name"
                                           : "duplicate column name '" + names[i] + "' at columns #" +
                                                 std::to_string(it->second + 1) + " and #" + std::to_string(i + 1);
        throw CsvInputError(ErrorKind::kInvalidArgument, "cannot write '" + path + "': " + why, path, 0,
                            static_cast<int64_t>(i + 1), names[i]);
      }
    }
  }
  const std::string dir = DirName(path);
  const std::string tmp = dir + "/." + BaseName(path) + ".tmp-" + UniqueSuffix();
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
  if (fd < 0) {
    int err = errno;
    struct stat st {};
    if (err == ENOENT && ::stat(dir.c_str(), &st) != 0) {
      throw CsvInputError(ErrorKind::kIo, "cannot write '" + path + "': the folder '" + dir + "' does not exist", path,
                          0, 0, std::string(), err);
    }
    ThrowIo("cannot write", path, err);
  }
  try {
    FileWriter w(fd, path);
    std::string buf;
    buf.reserve((1 << 20) + 4096);
    for (size_t c = 0; c < names.size(); ++c) {
      if (c) buf += ',';
      AppendHeaderName(buf, names[c]);
    }
    buf += '\n';
    const unsigned n_threads = static_cast<unsigned>(ResolveThreads(threads, n_rows));
    if (n_threads <= 1 || n_rows < 2 * kRowsPerBlock) {
      for (size_t r = 0; r < n_rows; r += kRowsPerBlock) {
        FormatRows(buf, columns, r, std::min(n_rows, r + kRowsPerBlock));
        if (buf.size() >= (1 << 20)) {
          w.Write(buf);
          buf.clear();
        }
      }
      w.Write(buf);
    } else {
      // Blocks of rows formatted in parallel, written in row order: same bytes for any thread count.
      w.Write(buf);
      std::vector<std::string> blocks(n_threads);
      for (size_t r0 = 0; r0 < n_rows; r0 += kRowsPerBlock * n_threads) {
        auto work = [&](unsigned i) {
          const size_t b = std::min(n_rows, r0 + i * kRowsPerBlock);
          const size_t e = std::min(n_rows, b + kRowsPerBlock);
          blocks[i].clear();
          FormatRows(blocks[i], columns, b, e);
        };
        ParallelFor(n_threads, static_cast<int>(n_threads), [&](size_t i, int) { work(static_cast<unsigned>(i)); });
        for (auto& block : blocks) w.Write(block);
      }
    }
    if (::fsync(fd) != 0) ThrowIo("cannot fsync", path, errno);
    int fd2 = fd;
    fd = -1;
    if (::close(fd2) != 0) ThrowIo("cannot write", path, errno);
    if (::rename(tmp.c_str(), path.c_str()) != 0) ThrowIo("cannot rename the temp file onto", path, errno);
  } catch (...) {
    if (fd >= 0) ::close(fd);
    ::unlink(tmp.c_str());
    throw;
  }
  FsyncDir(dir);
}

}  // namespace hierimpute::csv
