// Column statistics and the mean / median imputers. See simple.h for the semantics.
#include "kernels/simple.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "kernels/parallel.h"

namespace hierimpute {
namespace {

constexpr std::size_t kNone = std::numeric_limits<std::size_t>::max();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Errors found in parallel are recorded per column and the lowest column is reported, so the
// message never depends on the thread count.
void ThrowFirstInfinite(const std::vector<std::size_t>& badRow, const char* which) {
  for (std::size_t j = 0; j < badRow.size(); ++j)
    if (badRow[j] != kNone) throw InputValueError(which, j, badRow[j]);
}

}  // namespace

ColumnSummary SummarizeColumns(const ColumnsView& fit, int threads) {
  const std::size_t p = fit.nCols(), n = fit.nRows;
  ColumnSummary s;
  s.observed.assign(p, 0);
  s.mean.assign(p, kNaN);
  std::vector<std::size_t> badRow(p, kNone);
  ParallelFor(p, threads, [&](std::size_t j, int) {
    const float* col = fit.columns[j];
    std::size_t count = 0;
    double sum = 0.0;
    for (std::size_t i = 0; i < n; ++i) {
      const float v = col[i];
      if (std::isnan(v)) continue;
      if (std::isinf(v)) {
        badRow[j] = i;
        return;
      }
      ++count;
      sum += static_cast<double>(v);
    }
    s.observed[j] = count;
    s.mean[j] = count ? sum / static_cast<double>(count) : kNaN;
  });
  ThrowFirstInfinite(badRow, "fit");
  return s;
}

std::vector<double> ColumnMedians(const ColumnsView& fit, int threads) {
  const std::size_t p = fit.nCols(), n = fit.nRows;
  std::vector<double> median(p, kNaN);
  std::vector<std::size_t> badRow(p, kNone);
  const int workers = ResolveThreads(threads, p);
  std::vector<std::vector<double>> scratch(static_cast<std::size_t>(workers));
  ParallelFor(p, threads, [&](std::size_t j, int worker) {
    std::vector<double>& v = scratch[static_cast<std::size_t>(worker)];
    v.clear();
    v.reserve(n);
    const float* col = fit.columns[j];
    for (std::size_t i = 0; i < n; ++i) {
      const float x = col[i];
      if (std::isnan(x)) continue;
      if (std::isinf(x)) {
        badRow[j] = i;
        return;
      }
      v.push_back(static_cast<double>(x));
    }
    const std::size_t m = v.size();
    if (m == 0) return;
    const std::size_t mid = m / 2;
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(mid), v.end());
    const double upper = v[mid];
    if (m % 2 == 1) {
      median[j] = upper;
    } else {
      const double lower = *std::max_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(mid));
      median[j] = (lower + upper) / 2.0;  // numpy: mean of the two middle values
    }
  });
  ThrowFirstInfinite(badRow, "fit");
  return median;
}

void CheckFinite(const ColumnsView& view, const char* which, int threads) {
  const std::size_t p = view.nCols(), n = view.nRows;
  std::vector<std::size_t> badRow(p, kNone);
  ParallelFor(p, threads, [&](std::size_t j, int) {
    const float* col = view.columns[j];
    for (std::size_t i = 0; i < n; ++i)
      if (std::isinf(col[i])) {
        badRow[j] = i;
        return;
      }
  });
  ThrowFirstInfinite(badRow, which);
}

ImputeStats SimpleImpute(Statistic statistic, const ColumnsView& fit, const ColumnsView& target, const OutputView& out,
                         EmptyColumns empty, int threads) {
  const std::size_t p = target.nCols(), n = target.nRows;
  std::vector<double> value =
      statistic == Statistic::Mean ? SummarizeColumns(fit, threads).mean : ColumnMedians(fit, threads);
  CheckFinite(target, "target", threads);

  // An empty fit column is an error only where a target cell of it is missing.
  std::vector<std::uint64_t> missing(p, 0);
  ParallelFor(p, threads, [&](std::size_t j, int) {
    const float* src = target.columns[j];
    float* dst = out.columns[j];
    std::uint64_t count = 0;
    for (std::size_t i = 0; i < n; ++i) count += std::isnan(src[i]) ? 1 : 0;
    missing[j] = count;
    if (dst != src) std::memcpy(dst, src, n * sizeof(float));
  });
  if (empty == EmptyColumns::Error)
    for (std::size_t j = 0; j < p; ++j)
      if (missing[j] && std::isnan(value[j])) throw EmptyColumnError(j, fit.nRows);

  std::vector<std::uint8_t> rowHasMissing(n, 0);
  ImputeStats stats;
  for (std::size_t j = 0; j < p; ++j) {
    if (!missing[j]) continue;
    const bool isEmpty = std::isnan(value[j]);
    const float fill = isEmpty ? 0.0f : static_cast<float>(value[j]);
    float* dst = out.columns[j];
    for (std::size_t i = 0; i < n; ++i)
      if (std::isnan(dst[i])) {
        dst[i] = fill;
        rowHasMissing[i] = 1;
      }
    stats.cellsImputed += missing[j];
    if (isEmpty) stats.emptyColumnCells += missing[j];
  }
  for (std::size_t i = 0; i < n; ++i) stats.rowsWithMissing += rowHasMissing[i];
  return stats;
}

}  // namespace hierimpute
