// The one error type a kernel throws for a failure the caller can act on. The Promise worker
// (native/core/promise_worker.h) turns it into a JS Error carrying `code` and, where they apply,
// `column` / `row` (0-based); any other std::exception rejects with code HIERIMPUTE_KERNEL.
// No Node-API here: the kernels stay usable without Node.
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

namespace hierimpute {

/** A kernel failure with a stable code for JS, and the cell it concerns (-1 = not applicable). */
class KernelError : public std::runtime_error {
 public:
  KernelError(const char* code, const std::string& message, int64_t column = -1, int64_t row = -1)
      : std::runtime_error(message), code_(code), column_(column), row_(row) {}
  const char* code() const { return code_; }
  int64_t column() const { return column_; }
  int64_t row() const { return row_; }

 private:
  const char* code_;
  int64_t column_, row_;
};

/**
 * A column with no observed value where a missing cell needs one (code HIERIMPUTE_EMPTY_COLUMN).
 * Kernels that know the column names give the full sentence; the others leave `message` empty and
 * the binding rewords it with the name (see NameColumnError in kernels_binding.cc).
 */
class EmptyColumnError : public KernelError {
 public:
  EmptyColumnError(std::size_t column, std::size_t fitRows, const std::string& message = std::string())
      : KernelError("HIERIMPUTE_EMPTY_COLUMN",
                    message.empty() ? "column " + std::to_string(column) + " has no observed value in the " +
                                          std::to_string(fitRows) + " fit rows"
                                    : message,
                    static_cast<int64_t>(column)),
        fitRows(fitRows) {}
  const std::size_t fitRows;
};

/** An input cell that is +-Infinity (code HIERIMPUTE_INFINITE_VALUE): only finite values and NaN are accepted. */
class InputValueError : public KernelError {
 public:
  InputValueError(const char* which, std::size_t column, std::size_t row)
      : KernelError("HIERIMPUTE_INFINITE_VALUE",
                    std::string(which) + " column " + std::to_string(column) + " row " + std::to_string(row) +
                        " holds an infinite value",
                    static_cast<int64_t>(column), static_cast<int64_t>(row)),
        which(which) {}
  const char* const which;  // "fit" or "target"
};

}  // namespace hierimpute
