// Exact KNN imputation (scikit-learn KNNImputer semantics, see knn.h).
//
// Layout: the fit rows are copied once into blocks of B rows, complete rows first (so most blocks
// need no missing-value masks), each block feature-major in double; blocks holding missing cells
// also get a presence array (1 / 0) and store 0 for the missing values.
// Work unit: a group of kReceiversPerUnit receivers. For each fit block (kept hot in cache), each
// receiver of the group computes its scaled squared distances q = p / c * S to the block's rows
// with a register-tiled SIMD loop over the receiver's observed columns only, then offers the rows
// to one bounded sorted list per missing column (k best by (q, fit row); NaN-distance rows go to a
// separate list of the k lowest row indices). q orders rows exactly as the distance sqrt(q) does.
// Nothing is allocated per pair; scratch is per worker and reused.
#include "kernels/knn.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "kernels/parallel.h"

namespace hierimpute {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr std::size_t kTile = 16;              // rows per register tile (4 vectors of 4 doubles)
constexpr std::size_t kReceiversPerUnit = 16;  // receivers sharing one pass over the fit blocks
constexpr std::size_t kRowBlock = 4096;        // rows per unit in the row-wise scans

// Function multiversioning: an AVX2 clone and a baseline clone, picked at load time. Neither
// enables FMA, so both clones round identically (no contraction): same bits on every x86-64.
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define HIERIMPUTE_MULTIVERSION __attribute__((target_clones("avx2", "default")))
#else
#define HIERIMPUTE_MULTIVERSION
#endif

typedef double v4d __attribute__((vector_size(32)));
typedef long long v4l __attribute__((vector_size(32)));

#define HI_LOAD(dst, ptr) __builtin_memcpy(&(dst), (ptr), sizeof(v4d))
#define HI_STORE(ptr, src) __builtin_memcpy((ptr), &(src), sizeof(v4d))

// S[r] = sum over t of (x[obs[t]] - blk[obs[t]][r])^2 for rows of a block with no missing cell.
// hit[tile] = some row of the tile has S <= bound (the caller's candidate prefilter).
HIERIMPUTE_MULTIVERSION
void SumSquaresComplete(const double* blk, std::size_t B, const std::uint32_t* obs, std::size_t nObs, const double* x,
                        double bound, double* S, std::uint8_t* hit) {
  const v4d bv = {bound, bound, bound, bound};
  for (std::size_t rb = 0; rb < B; rb += kTile) {
    v4d a0 = {0, 0, 0, 0}, a1 = a0, a2 = a0, a3 = a0;
    for (std::size_t t = 0; t < nObs; ++t) {
      const std::size_t f = obs[t];
      const double xf = x[f];
      const v4d xv = {xf, xf, xf, xf};
      const double* v = blk + f * B + rb;
      v4d y0, y1, y2, y3;
      HI_LOAD(y0, v);
      HI_LOAD(y1, v + 4);
      HI_LOAD(y2, v + 8);
      HI_LOAD(y3, v + 12);
      const v4d d0 = xv - y0, d1 = xv - y1, d2 = xv - y2, d3 = xv - y3;
      a0 += d0 * d0;
      a1 += d1 * d1;
      a2 += d2 * d2;
      a3 += d3 * d3;
    }
    HI_STORE(S + rb, a0);
    HI_STORE(S + rb + 4, a1);
    HI_STORE(S + rb + 8, a2);
    HI_STORE(S + rb + 12, a3);
    const v4l h = (v4l)(a0 <= bv) | (v4l)(a1 <= bv) | (v4l)(a2 <= bv) | (v4l)(a3 <= bv);
    hit[rb / kTile] = (h[0] | h[1] | h[2] | h[3]) != 0;
  }
}

// Same for a block with missing cells, stored as value 0 with presence 0 (else 1): each term is
// multiplied by the presence (1 * t == t exactly, 0 * t == +0.0 since t is finite), and C[r] sums the
// presences, i.e. counts the shared columns. Rows without missing cells get sums bit-identical to
// SumSquaresComplete.
// hit[tile] = some row of the tile has S * p <= bound * C (rows with C = 0 always qualify).
HIERIMPUTE_MULTIVERSION
void SumSquaresMasked(const double* blk, const double* present, std::size_t B, const std::uint32_t* obs,
                      std::size_t nObs, const double* x, double p, double bound, double* S, double* C,
                      std::uint8_t* hit) {
  const v4d pv = {p, p, p, p}, bv = {bound, bound, bound, bound};
  for (std::size_t rb = 0; rb < B; rb += kTile) {
    v4d a0 = {0, 0, 0, 0}, a1 = a0, a2 = a0, a3 = a0;
    v4d c0 = a0, c1 = a0, c2 = a0, c3 = a0;
    for (std::size_t t = 0; t < nObs; ++t) {
      const std::size_t f = obs[t];
      const double xf = x[f];
      const v4d xv = {xf, xf, xf, xf};
      const double* v = blk + f * B + rb;
      const double* m = present + f * B + rb;
      v4d y0, y1, y2, y3, m0, m1, m2, m3;
      HI_LOAD(y0, v);
      HI_LOAD(y1, v + 4);
      HI_LOAD(y2, v + 8);
      HI_LOAD(y3, v + 12);
      HI_LOAD(m0, m);
      HI_LOAD(m1, m + 4);
      HI_LOAD(m2, m + 8);
      HI_LOAD(m3, m + 12);
      const v4d d0 = xv - y0, d1 = xv - y1, d2 = xv - y2, d3 = xv - y3;
      a0 += (d0 * d0) * m0;
      a1 += (d1 * d1) * m1;
      a2 += (d2 * d2) * m2;
      a3 += (d3 * d3) * m3;
      c0 += m0;
      c1 += m1;
      c2 += m2;
      c3 += m3;
    }
    HI_STORE(S + rb, a0);
    HI_STORE(S + rb + 4, a1);
    HI_STORE(S + rb + 8, a2);
    HI_STORE(S + rb + 12, a3);
    HI_STORE(C + rb, c0);
    HI_STORE(C + rb + 4, c1);
    HI_STORE(C + rb + 8, c2);
    HI_STORE(C + rb + 12, c3);
    const v4l h =
        (v4l)(a0 * pv <= bv * c0) | (v4l)(a1 * pv <= bv * c1) | (v4l)(a2 * pv <= bv * c2) | (v4l)(a3 * pv <= bv * c3);
    hit[rb / kTile] = (h[0] | h[1] | h[2] | h[3]) != 0;
  }
}

/** The fit rows in blocks of B rows, complete rows first, each block feature-major. */
struct FitBlocks {
  std::size_t p = 0, B = 0, nBlocks = 0;
  std::vector<double> vals;            // nBlocks * p * B; missing and padding cells hold 0
  std::vector<double> present;         // p * B per block with missing cells: 1 observed, 0 not
  std::vector<std::size_t> presentAt;  // offset of a block's presence values in `present`
  std::vector<std::uint32_t> row;      // nBlocks * B: original fit row of each slot
  std::vector<std::size_t> rowsIn;     // rows used in each block (B except maybe the last ones)
  std::vector<std::uint8_t> complete;  // block holds no missing cell
  const double* Block(std::size_t b) const { return vals.data() + b * p * B; }
  const double* Present(std::size_t b) const { return present.data() + presentAt[b]; }
};

std::size_t ChooseBlockRows(std::size_t p) {
  // About 64 KiB of values per block, a multiple of the tile, 16..512 rows.
  std::size_t rows = (64 * 1024) / (8 * std::max<std::size_t>(p, 1));
  rows = rows / kTile * kTile;
  return std::clamp<std::size_t>(rows, kTile, 512);
}

// Marks rows (of a column-major view) holding at least one NaN; parallel over row blocks.
std::vector<std::uint8_t> RowsWithMissing(const ColumnsView& v, int threads) {
  const std::size_t n = v.nRows, p = v.nCols();
  std::vector<std::uint8_t> flag(n, 0);
  ParallelFor(BlockCount(n, kRowBlock), threads, [&](std::size_t u, int) {
    const std::size_t lo = u * kRowBlock, hi = std::min(n, lo + kRowBlock);
    for (std::size_t j = 0; j < p; ++j) {
      const float* col = v.columns[j];
      for (std::size_t i = lo; i < hi; ++i) flag[i] |= std::isnan(col[i]) ? 1 : 0;
    }
  });
  return flag;
}

FitBlocks BuildFitBlocks(const ColumnsView& fit, int threads) {
  FitBlocks fb;
  const std::size_t n = fit.nRows, p = fit.nCols();
  fb.p = p;
  fb.B = ChooseBlockRows(p);
  const std::vector<std::uint8_t> incomplete = RowsWithMissing(fit, threads);
  std::vector<std::uint32_t> order;
  order.reserve(n);
  for (std::size_t i = 0; i < n; ++i)
    if (!incomplete[i]) order.push_back(static_cast<std::uint32_t>(i));
  const std::size_t nComplete = order.size();
  for (std::size_t i = 0; i < n; ++i)
    if (incomplete[i]) order.push_back(static_cast<std::uint32_t>(i));

  const std::size_t B = fb.B;
  fb.nBlocks = BlockCount(n, B);
  fb.vals.assign(fb.nBlocks * p * B, 0.0);
  fb.row.assign(fb.nBlocks * B, std::numeric_limits<std::uint32_t>::max());
  fb.rowsIn.assign(fb.nBlocks, 0);
  fb.complete.assign(fb.nBlocks, 0);
  fb.presentAt.assign(fb.nBlocks, 0);
  std::size_t masked = 0;
  for (std::size_t b = 0; b < fb.nBlocks; ++b) {
    fb.complete[b] = std::min(n, (b + 1) * B) <= nComplete ? 1 : 0;
    if (!fb.complete[b]) fb.presentAt[b] = (masked++) * p * B;
  }
  fb.present.assign(masked * p * B, 0.0);  // padding rows: present 0, so no shared column
  ParallelFor(fb.nBlocks, threads, [&](std::size_t b, int) {
    const std::size_t lo = b * B, hi = std::min(n, lo + B);
    fb.rowsIn[b] = hi - lo;
    for (std::size_t s = lo; s < hi; ++s) fb.row[s] = order[s];
    double* blk = fb.vals.data() + b * p * B;
    double* pres = fb.complete[b] ? nullptr : fb.present.data() + fb.presentAt[b];
    for (std::size_t f = 0; f < p; ++f) {
      const float* col = fit.columns[f];
      double* dst = blk + f * B;
      for (std::size_t s = lo; s < hi; ++s) {
        const float v = col[order[s]];
        const bool observed = !std::isnan(v);
        dst[s - lo] = observed ? static_cast<double>(v) : 0.0;
        if (pres) pres[f * B + (s - lo)] = observed ? 1.0 : 0.0;
      }
    }
  });
  return fb;
}

struct Cand {
  double q;
  std::uint32_t row;
};

inline bool Before(double qa, std::uint32_t ra, const Cand& b) { return qa < b.q || (qa == b.q && ra < b.row); }

/** The k best donors of one (receiver, missing column) cell seen so far. */
struct Selection {
  std::uint32_t col = 0;
  std::uint32_t k = 0;
  std::uint32_t size = 0;     // finite-distance candidates held (<= k), sorted by (q, row)
  std::uint32_t nanSize = 0;  // NaN-distance candidates held (<= k), sorted by row
  std::size_t nanSeen = 0;    // NaN-distance donors seen in all
  double worst = kInf;        // q of the k-th candidate once full (fast rejection)
  Cand* best = nullptr;
  std::uint32_t* nanRows = nullptr;

