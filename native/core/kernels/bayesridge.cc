// Bayesian ridge regression: see bayesridge.h for the semantics.
#include "kernels/bayesridge.h"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <numeric>
#include <stdexcept>

namespace hierimpute {
namespace linear {

namespace {

/** Dot product with four accumulators (fixed order: deterministic, and it vectorises). */
inline double Dot(const double* a, const double* b, size_t n) {
  double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    s0 += a[i] * b[i];
    s1 += a[i + 1] * b[i + 1];
    s2 += a[i + 2] * b[i + 2];
    s3 += a[i + 3] * b[i + 3];
  }
  double s = (s0 + s1) + (s2 + s3);
  for (; i < n; ++i) s += a[i] * b[i];
  return s;
}

inline void Axpy(double alpha, const double* x, double* y, size_t n) {
  for (size_t i = 0; i < n; ++i) y[i] += alpha * x[i];
}

/**
 * Householder QR of the column-major n x p matrix A (n >= p), in place; writes the p x p upper
 * triangular factor R (column-major) to R. Q is not formed: only R's singular values and right
 * singular vectors are needed, and they are those of A.
 */
void HouseholderR(double* A, size_t n, size_t p, double* R) {
  std::fill(R, R + p * p, 0.0);
  for (size_t k = 0; k < p; ++k) {
    double* ak = A + k * n + k;
    const size_t len = n - k;
    const double norm2 = Dot(ak, ak, len);
    const double norm = std::sqrt(norm2);
    double rkk = 0.0;
    if (norm > 0.0) {
      const double x0 = ak[0];
      const double alpha = x0 >= 0.0 ? -norm : norm;
      ak[0] = x0 - alpha;                                        // v = x - alpha e1, stored over x
      const double tau = 1.0 / (norm * (norm + std::fabs(x0)));  // 2 / ||v||^2
      for (size_t j = k + 1; j < p; ++j) {
        double* aj = A + j * n + k;
        Axpy(-tau * Dot(ak, aj, len), ak, aj, len);
      }
      rkk = alpha;
    }
    R[k * p + k] = rkk;
    for (size_t j = k + 1; j < p; ++j) R[j * p + k] = A[j * n + k];  // row k is final after step k
  }
}

/**
 * The Gram route to the SVD of a well-conditioned tall X: G = X^T X, its Cholesky factor R (R^T R = G),
 * then the one-sided Jacobi SVD of R (R's singular values and right vectors are X's). Half the flops of
 * Householder QR, but it squares the condition number, so it is taken only when it loses nothing
 * visible: returns false (the caller then runs Householder QR) when the Cholesky factorisation breaks
 * down or cond(X) = S_max / S_min exceeds 1e3 (eigenvalue errors ~ p eps cond^2 stay below 1e-8
 * relative).
 */
bool GramSvd(const double* X, size_t n, size_t p, std::vector<double>& G, std::vector<double>& R,
             std::vector<double>& sigma, std::vector<double>& V) {
  G.assign(p * p, 0.0);
  for (size_t j = 0; j < p; ++j)
    for (size_t i = 0; i <= j; ++i) G[j * p + i] = Dot(X + i * n, X + j * n, n);
  R.assign(p * p, 0.0);
  for (size_t j = 0; j < p; ++j) {
    double d = G[j * p + j];
    for (size_t k = 0; k < j; ++k) d -= R[j * p + k] * R[j * p + k];
    if (!(d > 0.0)) return false;
    const double rjj = std::sqrt(d);
    R[j * p + j] = rjj;
    for (size_t i = j + 1; i < p; ++i) {
      double v = G[i * p + j];
      for (size_t k = 0; k < j; ++k) v -= R[j * p + k] * R[i * p + k];
      R[i * p + j] = v / rjj;
    }
  }
  JacobiSvd(R.data(), p, p, sigma, V);
  return sigma[p - 1] > 1e-3 * sigma[0];
}

}  // namespace

void JacobiSvd(double* A, size_t m, size_t k, std::vector<double>& sigma, std::vector<double>& V) {
  V.assign(k * k, 0.0);
  for (size_t i = 0; i < k; ++i) V[i * k + i] = 1.0;
  constexpr int kMaxSweeps = 80;
  for (int sweep = 0; sweep < kMaxSweeps; ++sweep) {
    bool rotated = false;
    for (size_t i = 0; i + 1 < k; ++i) {
      for (size_t j = i + 1; j < k; ++j) {
        double* ai = A + i * m;
        double* aj = A + j * m;
        const double a = Dot(ai, ai, m), b = Dot(aj, aj, m), c = Dot(ai, aj, m);
        if (c == 0.0 || std::fabs(c) <= DBL_EPSILON * std::sqrt(a) * std::sqrt(b)) continue;
        rotated = true;
        // The rotation that makes columns i and j orthogonal (the smaller root of t^2 + 2 zeta t - 1).
        const double zeta = (b - a) / (2.0 * c);
        const double t = std::copysign(1.0, zeta) / (std::fabs(zeta) + std::hypot(1.0, zeta));
        const double cs = 1.0 / std::sqrt(1.0 + t * t), sn = cs * t;
        for (size_t r = 0; r < m; ++r) {
          const double x = ai[r], y = aj[r];
          ai[r] = cs * x - sn * y;
          aj[r] = sn * x + cs * y;
        }
        double* vi = V.data() + i * k;
        double* vj = V.data() + j * k;
        for (size_t r = 0; r < k; ++r) {
          const double x = vi[r], y = vj[r];
          vi[r] = cs * x - sn * y;
          vj[r] = sn * x + cs * y;
        }
      }
    }
    if (!rotated) break;
  }
  std::vector<double> s(k);
  for (size_t i = 0; i < k; ++i) s[i] = std::sqrt(Dot(A + i * m, A + i * m, m));
  // Descending order (ties: lower index first), as LAPACK returns them.
  std::vector<size_t> order(k);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t x, size_t y) { return s[x] > s[y]; });
  std::vector<double> a2(A, A + m * k), v2(V);
  sigma.resize(k);
  for (size_t i = 0; i < k; ++i) {
    const size_t o = order[i];
    sigma[i] = s[o];
    std::copy(a2.begin() + o * m, a2.begin() + (o + 1) * m, A + i * m);
    std::copy(v2.begin() + o * k, v2.begin() + (o + 1) * k, V.begin() + i * k);
  }
}

