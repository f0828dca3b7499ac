// Native forward / backward passes and Adam of the neural imputers' models (see neural.h).
// Loops are written as axpy (y[:] += a * x[:]) over contiguous rows so that they vectorise without
// reassociation; reductions (dot products) run in a fixed scalar order.
#include "neural.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "parallel.h"

namespace hierimpute {
namespace nn {

double Mulberry32::Normal() {
  double u = 0;
  while (u == 0) u = Next();
  const double v = Next();
  return std::sqrt(-2.0 * std::log(u)) * std::cos(2.0 * 3.14159265358979323846 * v);
}

namespace {

// The hot loops are inlined into the float entry points below, which are compiled twice
// (target_clones: AVX2 and the baseline ISA, picked at load time; -DHIERIMPUTE_NN_NO_CLONES builds
// the baseline only). Without fused multiply-adds
// and with reductions kept scalar, both clones compute the same bits.
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__) && \
    !defined(HIERIMPUTE_NN_NO_CLONES)
#define HI_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define HI_CLONES
#endif
#define HI_INLINE __attribute__((always_inline)) inline

template <typename T>
HI_INLINE void Axpy(int n, T a, const T* __restrict x, T* __restrict y) {
  for (int i = 0; i < n; ++i) y[i] += a * x[i];
}

template <typename T>
HI_INLINE T Dot(int n, const T* x, const T* y) {
  T s = 0;
  for (int i = 0; i < n; ++i) s += x[i] * y[i];
  return s;
}

template <typename T>
HI_INLINE T Sigmoid(T v) {
  return T(1) / (T(1) + std::exp(-v));
}

/** tanh through exp (cheaper than the libm tanh): 1 - 2 / (e^(2v) + 1); saturates to +-1. */
template <typename T>
HI_INLINE T Tanh(T v) {
  return T(1) - T(2) / (std::exp(T(2) * v) + T(1));
}

/** Adam as tf.train.adam: bias-corrected moments, eps added to sqrt(v_hat). */
struct Adam {
  std::vector<float> m, v;
  double beta1Power = 1, beta2Power = 1;
  explicit Adam(std::size_t n) : m(n, 0.0f), v(n, 0.0f) {}
  void Step(std::vector<float>& params, const std::vector<float>& grad, double lr) {
    constexpr float b1 = 0.9f, b2 = 0.999f, eps = 1e-7f;
    beta1Power *= 0.9;
    beta2Power *= 0.999;
    const float c1 = static_cast<float>(1.0 / (1.0 - beta1Power));
    const float c2 = static_cast<float>(1.0 / (1.0 - beta2Power));
    const float step = static_cast<float>(lr);
    const std::size_t n = params.size();
    for (std::size_t i = 0; i < n; ++i) {
      const float g = grad[i];
      m[i] = b1 * m[i] + (1.0f - b1) * g;
      v[i] = b2 * v[i] + (1.0f - b2) * g * g;
      params[i] -= step * (m[i] * c1) / (std::sqrt(v[i] * c2) + eps);
    }
  }
};

/** Glorot-uniform [fanIn, fanOut] weights from one seeded stream, written at dst. */
template <typename T>
void GlorotUniform(T* dst, int fanIn, int fanOut, uint32_t seed) {
  Mulberry32 rng(seed);
  const double limit = std::sqrt(6.0 / (fanIn + fanOut));
  for (int i = 0; i < fanIn * fanOut; ++i) dst[i] = static_cast<T>((2.0 * rng.Next() - 1.0) * limit);
}

// ---------------------------------------------------------------------------------------------
// Recurrent autoencoder.

/** Offsets of each weight in the flat parameter vector. */
struct Layout {
  int F, d, U, L, G;
  bool lstm;
  std::size_t encWx, encU, encB, denseW, denseB, decWx, decU, decB, outW, outB, total;
  explicit Layout(const RecurrentConfig& c)
      : F(c.features),
        d(c.d),
        U(c.units),
        L(c.latent),
        G((c.cell == Cell::Lstm ? 4 : 3) * c.units),
        lstm(c.cell == Cell::Lstm) {
    std::size_t o = 0;
    auto take = [&o](std::size_t n) {
      const std::size_t at = o;
      o += n;
      return at;
    };
    encWx = take(static_cast<std::size_t>(F + d) * G);  // rows: F values, then d column codes
    encU = take(static_cast<std::size_t>(U) * G);
    encB = take(G);
    denseW = take(static_cast<std::size_t>(U) * L);
    denseB = take(L);
    decWx = take(static_cast<std::size_t>(L + d) * G);  // rows: L latent values, then d column codes
    decU = take(static_cast<std::size_t>(U) * G);
    decB = take(G);
    outW = take(U);
    outB = take(1);
    total = o;
  }
};

/** Per-row activations kept for the backward pass, plus backward scratch (one per worker). */
template <typename T>
struct RowWork {
  std::vector<T> encAct, encC, encH, zl, decBase, decAct, decC, decH, y, dy;
  std::vector<T> dh, dc, dpre, dhp, drh, dpreSum, dzl, pre;
  explicit RowWork(const Layout& l)
      : encAct(l.d * l.G),
        encC((l.d + 1) * l.U),
        encH((l.d + 1) * l.U),
        zl(l.L),
        decBase(l.G),
        decAct(l.d * l.G),
        decC((l.d + 1) * l.U),
        decH((l.d + 1) * l.U),
        y(l.d),
        dy(l.d),
        dh(l.U),
        dc(l.U),
        dpre(l.G),
        dhp(l.U),
        drh(l.U),
        dpreSum(l.G),
        dzl(l.L),
        pre(l.G) {}
};

/**
 * One cell step. act receives the gate activations (lstm: i, f, g, o; gru: z, r, h~); h the new
 * state; c the new cell state (lstm) or r * h_prev (gru, kept for the backward pass).
 */
template <typename T>
HI_INLINE void CellForward(const Layout& l, const T* Uh, const T* pre, const T* hp, const T* cp, T* act, T* h, T* c) {
  const int U = l.U, G = l.G;
  std::copy(pre, pre + G, act);
  if (l.lstm) {
    for (int k = 0; k < U; ++k) Axpy(G, hp[k], Uh + static_cast<std::size_t>(k) * G, act);
    for (int j = 0; j < U; ++j) {
      const T i = Sigmoid(act[j]), f = Sigmoid(act[U + j]), g = Tanh(act[2 * U + j]), o = Sigmoid(act[3 * U + j]);
      act[j] = i;
      act[U + j] = f;
      act[2 * U + j] = g;
      act[3 * U + j] = o;
      c[j] = f * cp[j] + i * g;
      h[j] = o * Tanh(c[j]);
    }
  } else {
    for (int k = 0; k < U; ++k) Axpy(2 * U, hp[k], Uh + static_cast<std::size_t>(k) * G, act);
    for (int j = 0; j < 2 * U; ++j) act[j] = Sigmoid(act[j]);
    for (int j = 0; j < U; ++j) c[j] = act[U + j] * hp[j];
    for (int k = 0; k < U; ++k) Axpy(U, c[k], Uh + static_cast<std::size_t>(k) * G + 2 * U, act + 2 * U);
    for (int j = 0; j < U; ++j) {
      const T z = act[j], hh = Tanh(act[2 * U + j]);
      act[2 * U + j] = hh;
      h[j] = z * hp[j] + (T(1) - z) * hh;
    }
  }
}

/**
 * Backward of one cell step. In: dh (gradient w.r.t. h), dc (lstm: w.r.t. c, replaced by the
 * gradient w.r.t. c_prev). Out: dpre (w.r.t. the input pre-activations), dhp (w.r.t. h_prev);
 * accumulates dUh. UhT is the recurrent kernel transposed ([G, U]).
 */
template <typename T>
HI_INLINE void CellBackward(const Layout& l, const T* UhT, const T* act, const T* hp, const T* cp, const T* c,
                            const T* dh, T* dc, T* dpre, T* dUh, T* dhp, T* drh) {
  const int U = l.U, G = l.G;
  if (l.lstm) {
    for (int j = 0; j < U; ++j) {
      const T i = act[j], f = act[U + j], g = act[2 * U + j], o = act[3 * U + j];
      const T tc = Tanh(c[j]);
      const T dcc = dc[j] + dh[j] * o * (T(1) - tc * tc);
      dpre[j] = dcc * g * i * (T(1) - i);
      dpre[U + j] = dcc * cp[j] * f * (T(1) - f);
      dpre[2 * U + j] = dcc * i * (T(1) - g * g);
      dpre[3 * U + j] = dh[j] * tc * o * (T(1) - o);
      dc[j] = dcc * f;
    }
    for (int k = 0; k < U; ++k) Axpy(G, hp[k], dpre, dUh + static_cast<std::size_t>(k) * G);
    std::fill(dhp, dhp + U, T(0));
    for (int g = 0; g < G; ++g) Axpy(U, dpre[g], UhT + static_cast<std::size_t>(g) * U, dhp);
  } else {
    const T* rh = c;
    for (int j = 0; j < U; ++j) {
      const T z = act[j], hh = act[2 * U + j];
      dpre[j] = dh[j] * (hp[j] - hh) * z * (T(1) - z);
      dpre[2 * U + j] = dh[j] * (T(1) - z) * (T(1) - hh * hh);
      dhp[j] = dh[j] * z;
    }
    for (int k = 0; k < U; ++k) Axpy(U, rh[k], dpre + 2 * U, dUh + static_cast<std::size_t>(k) * G + 2 * U);
    std::fill(drh, drh + U, T(0));
    for (int g = 2 * U; g < 3 * U; ++g) Axpy(U, dpre[g], UhT + static_cast<std::size_t>(g) * U, drh);
    for (int j = 0; j < U; ++j) {
      const T r = act[U + j];
      dpre[U + j] = drh[j] * hp[j] * r * (T(1) - r);
      dhp[j] += drh[j] * r;
    }
    for (int k = 0; k < U; ++k) Axpy(2 * U, hp[k], dpre, dUh + static_cast<std::size_t>(k) * G);
    for (int g = 0; g < 2 * U; ++g) Axpy(U, dpre[g], UhT + static_cast<std::size_t>(g) * U, dhp);
  }
}

/** Forward pass of one row: in = [d, F] step values; fills w.y (and the saved activations). */
template <typename T>
HI_INLINE void RowForward(const Layout& l, const T* P, const T* in, RowWork<T>& w) {
  const int F = l.F, d = l.d, U = l.U, L = l.L, G = l.G;
  std::fill(w.encH.begin(), w.encH.begin() + U, T(0));
  std::fill(w.encC.begin(), w.encC.begin() + U, T(0));
  for (int t = 0; t < d; ++t) {
    T* pre = w.pre.data();
    const T* b = P + l.encB;
    const T* code = P + l.encWx + static_cast<std::size_t>(F + t) * G;
    for (int g = 0; g < G; ++g) pre[g] = b[g] + code[g];
    for (int f = 0; f < F; ++f) Axpy(G, in[t * F + f], P + l.encWx + static_cast<std::size_t>(f) * G, pre);
    CellForward(l, P + l.encU, pre, &w.encH[t * U], &w.encC[t * U], &w.encAct[t * G], &w.encH[(t + 1) * U],
                &w.encC[(t + 1) * U]);
  }
  std::copy(P + l.denseB, P + l.denseB + L, w.zl.begin());
  for (int k = 0; k < U; ++k) Axpy(L, w.encH[d * U + k], P + l.denseW + static_cast<std::size_t>(k) * L, w.zl.data());
  std::copy(P + l.decB, P + l.decB + G, w.decBase.begin());
  for (int q = 0; q < L; ++q) Axpy(G, w.zl[q], P + l.decWx + static_cast<std::size_t>(q) * G, w.decBase.data());
  std::fill(w.decH.begin(), w.decH.begin() + U, T(0));
  std::fill(w.decC.begin(), w.decC.begin() + U, T(0));
  const T* outW = P + l.outW;
  for (int t = 0; t < d; ++t) {
    T* pre = w.pre.data();
    const T* code = P + l.decWx + static_cast<std::size_t>(L + t) * G;
    for (int g = 0; g < G; ++g) pre[g] = w.decBase[g] + code[g];
    CellForward(l, P + l.decU, pre, &w.decH[t * U], &w.decC[t * U], &w.decAct[t * G], &w.decH[(t + 1) * U],
                &w.decC[(t + 1) * U]);
    w.y[t] = P[l.outB] + Dot(U, &w.decH[(t + 1) * U], outW);
  }
}

/** Backward pass of the row last run through RowForward, given w.dy; accumulates into grad. */
template <typename T>
HI_INLINE void RowBackward(const Layout& l, const T* P, const T* encUT, const T* decUT, const T* in, RowWork<T>& w,
                           T* grad) {
  const int F = l.F, d = l.d, U = l.U, L = l.L, G = l.G;
  T* dh = w.dh.data();
  T* dc = w.dc.data();
  T* dpre = w.dpre.data();
  T* dhp = w.dhp.data();
  std::fill(w.dh.begin(), w.dh.end(), T(0));
  std::fill(w.dc.begin(), w.dc.end(), T(0));
  std::fill(w.dpreSum.begin(), w.dpreSum.end(), T(0));
  const T* outW = P + l.outW;
  for (int t = d - 1; t >= 0; --t) {
    const T dy = w.dy[t];
    Axpy(U, dy, outW, dh);
    Axpy(U, dy, &w.decH[(t + 1) * U], grad + l.outW);
    grad[l.outB] += dy;
    CellBackward(l, decUT, &w.decAct[t * G], &w.decH[t * U], &w.decC[t * U], &w.decC[(t + 1) * U], dh, dc, dpre,
                 grad + l.decU, dhp, w.drh.data());
    Axpy(G, T(1), dpre, grad + l.decWx + static_cast<std::size_t>(L + t) * G);
    Axpy(G, T(1), dpre, w.dpreSum.data());
    std::copy(dhp, dhp + U, dh);
  }
  // The latent code enters every decoder step through the same kernel rows.
  Axpy(G, T(1), w.dpreSum.data(), grad + l.decB);
  for (int q = 0; q < L; ++q) {
    Axpy(G, w.zl[q], w.dpreSum.data(), grad + l.decWx + static_cast<std::size_t>(q) * G);
    w.dzl[q] = Dot(G, P + l.decWx + static_cast<std::size_t>(q) * G, w.dpreSum.data());
  }
  Axpy(L, T(1), w.dzl.data(), grad + l.denseB);
  for (int k = 0; k < U; ++k) {
    Axpy(L, w.encH[d * U + k], w.dzl.data(), grad + l.denseW + static_cast<std::size_t>(k) * L);
    dh[k] = Dot(L, P + l.denseW + static_cast<std::size_t>(k) * L, w.dzl.data());
  }
  std::fill(w.dc.begin(), w.dc.end(), T(0));
  for (int t = d - 1; t >= 0; --t) {
    CellBackward(l, encUT, &w.encAct[t * G], &w.encH[t * U], &w.encC[t * U], &w.encC[(t + 1) * U], dh, dc, dpre,
                 grad + l.encU, dhp, w.drh.data());
    Axpy(G, T(1), dpre, grad + l.encB);
    Axpy(G, T(1), dpre, grad + l.encWx + static_cast<std::size_t>(F + t) * G);
    for (int f = 0; f < F; ++f) Axpy(G, in[t * F + f], dpre, grad + l.encWx + static_cast<std::size_t>(f) * G);
    std::copy(dhp, dhp + U, dh);
  }
}

/** The recurrent kernels transposed ([G, U]) for the backward pass. */
template <typename T>
void Transpose(const T* a, int rows, int cols, T* out) {
  for (int r = 0; r < rows; ++r)
    for (int c = 0; c < cols; ++c)
      out[static_cast<std::size_t>(c) * rows + r] = a[static_cast<std::size_t>(r) * cols + c];
}

/**
 * sum(weight * (y - target)^2) * scale over `rows` rows and its gradient (times scale), added to
 * grad. Rows are processed in order.
 */
template <typename T>
HI_INLINE double RowsLossGrad(const Layout& l, const T* P, const T* encUT, const T* decUT, int rows, const T* inputs,
                              const T* target, const T* weight, T scale, T* grad, RowWork<T>& w) {
  double loss = 0;
  for (int r = 0; r < rows; ++r) {
    const T* in = inputs + static_cast<std::size_t>(r) * l.d * l.F;
    RowForward(l, P, in, w);
    bool any = false;
    for (int t = 0; t < l.d; ++t) {
      const T wt = weight[r * l.d + t];
      const T e = w.y[t] - target[r * l.d + t];
      loss += static_cast<double>(wt * e * e);
      w.dy[t] = T(2) * scale * wt * e;
      any = any || wt != T(0);
    }
    if (any) RowBackward(l, P, encUT, decUT, in, w, grad);
  }
  return loss * static_cast<double>(scale);
}

HI_CLONES double RowsLossGradFloat(const Layout& l, const float* P, const float* encUT, const float* decUT, int rows,
                                   const float* inputs, const float* target, const float* weight, float scale,
                                   float* grad, RowWork<float>& w) {
  return RowsLossGrad(l, P, encUT, decUT, rows, inputs, target, weight, scale, grad, w);
}

HI_CLONES void RowForwardFloat(const Layout& l, const float* P, const float* in, RowWork<float>& w) {
  RowForward(l, P, in, w);
}

template <typename T>
std::vector<T> InitParams(const RecurrentConfig& c) {
  const Layout l(c);
  std::vector<T> p(l.total, T(0));
  GlorotUniform(p.data() + l.encWx, l.F + l.d, l.G, c.initSeeds[0]);
  GlorotUniform(p.data() + l.encU, l.U, l.G, c.initSeeds[1]);
  GlorotUniform(p.data() + l.denseW, l.U, l.L, c.initSeeds[2]);
  GlorotUniform(p.data() + l.decWx, l.L + l.d, l.G, c.initSeeds[3]);
  GlorotUniform(p.data() + l.decU, l.U, l.G, c.initSeeds[4]);
  GlorotUniform(p.data() + l.outW, l.U, 1, c.initSeeds[5]);
  return p;
}

void CheckRecurrent(const RecurrentConfig& c) {
  if (c.d < 2 || c.features < 1 || c.features > 2 || c.units < 1 || c.latent < 1 || c.batchSize < 1 || c.epochs < 1)
    throw std::invalid_argument("recurrent autoencoder: bad configuration");
}

/** Step inputs [d, F] of one row: value (0 where hidden or missing) and, for F = 2, the flag. */
inline void FillInputs(int d, int F, const float* x, const float* flag, float* in) {
  for (int t = 0; t < d; ++t) {
    in[t * F] = flag[t] != 0.0f ? x[t] : 0.0f;
    if (F == 2) in[t * F + 1] = flag[t];
  }
}

/** Reconstructions of `rows` (inputs from their true flags), refined `refine` times; out [rows, d]. */
void PredictRows(const Layout& l, const std::vector<float>& P, const RecurrentData& data, const int32_t* rows,
                 int count, const float* flagsOverride, int refine, int threads, std::vector<RowWork<float>>& work,
                 float* out) {
  const int d = l.d, F = l.F;
  constexpr int kPredictRows = 64;
  ParallelFor(BlockCount(count, kPredictRows), threads, [&](std::size_t block, int worker) {
    RowWork<float>& w = work[worker];
    std::vector<float> in(d * F), cur(d), ones(d, 1.0f);
    const int end = std::min<int>(count, static_cast<int>(block + 1) * kPredictRows);
    for (int i = static_cast<int>(block) * kPredictRows; i < end; ++i) {
      const std::size_t r = static_cast<std::size_t>(rows[i]);
      const float* x = data.x + r * d;
      const float* m = flagsOverride ? flagsOverride + static_cast<std::size_t>(i) * d : data.mask + r * d;
      FillInputs(d, F, x, m, in.data());
      RowForwardFloat(l, P.data(), in.data(), w);
      for (int it = 0; it < refine; ++it) {
        // Missing cells take the previous reconstruction; observed cells keep their values.
        for (int t = 0; t < d; ++t) cur[t] = m[t] != 0.0f ? x[t] : w.y[t];
        FillInputs(d, F, cur.data(), ones.data(), in.data());
        if (F == 2)
          for (int t = 0; t < d; ++t) in[t * F + 1] = m[t];
        RowForwardFloat(l, P.data(), in.data(), w);
      }
      std::copy(w.y.begin(), w.y.end(), out + static_cast<std::size_t>(i) * d);
    }
  });
}

}  // namespace

std::size_t RecurrentParamCount(const RecurrentConfig& cfg) { return Layout(cfg).total; }

std::vector<float> RecurrentInitParams(const RecurrentConfig& cfg) {
  CheckRecurrent(cfg);
  return InitParams<float>(cfg);
}

double RecurrentLossGradDouble(const RecurrentConfig& cfg, const std::vector<double>& params, const double* inputs,
                               const double* target, const double* weight, int rows, std::vector<double>& grad) {
  CheckRecurrent(cfg);
  const Layout l(cfg);
  if (params.size() != l.total) throw std::invalid_argument("recurrent autoencoder: wrong parameter count");
  grad.assign(l.total, 0.0);
  std::vector<double> encUT(l.total), decUT(l.total);
  Transpose(params.data() + l.encU, l.U, l.G, encUT.data());
  Transpose(params.data() + l.decU, l.U, l.G, decUT.data());
  double wsum = 0;
  for (int i = 0; i < rows * l.d; ++i) wsum += weight[i];
  RowWork<double> w(l);
  return RowsLossGrad(l, params.data(), encUT.data(), decUT.data(), rows, inputs, target, weight,
                      1.0 / std::max(wsum, 1.0), grad.data(), w);
}

RecurrentResult TrainRecurrent(const RecurrentConfig& cfg, const RecurrentData& data) {
  CheckRecurrent(cfg);
  const Layout l(cfg);
  const int d = l.d, F = l.F;
  std::vector<float> P = InitParams<float>(cfg);
  Adam adam(l.total);
  const int B = cfg.batchSize;
  const int maxChunks = static_cast<int>(BlockCount(B, kChunkRows));
  const int workers = ResolveThreads(cfg.threads, std::max(maxChunks, static_cast<int>(BlockCount(data.n, 64))));
  std::vector<RowWork<float>> work(workers, RowWork<float>(l));
  std::vector<float> chunkGrad(static_cast<std::size_t>(maxChunks) * l.total), grad(l.total);
  std::vector<double> chunkLoss(maxChunks);
  std::vector<float> encUT(static_cast<std::size_t>(l.U) * l.G), decUT(static_cast<std::size_t>(l.U) * l.G);
  std::vector<float> inputs(static_cast<std::size_t>(B) * d * F), target(static_cast<std::size_t>(B) * d),
      weight(static_cast<std::size_t>(B) * d), flag(d);
  Mulberry32 shuffle(cfg.shuffleSeed), masker(cfg.maskSeed);
  std::vector<int32_t> order = data.trainRows;
  const int nTrain = static_cast<int>(order.size());
  const int nVal = static_cast<int>(data.valRows.size());
  std::vector<float> valPred(static_cast<std::size_t>(nVal) * d), best;
  RecurrentResult res;
  res.bestScore = std::numeric_limits<double>::infinity();
  int stale = 0;
  for (int epoch = 0; epoch < cfg.epochs; ++epoch) {
    shuffle.ShuffleInPlace(order, order.size());
    double epochLoss = 0;
    for (int s = 0; s < nTrain; s += B) {
      const int b = std::min(B, nTrain - s);
      double wsum = 0;
      for (int i = 0; i < b; ++i) {
        const std::size_t r = static_cast<std::size_t>(order[s + i]);
        const float* x = data.x + r * d;
        const float* m = data.mask + r * d;
        for (int t = 0; t < d; ++t) {
          const bool hide = cfg.maskRate > 0 && masker.Next() < cfg.maskRate && m[t] != 0.0f;
          flag[t] = hide ? 0.0f : m[t];
          float wt;
          if (cfg.objective == Objective::DynamicMask)
            wt = hide ? 1.0f : m[t] * static_cast<float>(cfg.visibleWeight);
          else
            wt = m[t];
          weight[static_cast<std::size_t>(i) * d + t] = wt;
          target[static_cast<std::size_t>(i) * d + t] = x[t];
          wsum += wt;
        }
        FillInputs(d, F, x, flag.data(), &inputs[static_cast<std::size_t>(i) * d * F]);
      }
      const float scale = static_cast<float>(1.0 / std::max(wsum, 1.0));
      Transpose(P.data() + l.encU, l.U, l.G, encUT.data());
      Transpose(P.data() + l.decU, l.U, l.G, decUT.data());
      const int chunks = static_cast<int>(BlockCount(b, kChunkRows));
      ParallelFor(chunks, cfg.threads, [&](std::size_t c, int worker) {
        float* g = &chunkGrad[c * l.total];
        std::fill(g, g + l.total, 0.0f);
        const int r0 = static_cast<int>(c) * kChunkRows;
        const int rows = std::min(kChunkRows, b - r0);
        chunkLoss[c] =
            RowsLossGradFloat(l, P.data(), encUT.data(), decUT.data(), rows,
                              &inputs[static_cast<std::size_t>(r0) * d * F], &target[static_cast<std::size_t>(r0) * d],
                              &weight[static_cast<std::size_t>(r0) * d], scale, g, work[worker]);
      });
      std::copy(chunkGrad.begin(), chunkGrad.begin() + l.total, grad.begin());
      for (int c = 1; c < chunks; ++c)
        Axpy(static_cast<int>(l.total), 1.0f, &chunkGrad[static_cast<std::size_t>(c) * l.total], grad.data());
      for (int c = 0; c < chunks; ++c) epochLoss += chunkLoss[c];
      adam.Step(P, grad, cfg.learningRate);
    }
    res.epochsRun = epoch + 1;
    res.lastLoss = epochLoss / std::max(1, static_cast<int>(BlockCount(nTrain, B)));
    if (!std::isfinite(res.lastLoss)) break;  // diverged: the caller reports non-finite output
    if (nVal == 0) continue;
    // Held-out score: inputs with the fixed hidden cells removed, MSE on those cells.
    {
      std::vector<float> flags(static_cast<std::size_t>(nVal) * d);
      for (int i = 0; i < nVal; ++i)
        for (int t = 0; t < d; ++t)
          flags[static_cast<std::size_t>(i) * d + t] = data.mask[static_cast<std::size_t>(data.valRows[i]) * d + t] *
                                                       (1.0f - data.valHidden[static_cast<std::size_t>(i) * d + t]);
      PredictRows(l, P, data, data.valRows.data(), nVal, flags.data(), 0, cfg.threads, work, valPred.data());
    }
    double sse = 0, cnt = 0;
    for (int i = 0; i < nVal; ++i)
      for (int t = 0; t < d; ++t) {
        const double h = data.valHidden[static_cast<std::size_t>(i) * d + t];
        const double e =
            valPred[static_cast<std::size_t>(i) * d + t] - data.x[static_cast<std::size_t>(data.valRows[i]) * d + t];
        sse += h * e * e;
        cnt += h;
      }
    const double score = sse / std::max(cnt, 1.0);
    if (score < res.bestScore) {
      res.bestScore = score;
      res.bestEpoch = epoch + 1;
      best = P;
      stale = 0;
    } else if (++stale >= cfg.patience) {
      break;
    }
  }
  if (!best.empty()) P = best;
  const int nT = data.n - data.targetStart;
  std::vector<int32_t> targetRows(nT);
  for (int i = 0; i < nT; ++i) targetRows[i] = data.targetStart + i;
  res.pred.assign(static_cast<std::size_t>(nT) * d, 0.0f);
  PredictRows(l, P, data, targetRows.data(), nT, nullptr, cfg.refineIterations, cfg.threads, work, res.pred.data());
  return res;
}

// ---------------------------------------------------------------------------------------------
// GAIN.

namespace {

struct MlpLayout {
  int in, h, out;
  std::size_t w1, b1, w2, b2, w3, b3, total;
  MlpLayout(int d, int hidden) : in(2 * d), h(hidden), out(d) {
    w1 = 0;
    b1 = w1 + static_cast<std::size_t>(in) * h;
    w2 = b1 + h;
    b2 = w2 + static_cast<std::size_t>(h) * h;
    w3 = b2 + h;
    b3 = w3 + static_cast<std::size_t>(h) * out;
    total = b3 + out;
  }
};

template <typename T>
struct MlpWork {
  std::vector<T> in, a1, h1, a2, h2, p, da3, dh2, dh1, din;
};

/** p = sigmoid(relu(relu([A, B] W1 + b1) W2 + b2) W3 + b3) for b rows. */
template <typename T>
void MlpForward(const MlpLayout& l, const T* P, int b, const T* A, const T* Bv, MlpWork<T>& w) {
  const int d = l.out, h = l.h;
  w.in.resize(static_cast<std::size_t>(b) * l.in);
  w.a1.resize(static_cast<std::size_t>(b) * h);
  w.h1.resize(w.a1.size());
  w.a2.resize(w.a1.size());
  w.h2.resize(w.a1.size());
  w.p.resize(static_cast<std::size_t>(b) * d);
  for (int r = 0; r < b; ++r) {
    T* in = &w.in[static_cast<std::size_t>(r) * l.in];
    std::copy(A + static_cast<std::size_t>(r) * d, A + static_cast<std::size_t>(r + 1) * d, in);
    std::copy(Bv + static_cast<std::size_t>(r) * d, Bv + static_cast<std::size_t>(r + 1) * d, in + d);
    T* a1 = &w.a1[static_cast<std::size_t>(r) * h];
    std::copy(P + l.b1, P + l.b1 + h, a1);
    for (int k = 0; k < l.in; ++k) Axpy(h, in[k], P + l.w1 + static_cast<std::size_t>(k) * h, a1);
    T* h1 = &w.h1[static_cast<std::size_t>(r) * h];
    for (int j = 0; j < h; ++j) h1[j] = a1[j] > T(0) ? a1[j] : T(0);
    T* a2 = &w.a2[static_cast<std::size_t>(r) * h];
    std::copy(P + l.b2, P + l.b2 + h, a2);
    for (int k = 0; k < h; ++k) Axpy(h, h1[k], P + l.w2 + static_cast<std::size_t>(k) * h, a2);
    T* h2 = &w.h2[static_cast<std::size_t>(r) * h];
    for (int j = 0; j < h; ++j) h2[j] = a2[j] > T(0) ? a2[j] : T(0);
    T* p = &w.p[static_cast<std::size_t>(r) * d];
    std::copy(P + l.b3, P + l.b3 + d, p);
    for (int k = 0; k < h; ++k) Axpy(d, h2[k], P + l.w3 + static_cast<std::size_t>(k) * d, p);
    for (int j = 0; j < d; ++j) p[j] = Sigmoid(p[j]);
  }
}

/** Backward of the last MlpForward given dp (gradient w.r.t. p); grad (may be null) accumulates,
 *  din (when wanted) receives the gradient w.r.t. the [A, B] input. */
template <typename T>
void MlpBackward(const MlpLayout& l, const T* P, int b, const T* dp, MlpWork<T>& w, T* grad, bool wantInput) {
  const int d = l.out, h = l.h;
  w.da3.resize(static_cast<std::size_t>(b) * d);
  w.dh2.resize(static_cast<std::size_t>(b) * h);
  w.dh1.resize(static_cast<std::size_t>(b) * h);
  if (wantInput) w.din.assign(static_cast<std::size_t>(b) * l.in, T(0));
  for (int r = 0; r < b; ++r) {
    const T* p = &w.p[static_cast<std::size_t>(r) * d];
    T* da3 = &w.da3[static_cast<std::size_t>(r) * d];
    for (int j = 0; j < d; ++j) da3[j] = dp[static_cast<std::size_t>(r) * d + j] * p[j] * (T(1) - p[j]);
    const T* h2 = &w.h2[static_cast<std::size_t>(r) * h];
    const T* h1 = &w.h1[static_cast<std::size_t>(r) * h];
    const T* in = &w.in[static_cast<std::size_t>(r) * l.in];
    T* da2 = &w.dh2[static_cast<std::size_t>(r) * h];
    for (int k = 0; k < h; ++k) da2[k] = h2[k] > T(0) ? Dot(d, P + l.w3 + static_cast<std::size_t>(k) * d, da3) : T(0);
    T* da1 = &w.dh1[static_cast<std::size_t>(r) * h];
    for (int k = 0; k < h; ++k) da1[k] = h1[k] > T(0) ? Dot(h, P + l.w2 + static_cast<std::size_t>(k) * h, da2) : T(0);
    if (grad) {
      for (int k = 0; k < h; ++k) Axpy(d, h2[k], da3, grad + l.w3 + static_cast<std::size_t>(k) * d);
      Axpy(d, T(1), da3, grad + l.b3);
      for (int k = 0; k < h; ++k) Axpy(h, h1[k], da2, grad + l.w2 + static_cast<std::size_t>(k) * h);
      Axpy(h, T(1), da2, grad + l.b2);
      for (int k = 0; k < l.in; ++k) Axpy(h, in[k], da1, grad + l.w1 + static_cast<std::size_t>(k) * h);
      Axpy(h, T(1), da1, grad + l.b1);
    }
    if (wantInput)
      for (int k = 0; k < l.in; ++k)
        w.din[static_cast<std::size_t>(r) * l.in + k] = Dot(h, P + l.w1 + static_cast<std::size_t>(k) * h, da1);
  }
}

template <typename T>
struct GainWork {
  MlpWork<T> g, dnet;
  std::vector<T> xhat, dp, dg;
};

constexpr double kGainEps = 1e-8;

/**
 * which 0: discriminator loss -mean(m log(p + eps) + (1 - m) log(1 - p + eps)), gradient w.r.t. D.
 * which 1: generator loss -mean((1 - m) log(p + eps)) + alpha mean((m x - m g)^2) / max(mean(m), eps),
 * gradient w.r.t. G (D fixed). grad must hold zeros of the network's size.
 */
template <typename T>
double GainLossGrad(const MlpLayout& l, double alpha, int which, const T* PG, const T* PD, const T* x, const T* m,
                    const T* xt, const T* hint, int b, T* grad, GainWork<T>& w) {
  const int d = l.out;
  const std::size_t n = static_cast<std::size_t>(b) * d;
  const T inv = T(1) / static_cast<T>(n);
  const T eps = static_cast<T>(kGainEps);
  MlpForward(l, PG, b, xt, m, w.g);
  w.xhat.resize(n);
  for (std::size_t i = 0; i < n; ++i) w.xhat[i] = m[i] * x[i] + (T(1) - m[i]) * w.g.p[i];
  MlpForward(l, PD, b, w.xhat.data(), hint, w.dnet);
  w.dp.resize(n);
  double loss = 0;
  if (which == 0) {
    for (std::size_t i = 0; i < n; ++i) {
      const T p = w.dnet.p[i];
      loss -= static_cast<double>(m[i] * std::log(p + eps) + (T(1) - m[i]) * std::log(T(1) - p + eps));
      w.dp[i] = -inv * (m[i] / (p + eps) - (T(1) - m[i]) / (T(1) - p + eps));
    }
    MlpBackward(l, PD, b, w.dp.data(), w.dnet, grad, false);
    return loss * static_cast<double>(inv);
  }
  T msum = 0;
  for (std::size_t i = 0; i < n; ++i) msum += m[i];
  const T meanM = std::max(msum * inv, eps);
  double adv = 0, mse = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const T p = w.dnet.p[i];
    adv -= static_cast<double>((T(1) - m[i]) * std::log(p + eps));
    w.dp[i] = -inv * (T(1) - m[i]) / (p + eps);
    const T e = m[i] * x[i] - m[i] * w.g.p[i];
    mse += static_cast<double>(e * e);
  }
  MlpBackward(l, PD, b, w.dp.data(), w.dnet, static_cast<T*>(nullptr), true);
  w.dg.resize(n);
  const T a = static_cast<T>(alpha);
  for (int r = 0; r < b; ++r)
    for (int j = 0; j < d; ++j) {
      const std::size_t i = static_cast<std::size_t>(r) * d + j;
      const T dxhat = w.dnet.din[static_cast<std::size_t>(r) * l.in + j];
      w.dg[i] = (T(1) - m[i]) * dxhat + a * T(2) * inv * (m[i] * w.g.p[i] - m[i] * x[i]) * m[i] / meanM;
    }
  MlpBackward(l, PG, b, w.dg.data(), w.g, grad, false);
  return (adv + alpha * mse / static_cast<double>(meanM)) * static_cast<double>(inv);
}

/** Xavier-normal weights (std 1 / sqrt(fan_in / 2)) from three seeded streams, zero biases. */
std::vector<float> GainInit(const MlpLayout& l, const uint32_t seeds[3]) {
  std::vector<float> p(l.total, 0.0f);
  auto fill = [&](std::size_t at, int fanIn, int fanOut, uint32_t seed) {
    Mulberry32 rng(seed);
    const double sd = 1.0 / std::sqrt(fanIn / 2.0);
    for (int i = 0; i < fanIn * fanOut; ++i) p[at + i] = static_cast<float>(rng.Normal() * sd);
  };
  fill(l.w1, l.in, l.h, seeds[0]);
  fill(l.w2, l.h, l.h, seeds[1]);
  fill(l.w3, l.h, l.out, seeds[2]);
  return p;
}

}  // namespace