  void Offer(double q, std::uint32_t row) {
    if (std::isnan(q)) {
      ++nanSeen;
      if (nanSize < k) {
        std::uint32_t pos = nanSize++;
        while (pos > 0 && nanRows[pos - 1] > row) nanRows[pos] = nanRows[pos - 1], --pos;
        nanRows[pos] = row;
      } else if (row < nanRows[k - 1]) {
        std::uint32_t pos = k - 1;
        while (pos > 0 && nanRows[pos - 1] > row) nanRows[pos] = nanRows[pos - 1], --pos;
        nanRows[pos] = row;
      }
      return;
    }
    if (q > worst) return;
    std::uint32_t pos;
    if (size < k) {
      pos = size++;
    } else {
      if (!Before(q, row, best[k - 1])) return;
      pos = k - 1;
    }
    while (pos > 0 && Before(q, row, best[pos - 1])) best[pos] = best[pos - 1], --pos;
    best[pos] = Cand{q, row};
    if (size == k) worst = best[k - 1].q;
  }
};

struct Receiver {
  std::uint32_t targetRow = 0;
  std::uint32_t slot = 0;                  // row of the unit's x values
  std::uint32_t obsBegin = 0, obsEnd = 0;  // into the unit's observed-column list
  std::uint32_t selBegin = 0, selEnd = 0;  // into the unit's selections
};

/** Per-worker scratch, reused by every unit that worker runs. */
struct Scratch {
  std::vector<double> x;  // kReceiversPerUnit * p receiver values
  std::vector<std::uint32_t> obs;
  std::vector<Receiver> receivers;
  std::vector<Selection> sels;
  std::vector<Cand> cands;
  std::vector<std::uint32_t> nanRows;
  std::vector<double> S, C;
  std::vector<std::uint8_t> hit;  // per tile of the current block: holds a candidate
};

}  // namespace

