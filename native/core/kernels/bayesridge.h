// Bayesian ridge regression with scikit-learn 1.2's BayesianRidge.fit semantics (fit_intercept=True,
// no sample weights, compute_score=False), in float64:
//   - X and y are centred by their column means (the intercept is fitted through the centring);
//   - the singular values S and right singular vectors V of the centred X are computed once, for a
//     tall X (n > p) from a p x p factor R with R^T R = X^T X, by one-sided Jacobi SVD of R. R comes
//     from the Cholesky factor of the Gram matrix X^T X when X is well conditioned (cond(X) <= 1e3:
//     the squared condition number then costs under 1e-8 relative), else from Householder QR of X
//     (the two stages of LAPACK's gesdd on a tall matrix, with its accuracy for small singular values);
//   - alpha (noise precision) starts at 1 / (var(y) + eps), lambda (weight precision) at 1; each
//     evidence iteration computes coef = V diag(1 / (S^2 + lambda/alpha)) V^T X^T y and
//     rmse = ||y - X coef||^2, then MacKay's updates
//       gamma  = sum(alpha S^2 / (lambda + alpha S^2))
//       lambda = (gamma + 2 lambda_1) / (||coef||^2 + 2 lambda_2)
//       alpha  = (n - gamma + 2 alpha_1) / (rmse + 2 alpha_2)
//     (rmse from y.y - 2 w.t + sum S^2 w^2 in the V basis while that cannot cancel badly, else directly)
//     and stops after max_iter iterations or when sum|coef_old - coef| < tol (checked from the second
//     iteration on, after the update); the returned coef is recomputed with the final alpha, lambda;
//   - n <= p (no more samples than features): sklearn's U-form coef = X^T U diag(1/(S^2 + l/a)) U^T y,
//     computed as sum_i (X^T u_i)(u_i . y) / (S_i^2 + l/a) from a Jacobi SVD of X^T.
#pragma once
#include <cstddef>
#include <vector>

namespace hierimpute {
namespace linear {

struct BayesianRidgeParams {
  int maxIter = 300;  // sklearn 1.2 n_iter
  double tol = 1e-3;
  double alpha1 = 1e-6, alpha2 = 1e-6, lambda1 = 1e-6, lambda2 = 1e-6;
};

struct BayesianRidgeModel {
  std::vector<double> coef;  // one per feature
  double intercept = 0.0;
  double alpha = 0.0, lambda = 0.0;
  int nIter = 0;  // evidence iterations run (sklearn n_iter_)
};

/** Reusable buffers, so that a MICE run allocates them once. */
struct BayesianRidgeWorkspace {
  std::vector<double> r, tau, xty, v, t, s2, coef, coefOld, resid, u;
};

/**
 * Fits on the column-major n x p matrix X (X[f * n + i]) and y (length n). Both are centred in
 * place (X becomes X - mean, y becomes y - mean). Every value must be finite (std::invalid_argument
 * otherwise). n >= 1; p = 0 fits the intercept alone.
 */
BayesianRidgeModel FitBayesianRidge(double* X, size_t n, size_t p, double* y, const BayesianRidgeParams& params,
                                    BayesianRidgeWorkspace& ws);

/**
 * Singular values (descending) and right singular vectors of the column-major m x k matrix A (m >= k),
 * by one-sided Jacobi rotations. A is overwritten by A V (columns sigma_i u_i); V is k x k column-major.
 * Exposed for the tests.
 */
void JacobiSvd(double* A, size_t m, size_t k, std::vector<double>& sigma, std::vector<double>& V);

}  // namespace linear
}  // namespace hierimpute