BayesianRidgeModel FitBayesianRidge(double* X, size_t n, size_t p, double* y, const BayesianRidgeParams& params,
                                    BayesianRidgeWorkspace& ws) {
  if (n == 0) throw std::invalid_argument("BayesianRidge: no training sample");
  const double dn = static_cast<double>(n);

  // Centring (sklearn _preprocess_data with fit_intercept=True). A non-finite value makes a sum non-finite.
  std::vector<double> xOffset(p);
  for (size_t f = 0; f < p; ++f) {
    double* xf = X + f * n;
    double s = 0.0;
    for (size_t i = 0; i < n; ++i) s += xf[i];
    if (!std::isfinite(s)) throw std::invalid_argument("BayesianRidge: a feature value is not finite");
    xOffset[f] = s / dn;
    for (size_t i = 0; i < n; ++i) xf[i] -= xOffset[f];
  }
  double ySum = 0.0;
  for (size_t i = 0; i < n; ++i) ySum += y[i];
  if (!std::isfinite(ySum)) throw std::invalid_argument("BayesianRidge: a target value is not finite");
  const double yOffset = ySum / dn;
  for (size_t i = 0; i < n; ++i) y[i] -= yOffset;

  BayesianRidgeModel model;
  model.coef.assign(p, 0.0);
  // np.var(y) of the centred y, then alpha_init = 1 / (var + eps), lambda_init = 1.
  double yMean = 0.0;
  for (size_t i = 0; i < n; ++i) yMean += y[i];
  yMean /= dn;
  double var = 0.0;
  for (size_t i = 0; i < n; ++i) var += (y[i] - yMean) * (y[i] - yMean);
  var /= dn;
  double alpha = 1.0 / (var + DBL_EPSILON);
  double lambda = 1.0;
  if (p == 0) {
    model.intercept = yOffset;
    model.alpha = alpha;
    model.lambda = lambda;
    return model;
  }

  // X^T y, and the SVD of the centred X.
  ws.xty.resize(p);
  for (size_t f = 0; f < p; ++f) ws.xty[f] = Dot(X + f * n, y, n);
  const bool tall = n > p;  // sklearn: n_samples > n_features -> V-form, else U-form
  const size_t k = tall ? p : n;
  std::vector<double> sigma;
  ws.t.resize(k);
  if (tall) {
    if (!GramSvd(X, n, p, ws.u, ws.r, sigma, ws.v)) {
      ws.u.assign(X, X + n * p);
      ws.r.resize(p * p);
      HouseholderR(ws.u.data(), n, p, ws.r.data());
      JacobiSvd(ws.r.data(), p, p, sigma, ws.v);
    }
    // t = V^T X^T y: coef = V (t / (S^2 + lambda/alpha)).
    for (size_t i = 0; i < p; ++i) ws.t[i] = Dot(ws.v.data() + i * p, ws.xty.data(), p);
  } else {
    // Jacobi SVD of X^T (p x n): its columns become S_i v_i (X^T u_i), its right vectors are X's U.
    ws.u.resize(p * n);
    for (size_t i = 0; i < n; ++i)
      for (size_t f = 0; f < p; ++f) ws.u[i * p + f] = X[f * n + i];
    JacobiSvd(ws.u.data(), p, n, sigma, ws.v);
    for (size_t i = 0; i < n; ++i) ws.t[i] = Dot(ws.v.data() + i * n, y, n);  // u_i . y
  }
  ws.s2.resize(k);
  for (size_t i = 0; i < k; ++i) ws.s2[i] = sigma[i] * sigma[i];

  ws.coef.resize(p);
  ws.coefOld.resize(p);
  ws.resid.resize(n);
  const double yy = Dot(y, y, n);
  auto updateCoef = [&](double a, double l) -> double {
    const double ratio = l / a;
    std::fill(ws.coef.begin(), ws.coef.end(), 0.0);
    if (tall) {
      // ||y - X V w||^2 = y.y - 2 w.t + sum S^2 w^2 (V^T X^T X V = S^2): O(p) instead of O(n p). Its
      // cancellation costs eps * y.y / rmse relative, so it is used only while rmse >= 1e-4 y.y.
      double wt = 0.0, sw2 = 0.0;
      for (size_t i = 0; i < k; ++i) {
        const double w = ws.t[i] / (ws.s2[i] + ratio);
        Axpy(w, ws.v.data() + i * p, ws.coef.data(), p);
        wt += w * ws.t[i];
        sw2 += ws.s2[i] * w * w;
      }
      const double rmse = yy - 2.0 * wt + sw2;
      if (rmse >= 1e-4 * yy) return rmse;
    } else {
      for (size_t i = 0; i < k; ++i) Axpy(ws.t[i] / (ws.s2[i] + ratio), ws.u.data() + i * p, ws.coef.data(), p);
    }
    std::copy(y, y + n, ws.resid.begin());
    for (size_t f = 0; f < p; ++f) Axpy(-ws.coef[f], X + f * n, ws.resid.data(), n);
    return Dot(ws.resid.data(), ws.resid.data(), n);
  };

  int iter = 0;
  for (; iter < params.maxIter; ++iter) {
    const double rmse = updateCoef(alpha, lambda);
    double gamma = 0.0;
    for (size_t i = 0; i < k; ++i) gamma += (alpha * ws.s2[i]) / (lambda + alpha * ws.s2[i]);
    const double coefSq = Dot(ws.coef.data(), ws.coef.data(), p);
    lambda = (gamma + 2.0 * params.lambda1) / (coefSq + 2.0 * params.lambda2);
    alpha = (dn - gamma + 2.0 * params.alpha1) / (rmse + 2.0 * params.alpha2);
    if (iter != 0) {
      double change = 0.0;
      for (size_t f = 0; f < p; ++f) change += std::fabs(ws.coefOld[f] - ws.coef[f]);
      if (change < params.tol) break;
    }
    std::copy(ws.coef.begin(), ws.coef.end(), ws.coefOld.begin());
  }
  model.nIter = std::min(iter + 1, params.maxIter);
  model.alpha = alpha;
  model.lambda = lambda;
  updateCoef(alpha, lambda);
  model.coef.assign(ws.coef.begin(), ws.coef.end());
  double off = 0.0;
  for (size_t f = 0; f < p; ++f) off += xOffset[f] * model.coef[f];
  model.intercept = yOffset - off;
  return model;
}

}  // namespace linear
}  // namespace hierimpute
