// Column statistics and the mean / median imputers (scikit-learn SimpleImputer semantics).
//
// Inputs are column-major float32 views (NaN = missing): `fit` columns of nFit rows, on which the
// statistic of each column is computed over its observed cells (in double), and `target` columns
// of nTarget rows, whose missing cells receive it. Observed target cells are copied unchanged.
//   mean:   arithmetic mean of the observed cells, summed in double in row order;
//   median: as numpy.median, the middle value, or for an even count the mean (a + b) / 2 of the
//           two middle values, in double.
// A column with no observed fit cell (an "empty column") has no statistic. scikit-learn drops such
// a column (keep_empty_features=False) or fills it with 0 (True); hierimpute never drops columns:
// EmptyColumns::Error (default) fails with EmptyColumnError when a missing target cell needs that
// statistic, EmptyColumns::Zero fills it with 0 (scikit-learn's keep_empty_features=True).
// Infinite values are rejected (InputValueError), as scikit-learn does.
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "kernels/errors.h"

namespace hierimpute {

/** A float32 column-major table view (not owned). */
struct ColumnsView {
  std::vector<const float*> columns;
  std::size_t nRows = 0;
  std::size_t nCols() const { return columns.size(); }
};

/** Writable column-major output of the same shape as the target (not owned). */
struct OutputView {
  std::vector<float*> columns;
  std::size_t nRows = 0;
};

enum class EmptyColumns { Error, Zero };

/** Per-column facts about the fit data. */
struct ColumnSummary {
  std::vector<std::size_t> observed;  // observed (non-NaN) cells per column
  std::vector<double> mean;           // mean of observed cells (NaN when none)
};

/** Observed counts and means of every fit column (parallel over columns). Throws InputValueError. */
ColumnSummary SummarizeColumns(const ColumnsView& fit, int threads);

/** Median of each fit column's observed cells (NaN when none); parallel over columns. */
std::vector<double> ColumnMedians(const ColumnsView& fit, int threads);

/** Throws InputValueError for the first infinite target cell (column order, then row order). */
void CheckFinite(const ColumnsView& view, const char* which, int threads);

/** Counters reported to JavaScript. */
struct ImputeStats {
  std::uint64_t rowsWithMissing = 0;    // target rows holding at least one missing cell
  std::uint64_t cellsImputed = 0;       // missing target cells filled
  std::uint64_t emptyColumnCells = 0;   // cells filled with 0 under EmptyColumns::Zero
  std::uint64_t meanFallbackCells = 0;  // knn: cells whose every donor was at NaN distance
  std::uint64_t nanDonorCells = 0;      // knn: cells that took some donors at NaN distance
};

enum class Statistic { Mean, Median };

/**
 * Copies target into out and fills each missing cell with the column statistic of `fit`.
 * Throws EmptyColumnError / InputValueError (see above).
 */
ImputeStats SimpleImpute(Statistic statistic, const ColumnsView& fit, const ColumnsView& target, const OutputView& out,
                         EmptyColumns empty, int threads);

}  // namespace hierimpute