ImputeStats KnnImpute(const ColumnsView& fit, const ColumnsView& target, const OutputView& out,
                      const KnnOptions& options) {
  const std::size_t p = fit.nCols(), nFit = fit.nRows, nTarget = target.nRows;
  const int threads = options.threads;
  if (target.nCols() != p || out.columns.size() != p)
    throw std::invalid_argument("fit, target and output must have the same number of columns");
  if (options.nNeighbors < 1) throw std::invalid_argument("n_neighbors must be >= 1");
  if (nFit >= std::numeric_limits<std::uint32_t>::max() || nTarget >= std::numeric_limits<std::uint32_t>::max())
    throw std::invalid_argument("at most 4294967294 fit or target rows are supported");
  const std::size_t nn = static_cast<std::size_t>(options.nNeighbors);
  const bool distanceWeights = options.weights == KnnWeights::Distance;

  const ColumnSummary summary = SummarizeColumns(fit, threads);
  CheckFinite(target, "target", threads);

  // Copy the target into the output and count missing cells per column.
  std::vector<std::uint64_t> missing(p, 0);
  ParallelFor(p, threads, [&](std::size_t j, int) {
    const float* src = target.columns[j];
    std::uint64_t count = 0;
    for (std::size_t i = 0; i < nTarget; ++i) count += std::isnan(src[i]) ? 1 : 0;
    missing[j] = count;
    if (out.columns[j] != src) std::memcpy(out.columns[j], src, nTarget * sizeof(float));
  });
  if (options.emptyColumns == EmptyColumns::Error)
    for (std::size_t j = 0; j < p; ++j)
      if (missing[j] && summary.observed[j] == 0) throw EmptyColumnError(j, nFit);

  const std::vector<std::uint8_t> isReceiver = RowsWithMissing(target, threads);
  std::vector<std::uint32_t> receivers;
  for (std::size_t i = 0; i < nTarget; ++i)
    if (isReceiver[i]) receivers.push_back(static_cast<std::uint32_t>(i));
  ImputeStats total;
  total.rowsWithMissing = receivers.size();
  if (receivers.empty()) return total;

  const FitBlocks fb = BuildFitBlocks(fit, threads);
  const std::size_t B = fb.B;
  const double pd = static_cast<double>(p);

  const std::size_t units = BlockCount(receivers.size(), kReceiversPerUnit);
  const int workers = ResolveThreads(threads, units);
  std::vector<Scratch> scratch(static_cast<std::size_t>(workers));
  std::vector<ImputeStats> unitStats(units);

  ParallelFor(units, threads, [&](std::size_t u, int worker) {
    Scratch& w = scratch[static_cast<std::size_t>(worker)];
    ImputeStats& st = unitStats[u];
    const std::size_t rLo = u * kReceiversPerUnit;
    const std::size_t rHi = std::min(receivers.size(), rLo + kReceiversPerUnit);
    const std::size_t nr = rHi - rLo;
    w.x.resize(nr * p);
    w.obs.clear();
    w.receivers.clear();
    w.sels.clear();
    w.S.resize(B);
    w.C.resize(B);
    w.hit.resize(B / kTile);
    std::size_t candSlots = 0;

    // Gather each receiver's row, observed columns and the cells to impute.
    for (std::size_t r = 0; r < nr; ++r) {
      Receiver rec;
      rec.targetRow = receivers[rLo + r];
      rec.slot = static_cast<std::uint32_t>(r);
      rec.obsBegin = static_cast<std::uint32_t>(w.obs.size());
      rec.selBegin = static_cast<std::uint32_t>(w.sels.size());
      double* x = w.x.data() + r * p;
      for (std::size_t j = 0; j < p; ++j) {
        const float v = target.columns[j][rec.targetRow];
        x[j] = static_cast<double>(v);
        if (!std::isnan(v)) w.obs.push_back(static_cast<std::uint32_t>(j));
      }
      rec.obsEnd = static_cast<std::uint32_t>(w.obs.size());
      const bool noObserved = rec.obsEnd == rec.obsBegin;
      for (std::size_t j = 0; j < p; ++j) {
        if (!std::isnan(x[j])) continue;
        ++st.cellsImputed;
        float* dst = out.columns[j] + rec.targetRow;
        if (summary.observed[j] == 0) {  // empty column (EmptyColumns::Zero; Error threw above)
          *dst = 0.0f;
          ++st.emptyColumnCells;
        } else if (noObserved) {  // every distance is NaN
          *dst = static_cast<float>(summary.mean[j]);
          ++st.meanFallbackCells;
        } else {
          Selection s;
          s.col = static_cast<std::uint32_t>(j);
          s.k = static_cast<std::uint32_t>(std::min(nn, summary.observed[j]));
          w.sels.push_back(s);
          candSlots += s.k;
        }
      }
      rec.selEnd = static_cast<std::uint32_t>(w.sels.size());
      if (rec.selEnd > rec.selBegin) w.receivers.push_back(rec);
    }
    if (w.receivers.empty()) return;
    if (w.cands.size() < candSlots) w.cands.resize(candSlots);
    if (w.nanRows.size() < candSlots) w.nanRows.resize(candSlots);
    {
      std::size_t off = 0;
      for (Selection& s : w.sels) {
        s.best = w.cands.data() + off;
        s.nanRows = w.nanRows.data() + off;
        off += s.k;
      }
    }

    // One pass over the fit blocks for the whole group of receivers.
    for (std::size_t b = 0; b < fb.nBlocks; ++b) {
      const double* blk = fb.Block(b);
      const std::uint32_t* rows = fb.row.data() + b * B;
      const std::size_t m = fb.rowsIn[b];
      const bool complete = fb.complete[b] != 0;
      for (const Receiver& rec : w.receivers) {
        const std::uint32_t* obs = w.obs.data() + rec.obsBegin;
        const std::size_t nObs = rec.obsEnd - rec.obsBegin;
        const double* xr = w.x.data() + static_cast<std::size_t>(rec.slot) * p;
        // Prefilter: a row can enter some selection only if q <= the largest k-th q among them
        // (+inf while one is not full). q = S / C * p, so compare S * p with bound * C, with a
        // relative margin far above rounding: false positives are only extra exact checks.
        double maxWorst = 0.0;
        for (std::uint32_t si = rec.selBegin; si < rec.selEnd; ++si) maxWorst = std::max(maxWorst, w.sels[si].worst);
        const bool open = std::isinf(maxWorst);
        const double margin = 1.0 + 1e-9;
        const double* S = w.S.data();
        const double* C = w.C.data();
        std::uint8_t* hit = w.hit.data();
        const std::size_t tiles = BlockCount(m, kTile);
        if (complete) {
          // Every row shares C = nObs: the bound is on S directly and q never is NaN.
          const double c = static_cast<double>(nObs);
          SumSquaresComplete(blk, B, obs, nObs, xr, open ? kInf : maxWorst * (c / pd) * margin, w.S.data(), hit);
          for (std::size_t tile = 0; tile < tiles; ++tile) {
            if (!hit[tile]) continue;
            for (std::size_t i = tile * kTile, end = std::min(m, i + kTile); i < end; ++i) {
              const double qi = S[i] / c * pd;
              for (std::uint32_t si = rec.selBegin; si < rec.selEnd; ++si) {
                Selection& s = w.sels[si];
                if (qi <= s.worst) s.Offer(qi, rows[i]);
              }
            }
          }
        } else {
          const double* present = fb.Present(b);
          SumSquaresMasked(blk, present, B, obs, nObs, xr, pd, open ? kInf : maxWorst * margin, w.S.data(), w.C.data(),
                           hit);
          for (std::size_t tile = 0; tile < tiles; ++tile) {
            if (!open && !hit[tile]) continue;
            for (std::size_t i = tile * kTile, end = std::min(m, i + kTile); i < end; ++i) {
              const double qi = C[i] > 0 ? S[i] / C[i] * pd : kNaN;
              for (std::uint32_t si = rec.selBegin; si < rec.selEnd; ++si) {
                Selection& s = w.sels[si];
                // NaN-distance rows are always offered (they are used when fewer than k are finite)
                if (!(qi > s.worst) && present[static_cast<std::size_t>(s.col) * B + i] != 0.0) s.Offer(qi, rows[i]);
              }
            }
          }
        }
      }
    }

    // Impute each cell from its donors.
    for (const Receiver& rec : w.receivers) {
      for (std::uint32_t si = rec.selBegin; si < rec.selEnd; ++si) {
        const Selection& s = w.sels[si];
        const float* col = fit.columns[s.col];
        double value;
        if (s.size == 0) {
          value = summary.mean[s.col];
          ++st.meanFallbackCells;
        } else if (!distanceWeights) {
          double sum = 0.0;
          for (std::uint32_t t = 0; t < s.size; ++t) sum += static_cast<double>(col[s.best[t].row]);
          const std::uint32_t fromNan = s.k - s.size;  // NaN-distance donors fill up to k
          for (std::uint32_t t = 0; t < fromNan; ++t) sum += static_cast<double>(col[s.nanRows[t]]);
          if (fromNan) ++st.nanDonorCells;
          value = sum / static_cast<double>(s.k);
        } else if (s.best[0].q == 0.0) {
          double sum = 0.0;
          std::uint32_t count = 0;
          for (std::uint32_t t = 0; t < s.size && s.best[t].q == 0.0; ++t, ++count)
            sum += static_cast<double>(col[s.best[t].row]);
          value = sum / static_cast<double>(count);
        } else {
          double sum = 0.0, wsum = 0.0;
          for (std::uint32_t t = 0; t < s.size; ++t) {
            const double wt = 1.0 / std::sqrt(s.best[t].q);
            sum += wt * static_cast<double>(col[s.best[t].row]);
            wsum += wt;
          }
          if (s.size < s.k) ++st.nanDonorCells;  // they weigh 0
          value = sum / wsum;
        }
        out.columns[s.col][rec.targetRow] = static_cast<float>(value);
      }
    }
  });

  for (const ImputeStats& s : unitStats) {
    total.cellsImputed += s.cellsImputed;
    total.emptyColumnCells += s.emptyColumnCells;
    total.meanFallbackCells += s.meanFallbackCells;
    total.nanDonorCells += s.nanDonorCells;
  }
  return total;
}

}  // namespace hierimpute
