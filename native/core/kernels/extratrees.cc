// ExtraTrees regressor: see extratrees.h for the semantics.
#include "kernels/extratrees.h"

#include "kernels/parallel.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>

namespace hierimpute {
namespace trees {

namespace {

// sklearn's constants: a feature is constant in a node when max <= min + 1e-7; a node whose
// target variance is <= DBL_EPSILON is a leaf.
constexpr double kFeatureThreshold = 1e-7;
constexpr double kImpurityEpsilon = std::numeric_limits<double>::epsilon();

/** Counter-based uniform doubles in [0, 1) from one node key. */
struct NodeRng {
  uint64_t state;
  explicit NodeRng(uint64_t key) : state(key) {}
  double Uniform() {
    state += 0x9E3779B97F4A7C15ULL;
    uint64_t z = state;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    z ^= z >> 31;
    return static_cast<double>(z >> 11) * (1.0 / 9007199254740992.0);
  }
};

inline uint64_t ChildKey(uint64_t key, bool right) {
  return Mix64(key ^ (right ? 0xD1B54A32D192ED03ULL : 0x8CB92BA72F3D8DD7ULL));
}

struct NodeTask {
  uint32_t start, end;    // training rows [start, end) of the node-ordered working copy
  uint32_t qstart, qend;  // query rows qrows[qstart, qend)
  uint32_t depth;
  uint64_t key;
};

/** The largest float <= t: for a float x, (x <= t) == (x <= FloatAtOrBelow(t)). */
inline float FloatAtOrBelow(double t) {
  float f = static_cast<float>(t);
  if (static_cast<double>(f) > t) f = std::nextafter(f, -std::numeric_limits<float>::infinity());
  return f;
}

typedef float V4F __attribute__((vector_size(16)));
typedef int V4I __attribute__((vector_size(16)));
typedef double V2D __attribute__((vector_size(16)));
typedef long long V2L __attribute__((vector_size(16)));

template <typename V, typename T>
inline V LoadV(const T* p) {
  V v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

/** min/max of x[0, n): 4-wide vector lanes (GCC/Clang vector extensions, any target). */
inline void MinMax(const float* x, size_t n, float& mnOut, float& mxOut) {
  float mn0 = x[0], mx0 = x[0];
  size_t p = 0;
  if (n >= 8) {
    V4F mn = LoadV<V4F>(x), mx = mn, mn2 = LoadV<V4F>(x + 4), mx2 = mn2;
    for (p = 8; p + 8 <= n; p += 8) {
      const V4F a = LoadV<V4F>(x + p), b = LoadV<V4F>(x + p + 4);
      mn = a < mn ? a : mn;
      mx = a > mx ? a : mx;
      mn2 = b < mn2 ? b : mn2;
      mx2 = b > mx2 ? b : mx2;
    }
    mn = mn2 < mn ? mn2 : mn;
    mx = mx2 > mx ? mx2 : mx;
    for (int l = 0; l < 4; ++l) {
      mn0 = mn[l] < mn0 ? mn[l] : mn0;
      mx0 = mx[l] > mx0 ? mx[l] : mx0;
    }
  }
  for (; p < n; ++p) {
    mn0 = x[p] < mn0 ? x[p] : mn0;
    mx0 = x[p] > mx0 ? x[p] : mx0;
  }
  mnOut = mn0;
  mxOut = mx0;
}

/** Count and y-sum of the rows with x <= t: branchless vector lanes, fixed summation order. */
inline void LeftStats(const float* x, const double* y, size_t n, double t, size_t& nLOut, double& sLOut) {
  const float tf = FloatAtOrBelow(t);
  const V4F tv = {tf, tf, tf, tf};
  V4I c = {0, 0, 0, 0};
  V2D s0 = {0.0, 0.0}, s1 = {0.0, 0.0};
  size_t p = 0;
  for (; p + 4 <= n; p += 4) {
    const V4I m = LoadV<V4F>(x + p) <= tv;  // -1 where left
    c -= m;
    const V2L m01 = {m[0], m[1]}, m23 = {m[2], m[3]};
    s0 += reinterpret_cast<V2D>(reinterpret_cast<V2L>(LoadV<V2D>(y + p)) & m01);
    s1 += reinterpret_cast<V2D>(reinterpret_cast<V2L>(LoadV<V2D>(y + p + 2)) & m23);
  }
  size_t nL =
      static_cast<size_t>(c[0]) + static_cast<size_t>(c[1]) + static_cast<size_t>(c[2]) + static_cast<size_t>(c[3]);
  double sL = (s0[0] + s0[1]) + (s1[0] + s1[1]);
  for (; p < n; ++p) {
    const unsigned left = x[p] <= tf;
    nL += left;
    sL += y[p] * static_cast<double>(left);
  }
  nLOut = nL;
  sLOut = sL;
}

/** Stable branchless partition of x[0, n) by goLeft; tmp has room for n values. */
template <typename T>
inline void PartitionBy(T* x, size_t n, const uint8_t* goLeft, T* tmp) {
  size_t l = 0, r = 0;
  for (size_t p = 0; p < n; ++p) {
    const T v = x[p];
    x[l] = v;
    tmp[r] = v;
    l += goLeft[p];
    r += 1 - goLeft[p];
  }
  std::copy(tmp, tmp + r, x + l);
}

/** Keeps, in order, only the values whose goLeft flag equals keep (branchless, in place). */
template <typename T>
inline void CompactBy(T* x, size_t n, const uint8_t* goLeft, uint8_t keep) {
  size_t l = 0;
  for (size_t p = 0; p < n; ++p) {
    x[l] = x[p];
    l += goLeft[p] == keep;
  }
}

/**
 * Grows one tree only where query rows go and writes each query row's leaf mean to pred. The
 * training features and targets are copied once into node order (column-major) and partitioned
 * with the nodes, so every per-feature pass over a node reads contiguous memory.
 */
void GrowTree(const FeatureBlock& train, const std::vector<double>& y, const FeatureBlock& query,
              const ExtraTreesParams& params, uint64_t treeKey, double* pred) {
  const size_t nFeat = train.cols.size();
  const size_t n = train.n;
  std::vector<float> xw(nFeat * n);
  for (size_t f = 0; f < nFeat; ++f) std::copy(train.cols[f], train.cols[f] + n, xw.begin() + f * n);
  std::vector<double> yw(y.begin(), y.end());
  std::vector<uint32_t> qrows(query.n);
  for (size_t i = 0; i < query.n; ++i) qrows[i] = static_cast<uint32_t>(i);
  std::vector<uint8_t> goLeft(n);
  std::vector<float> tmpF(n);
  std::vector<double> tmpY(n);
  std::vector<NodeTask> stack;
  stack.push_back({0, static_cast<uint32_t>(n), 0, static_cast<uint32_t>(query.n), 0, treeKey});
  const size_t minSplit = static_cast<size_t>(std::max(2, params.minSamplesSplit));

  while (!stack.empty()) {
    const NodeTask node = stack.back();
    stack.pop_back();
    if (node.qstart == node.qend) continue;  // no query row reaches this subtree
    const size_t cnt = node.end - node.start;
    const double* yn = yw.data() + node.start;
    double sum = 0.0;
    for (size_t p = 0; p < cnt; ++p) sum += yn[p];
    const double mean = sum / static_cast<double>(cnt);
    bool leaf = cnt < minSplit || (params.maxDepth > 0 && node.depth >= static_cast<uint32_t>(params.maxDepth));
    if (!leaf) {
      double ss = 0.0;
      for (size_t p = 0; p < cnt; ++p) ss += (yn[p] - mean) * (yn[p] - mean);
      leaf = ss / static_cast<double>(cnt) <= kImpurityEpsilon;
    }
    int bestF = -1;
    double bestT = 0.0;
    if (!leaf) {
      NodeRng rng(node.key);
      double bestProxy = -std::numeric_limits<double>::infinity();
      for (size_t f = 0; f < nFeat; ++f) {
        const float* xf = xw.data() + f * n + node.start;
        const double u = rng.Uniform();  // drawn for every feature: keeps streams aligned
        float mn, mx;
        MinMax(xf, cnt, mn, mx);
        if (static_cast<double>(mx) <= static_cast<double>(mn) + kFeatureThreshold) continue;
        double t = static_cast<double>(mn) + (static_cast<double>(mx) - static_cast<double>(mn)) * u;
        if (t >= static_cast<double>(mx)) t = mn;
        size_t nL;
        double sL;
        LeftStats(xf, yn, cnt, t, nL, sL);
        if (nL == 0 || nL == cnt) continue;
        const double sR = sum - sL;
        const double proxy = sL * sL / static_cast<double>(nL) + sR * sR / static_cast<double>(cnt - nL);
        if (proxy > bestProxy) {
          bestProxy = proxy;
          bestF = static_cast<int>(f);
          bestT = t;
        }
      }
      leaf = bestF < 0;
    }
    if (leaf) {
      for (uint32_t q = node.qstart; q < node.qend; ++q) pred[qrows[q]] = mean;
      continue;
    }
    const float* xb = xw.data() + static_cast<size_t>(bestF) * n + node.start;
    size_t nL = 0;
    for (size_t p = 0; p < cnt; ++p) {
      goLeft[p] = static_cast<double>(xb[p]) <= bestT;
      nL += goLeft[p];
    }
    const float* qcol = query.cols[bestF];
    uint32_t* qb = qrows.data() + node.qstart;
    uint32_t* qe = qrows.data() + node.qend;
    uint32_t* qmid = std::partition(qb, qe, [&](uint32_t r) { return static_cast<double>(qcol[r]) <= bestT; });
    const uint32_t qsplit = static_cast<uint32_t>(qmid - qrows.data());
    const bool leftLives = qsplit > node.qstart, rightLives = qsplit < node.qend;
    uint32_t splitPos = node.start + static_cast<uint32_t>(nL);
    if (leftLives && rightLives) {
      for (size_t f = 0; f < nFeat; ++f) PartitionBy(xw.data() + f * n + node.start, cnt, goLeft.data(), tmpF.data());
      PartitionBy(yw.data() + node.start, cnt, goLeft.data(), tmpY.data());
    } else {
      // Only one child holds query rows: keep just its rows, at the start of the node's range.
      const uint8_t keep = leftLives ? 1 : 0;
      for (size_t f = 0; f < nFeat; ++f) CompactBy(xw.data() + f * n + node.start, cnt, goLeft.data(), keep);
      CompactBy(yw.data() + node.start, cnt, goLeft.data(), keep);
      if (rightLives) splitPos = node.start;  // right child = [start, start + cnt - nL)
    }
    const uint32_t rightEnd =
        leftLives && !rightLives ? splitPos
                                 : (rightLives && !leftLives ? node.start + static_cast<uint32_t>(cnt - nL) : node.end);
    stack.push_back({splitPos, rightEnd, qsplit, node.qend, node.depth + 1, ChildKey(node.key, true)});
    stack.push_back({node.start, splitPos, node.qstart, qsplit, node.depth + 1, ChildKey(node.key, false)});
  }
}

/** Every feature's training rows in ascending order of value (ties: lower row first); shared by all trees. */
std::vector<std::vector<uint32_t>> PresortFeatures(const FeatureBlock& train) {
  std::vector<std::vector<uint32_t>> sorted(train.cols.size());
  for (size_t f = 0; f < train.cols.size(); ++f) {
    const float* x = train.cols[f];
    std::vector<uint32_t>& o = sorted[f];
    o.resize(train.n);
    for (size_t i = 0; i < train.n; ++i) o[i] = static_cast<uint32_t>(i);
    std::stable_sort(o.begin(), o.end(), [x](uint32_t a, uint32_t b) { return x[a] < x[b]; });
  }
  return sorted;
}

/**
 * Grows one random-forest tree (bootstrap sample, best splits) only where query rows go and writes
 * each query row's leaf value to pred. Per feature, the node's in-bag rows are kept in ascending order
 * of that feature (local ids + values, contiguous per node), so a node's best-split scan is one pass
 * per feature and a split is one stable partition per feature.
 */
void GrowForestTree(const FeatureBlock& train, const std::vector<double>& y, const FeatureBlock& query,
                    const std::vector<std::vector<uint32_t>>& sorted, const RandomForestParams& params,
                    uint64_t treeKey, double* pred) {
  const size_t nFeat = train.cols.size();
  const size_t n = train.n;
  // Bootstrap: n draws with replacement; a row weighs the number of times it was drawn.
  std::vector<uint32_t> count(n, 0);
  NodeRng boot(Mix64(treeKey ^ 0x5851F42D4C957F2DULL));
  for (size_t k = 0; k < n; ++k) {
    size_t r = static_cast<size_t>(boot.Uniform() * static_cast<double>(n));
    if (r >= n) r = n - 1;
    ++count[r];
  }
  // In-bag rows get local ids 0..m-1 in row order.
  constexpr uint32_t kOut = std::numeric_limits<uint32_t>::max();
  std::vector<uint32_t> local(n, kOut);
  std::vector<double> w, wy, yl;
  for (size_t i = 0; i < n; ++i) {
    if (count[i] == 0) continue;
    local[i] = static_cast<uint32_t>(w.size());
    w.push_back(static_cast<double>(count[i]));
    wy.push_back(static_cast<double>(count[i]) * y[i]);
    yl.push_back(y[i]);
  }
  const size_t m = w.size();
  std::vector<uint32_t> sid(nFeat * m);
  std::vector<float> sx(nFeat * m);
  for (size_t f = 0; f < nFeat; ++f) {
    size_t q = f * m;
    for (uint32_t r : sorted[f]) {
      if (local[r] == kOut) continue;
      sid[q] = local[r];
      sx[q] = train.cols[f][r];
      ++q;
    }
  }
  std::vector<uint32_t> qrows(query.n);
  for (size_t i = 0; i < query.n; ++i) qrows[i] = static_cast<uint32_t>(i);
  std::vector<uint8_t> goLeft(m);  // by local id
  std::vector<uint32_t> tmpI(m);
  std::vector<float> tmpF(m);
  std::vector<size_t> featOrder(nFeat);
  std::vector<NodeTask> stack;
  stack.push_back({0, static_cast<uint32_t>(m), 0, static_cast<uint32_t>(query.n), 0, treeKey});
  const size_t minSplit = static_cast<size_t>(std::max(2, params.minSamplesSplit));

  while (!stack.empty()) {
    const NodeTask node = stack.back();
    stack.pop_back();
    if (node.qstart == node.qend) continue;
    const size_t cnt = node.end - node.start;
    const uint32_t* ids0 = sid.data() + node.start;  // feature 0's order: any order holds the node's rows
    double W = 0.0, S = 0.0;
    for (size_t p = 0; p < cnt; ++p) {
      W += w[ids0[p]];
      S += wy[ids0[p]];
    }
    const double mean = S / W;
    bool leaf = cnt < minSplit || (params.maxDepth > 0 && node.depth >= static_cast<uint32_t>(params.maxDepth));
    if (!leaf) {
      double ss = 0.0;
      for (size_t p = 0; p < cnt; ++p) {
        const double dv = yl[ids0[p]] - mean;
        ss += w[ids0[p]] * dv * dv;
      }
      leaf = ss / W <= kImpurityEpsilon;
    }
    int bestF = -1;
    size_t bestPos = 0;
    double bestT = 0.0;
    if (!leaf) {
      // A random feature order per node (sklearn draws one too): ties between features go to the first.
      NodeRng rng(node.key);
      for (size_t f = 0; f < nFeat; ++f) featOrder[f] = f;
      for (size_t i = nFeat; i > 1; --i) {
        size_t j = static_cast<size_t>(rng.Uniform() * static_cast<double>(i));
        if (j >= i) j = i - 1;
        std::swap(featOrder[i - 1], featOrder[j]);
      }
      double bestProxy = -std::numeric_limits<double>::infinity();
      for (size_t fi = 0; fi < nFeat; ++fi) {
        const size_t f = featOrder[fi];
        const float* x = sx.data() + f * m + node.start;
        const uint32_t* ids = sid.data() + f * m + node.start;
        if (static_cast<double>(x[cnt - 1]) <= static_cast<double>(x[0]) + kFeatureThreshold) continue;
        double wL = 0.0, sL = 0.0;
        for (size_t p = 0; p + 1 < cnt; ++p) {
          wL += w[ids[p]];
          sL += wy[ids[p]];
          if (static_cast<double>(x[p + 1]) <= static_cast<double>(x[p]) + kFeatureThreshold) continue;
          const double sR = S - sL, wR = W - wL;
          const double proxy = sL * sL / wL + sR * sR / wR;
          if (proxy > bestProxy) {
            bestProxy = proxy;
            bestF = static_cast<int>(f);
            bestPos = p;
          }
        }
      }
      leaf = bestF < 0;
      if (!leaf) {
        // sklearn's threshold: halfway between the two values, or the lower one when halfway rounds up.
        const float* x = sx.data() + static_cast<size_t>(bestF) * m + node.start;
        const double lo = x[bestPos], hi = x[bestPos + 1];
        bestT = lo / 2.0 + hi / 2.0;
        if (bestT == hi || std::isinf(bestT)) bestT = lo;
      }
    }
    if (leaf) {
      for (uint32_t q = node.qstart; q < node.qend; ++q) pred[qrows[q]] = mean;
      continue;
    }
    // Rows at sorted positions <= bestPos of the best feature go left (exactly those with x <= bestT).
    {
      const uint32_t* ids = sid.data() + static_cast<size_t>(bestF) * m + node.start;
      for (size_t p = 0; p < cnt; ++p) goLeft[ids[p]] = p <= bestPos;
    }
    const size_t nL = bestPos + 1;
    const float* qcol = query.cols[bestF];
    uint32_t* qb = qrows.data() + node.qstart;
    uint32_t* qe = qrows.data() + node.qend;
    uint32_t* qmid = std::partition(qb, qe, [&](uint32_t r) { return static_cast<double>(qcol[r]) <= bestT; });
    const uint32_t qsplit = static_cast<uint32_t>(qmid - qrows.data());
    const bool leftLives = qsplit > node.qstart, rightLives = qsplit < node.qend;
    // Stable partition of every feature's segment (both children live), or keep only the live child's rows.
    for (size_t f = 0; f < nFeat; ++f) {
      uint32_t* ids = sid.data() + f * m + node.start;
      float* x = sx.data() + f * m + node.start;
      size_t l = 0, r = 0;
      if (leftLives && rightLives) {
        for (size_t p = 0; p < cnt; ++p) {
          const uint32_t id = ids[p];
          const float v = x[p];
          if (goLeft[id]) {
            ids[l] = id;
            x[l++] = v;
          } else {
            tmpI[r] = id;
            tmpF[r++] = v;
          }
        }
        std::copy(tmpI.begin(), tmpI.begin() + r, ids + l);
        std::copy(tmpF.begin(), tmpF.begin() + r, x + l);
      } else {
        const uint8_t keep = leftLives ? 1 : 0;
        for (size_t p = 0; p < cnt; ++p) {
          if (goLeft[ids[p]] != keep) continue;
          ids[l] = ids[p];
          x[l++] = x[p];
        }
      }
    }
    const uint32_t depth = node.depth + 1;
    if (leftLives && rightLives) {
      const uint32_t mid = node.start + static_cast<uint32_t>(nL);
      stack.push_back({mid, node.end, qsplit, node.qend, depth, ChildKey(node.key, true)});
      stack.push_back({node.start, mid, node.qstart, qsplit, depth, ChildKey(node.key, false)});
    } else if (leftLives) {
      stack.push_back(
          {node.start, node.start + static_cast<uint32_t>(nL), node.qstart, qsplit, depth, ChildKey(node.key, false)});
    } else {
      stack.push_back({node.start, node.start + static_cast<uint32_t>(cnt - nL), qsplit, node.qend, depth,
                       ChildKey(node.key, true)});
    }
  }
}

/** Mean over trees of per-tree predictions, trees grown in parallel and summed in tree order. */
template <typename GrowFn>
std::vector<double> AverageTrees(size_t nTrees, int threads, size_t nQuery, GrowFn&& grow) {
  std::vector<std::vector<double>> perTree(nTrees);
  ParallelFor(nTrees, threads, [&](size_t t, int /*worker*/) {
    perTree[t].assign(nQuery, 0.0);
    grow(t, perTree[t].data());
  });
  std::vector<double> out(nQuery, 0.0);
  for (size_t t = 0; t < nTrees; ++t)
    for (size_t q = 0; q < nQuery; ++q) out[q] += perTree[t][q];
  for (size_t q = 0; q < nQuery; ++q) out[q] /= static_cast<double>(nTrees);
  return out;
}

}  // namespace

std::vector<double> ExtraTreesFitPredict(const FeatureBlock& train, const std::vector<double>& y,
                                         const FeatureBlock& query, const ExtraTreesParams& params) {
  std::vector<double> out(query.n, 0.0);
  if (query.n == 0) return out;
  if (train.n == 0) throw std::runtime_error("extratrees: no training rows");
  if (train.cols.size() == 0) {
    double sum = 0.0;
    for (double v : y) sum += v;
    std::fill(out.begin(), out.end(), sum / static_cast<double>(train.n));
    return out;
  }
  const size_t nTrees = static_cast<size_t>(std::max(1, params.nEstimators));
  return AverageTrees(nTrees, params.threads, query.n, [&](size_t t, double* pred) {
    GrowTree(train, y, query, params, StreamKey(params.seed, t), pred);
  });
}

std::vector<double> RandomForestFitPredict(const FeatureBlock& train, const std::vector<double>& y,
                                           const FeatureBlock& query, const RandomForestParams& params) {
  std::vector<double> out(query.n, 0.0);
  if (query.n == 0) return out;
  if (train.n == 0) throw std::runtime_error("random forest: no training rows");
  if (train.n > std::numeric_limits<uint32_t>::max() - 1)
    throw std::runtime_error("random forest: too many training rows");
  if (train.cols.size() == 0) {
    double sum = 0.0;
    for (double v : y) sum += v;
    std::fill(out.begin(), out.end(), sum / static_cast<double>(train.n));
    return out;
  }
  const std::vector<std::vector<uint32_t>> sorted = PresortFeatures(train);
  const size_t nTrees = static_cast<size_t>(std::max(1, params.nEstimators));
  return AverageTrees(nTrees, params.threads, query.n, [&](size_t t, double* pred) {
    GrowForestTree(train, y, query, sorted, params, StreamKey(params.seed, t), pred);
  });
}

}  // namespace trees
}  // namespace hierimpute