std::size_t GainParamCount(const GainConfig& cfg) { return MlpLayout(cfg.d, cfg.hidden).total; }

double GainLossGradDouble(const GainConfig& cfg, int which, const std::vector<double>& paramsG,
                          const std::vector<double>& paramsD, const double* x, const double* m, const double* xTilde,
                          const double* hint, int rows, std::vector<double>& grad) {
  const MlpLayout l(cfg.d, cfg.hidden);
  if (paramsG.size() != l.total || paramsD.size() != l.total)
    throw std::invalid_argument("gain: wrong parameter count");
  grad.assign(l.total, 0.0);
  GainWork<double> w;
  return GainLossGrad(l, cfg.alpha, which, paramsG.data(), paramsD.data(), x, m, xTilde, hint, rows, grad.data(), w);
}

std::vector<float> TrainGain(const GainConfig& cfg, const GainData& data) {
  if (cfg.d < 1 || cfg.hidden < 1 || cfg.batchSize < 1 || data.n < 1)
    throw std::invalid_argument("gain: bad configuration");
  const MlpLayout l(cfg.d, cfg.hidden);
  const int d = cfg.d;
  std::vector<float> PG = GainInit(l, cfg.initSeedsG), PD = GainInit(l, cfg.initSeedsD);
  Adam adamG(l.total), adamD(l.total);
  const int b = std::min(cfg.batchSize, data.n);
  const std::size_t nb = static_cast<std::size_t>(b) * d;
  std::vector<float> x(nb), m(nb), xt(nb), hint(nb), grad(l.total);
  GainWork<float> w;
  Mulberry32 batchRng(cfg.batchSeed), noise(cfg.noiseSeed);
  std::vector<int32_t> pool(data.n);
  for (int i = 0; i < data.n; ++i) pool[i] = i;
  batchRng.ShuffleInPlace(pool, pool.size());
  for (int it = 0; it < cfg.iterations; ++it) {
    batchRng.ShuffleInPlace(pool, b);
    for (int r = 0; r < b; ++r) {
      const std::size_t src = static_cast<std::size_t>(pool[r]) * d;
      for (int j = 0; j < d; ++j) {
        const std::size_t i = static_cast<std::size_t>(r) * d + j;
        x[i] = data.x[src + j];
        m[i] = data.mask[src + j];
        const float z = static_cast<float>(noise.Next() * 0.01);
        xt[i] = m[i] * x[i] + (1.0f - m[i]) * z;
      }
    }
    for (std::size_t i = 0; i < nb; ++i) hint[i] = (noise.Next() < cfg.hintRate ? 1.0f : 0.0f) * m[i];
    std::fill(grad.begin(), grad.end(), 0.0f);
    GainLossGrad(l, cfg.alpha, 0, PG.data(), PD.data(), x.data(), m.data(), xt.data(), hint.data(), b, grad.data(), w);
    adamD.Step(PD, grad, cfg.learningRate);
    std::fill(grad.begin(), grad.end(), 0.0f);
    GainLossGrad(l, cfg.alpha, 1, PG.data(), PD.data(), x.data(), m.data(), xt.data(), hint.data(), b, grad.data(), w);
    adamG.Step(PG, grad, cfg.learningRate);
  }
  const int nT = data.n - data.targetStart;
  std::vector<float> out(static_cast<std::size_t>(nT) * d);
  Mulberry32 impute(cfg.imputeSeed);
  constexpr int kRows = 1024;
  std::vector<float> bx, bm;
  for (int s = 0; s < nT; s += kRows) {
    const int e = std::min(nT, s + kRows);
    const std::size_t cnt = static_cast<std::size_t>(e - s) * d;
    bx.resize(cnt);
    bm.resize(cnt);
    for (std::size_t i = 0; i < cnt; ++i) {
      const std::size_t src = static_cast<std::size_t>(data.targetStart + s) * d + i;
      bm[i] = data.mask[src];
      bx[i] = bm[i] * data.x[src] + (1.0f - bm[i]) * static_cast<float>(impute.Next() * 0.01);
    }
    MlpForward(l, PG.data(), e - s, bx.data(), bm.data(), w.g);
    std::copy(w.g.p.begin(), w.g.p.end(), out.begin() + static_cast<std::size_t>(s) * d);
  }
  return out;
}

}  // namespace nn
}  // namespace hierimpute
