#!/usr/bin/env python3
"""Reference results for iterative_linear (run with /usr/bin/python3: sklearn 1.2.1).

Generates seeded float32 tables with known truth, hides cells, and runs scikit-learn's default
IterativeImputer() (BayesianRidge, max_iter=10, tol=1e-3, mean fill, ascending order) on the float64
values of the float32 table (np.float64(x32): the same numbers). The float64 copy matters: given a
float32 array, sklearn keeps float32 and runs BayesianRidge (SVD, evidence updates) in single
precision; iterative_linear computes in float64. The fixture records the float32-input run too
(`sklearn_float32`), as a yardstick for the size of rounding effects.

Tables:
  gauss         correlated Gaussian (3 latent factors + noise), MCAR holes
  gauss_easy    strongly correlated, few holes: sklearn's tolerance stops it before max_iter
  gauss_wide    more columns, more holes
  scaled        correlated columns on very different scales
  collinear     5 near-collinear columns (a shared factor + 1e-3 noise) and 3 others, MCAR holes
  collinear_f32 many near-collinear columns, columns with many holes: sklearn on float32 input
                diverges (nRMSE >> 10), on float64 it does not
  glitch        near-collinear columns c_k = z + 0.01 u_k and columns tracking u_k, plus a few rows
                where the near-collinear columns disagree and the tracking column is missing: sklearn's
                default (float64) extrapolates those cells to ~100x the column's range (nRMSE > 10).
                Also recorded: IterativeImputer(min_value=col_min, max_value=col_max) with the observed
                per-column range, which is what iterative_linear's divergence guard (divergence=clip)
                computes on such a table.
Also fits BayesianRidge() alone on a few small designs (tall, wide n < p, square, near-collinear, one
sample, a constant column, a large offset) and writes coef_, intercept_, alpha_, lambda_, n_iter_ to
bayesian_ridge.json. Writes test/fixtures/parity/linear/<name>.json. Usage:
  /usr/bin/python3 scripts/parity/linear_reference.py [out_dir]
"""
import json
import os
import sys
import time
import warnings

import numpy as np
import sklearn
from sklearn.experimental import enable_iterative_imputer  # noqa: F401
from sklearn.impute import IterativeImputer
from sklearn.linear_model import BayesianRidge


def hide_mcar(x, frac, seed):
    rng = np.random.default_rng(seed + 1000)
    mask = rng.random(x.shape) < frac
    # keep at least one observed cell per row and per column
    for i in np.flatnonzero(mask.all(axis=1)):
        mask[i, rng.integers(x.shape[1])] = False
    for j in np.flatnonzero(mask.all(axis=0)):
        mask[rng.integers(x.shape[0]), j] = False
    return mask


def make(kind, seed):
    """(truth float32 table, hidden-cell mask, observed table with NaN)"""
    rng = np.random.default_rng(seed)
    if kind == "gauss":
        n, d = 500, 6
        z = rng.normal(size=(n, 3))
        x = z @ rng.normal(size=(3, d)) + 0.4 * rng.normal(size=(n, d))
        mask = hide_mcar(x, 0.20, seed)
    elif kind == "gauss_easy":
        n, d = 500, 6
        z = rng.normal(size=(n, 2))
        x = z @ rng.normal(size=(2, d)) + 0.05 * rng.normal(size=(n, d))
        mask = hide_mcar(x, 0.05, seed)
    elif kind == "gauss_wide":
        n, d = 500, 12
        z = rng.normal(size=(n, 4))
        x = 2.0 + z @ rng.normal(size=(4, d)) + 0.5 * rng.normal(size=(n, d))
        mask = hide_mcar(x, 0.30, seed)
    elif kind == "scaled":
        n = 400
        z = rng.normal(size=(n, 2))
        x = np.column_stack([
            1000 + 200 * z[:, 0] + 20 * rng.normal(size=n),
            50 + 10 * z[:, 1] + rng.normal(size=n),
            0.01 * (z[:, 0] + z[:, 1]) + 0.001 * rng.normal(size=n),
            np.exp(0.5 * z[:, 0]) + 0.05 * rng.normal(size=n),
            3 * z[:, 1] - 2 * z[:, 0] + 0.5 * rng.normal(size=n),
        ])
        mask = hide_mcar(x, 0.15, seed)
    elif kind == "collinear":
        n = 400
        z = rng.normal(size=(n, 1))
        others = rng.normal(size=(n, 3))
        x = np.hstack([z + 1e-3 * rng.normal(size=(n, 5)), others + 0.5 * z])
        mask = hide_mcar(x, 0.20, seed)
    elif kind == "collinear_f32":
        n, d, r = 240, 24, 3
        z = rng.normal(size=(n, r))
        x = z @ rng.normal(size=(r, d)) + 1.2e-5 * rng.normal(size=(n, d))
        col_frac = rng.uniform(0.0, 0.97, size=d) ** 1.5
        mask = rng.random((n, d)) < col_frac[None, :]
        for i in np.flatnonzero(mask.all(axis=1)):
            mask[i, rng.integers(d)] = False
        for j in np.flatnonzero(mask.all(axis=0)):
            mask[rng.integers(n), j] = False
    elif kind == "glitch":
        n, k = 300, 3
        z = rng.normal(size=(n, 1))
        u = rng.normal(size=(n, k))
        x = np.hstack([z, z + 0.01 * u, u + 1e-3 * rng.normal(size=(n, k))])
        mask = hide_mcar(x, 0.10, seed)
        # glitch rows: c_1 is off by 3 (the c's observed), u_1 is missing
        for i in rng.choice(n, 4, replace=False):
            x[i, 1] += 3.0
            mask[i, 1:1 + k] = False
            mask[i, 1 + k] = True
    else:
        raise ValueError(kind)
    x = x.astype(np.float32)
    xm = x.copy()
    xm[mask] = np.nan
    return x, mask, xm


def nrmse(out, truth, mask):
    """mean over columns with hidden cells of RMSE / sd(column truth)"""
    sd = truth.astype(np.float64).std(axis=0)
    vals = []
    for j in range(truth.shape[1]):
        m = mask[:, j]
        if m.any():
            vals.append(np.sqrt(np.mean((out[m, j] - truth[m, j].astype(np.float64)) ** 2)) / sd[j])
    return float(np.mean(vals))


def rmse(out, truth, mask):
    return float(np.sqrt(np.mean((np.asarray(out, np.float64)[mask] - truth.astype(np.float64)[mask]) ** 2)))


def hidden_values(out, mask):
    """imputed value of every hidden cell, column-major order (column 0's hidden rows first)"""
    return [float(out[i, j]) for j in range(mask.shape[1]) for i in np.flatnonzero(mask[:, j])]


def f32(v):
    return float(str(np.float32(v)))  # shortest text that reads back as the same float32


def run(imp, xm):
    t0 = time.perf_counter()
    out = imp.fit_transform(xm)
    return np.asarray(out, np.float64), int(imp.n_iter_), time.perf_counter() - t0


def bayesian_ridge_cases():
    rng = np.random.default_rng(40)
    cases = []

    def add(name, X, y):
        m = BayesianRidge().fit(X, y)
        cases.append({"name": name, "X": X.T.tolist(), "y": y.tolist(), "coef": m.coef_.tolist(),
                      "intercept": float(m.intercept_), "alpha": float(m.alpha_), "lambda": float(m.lambda_),
                      "n_iter": int(m.n_iter_)})

    X = rng.normal(size=(100, 6))
    add("tall", X, X @ rng.normal(size=6) + 0.3 * rng.normal(size=100) + 5)
    add("wide", rng.normal(size=(5, 8)), rng.normal(size=5))
    add("square", rng.normal(size=(8, 8)), rng.normal(size=8))
    z = rng.normal(size=(120, 1))
    X = np.hstack([z + 1e-4 * rng.normal(size=(120, 5)), rng.normal(size=(120, 2))])
    add("collinear", X, 2 * z[:, 0] + X[:, 5] + 0.01 * rng.normal(size=120))
    add("one_sample", rng.normal(size=(1, 3)), np.array([2.0]))
    X = np.hstack([rng.normal(size=(50, 2)), np.full((50, 1), 3.0)])
    add("constant_column", X, X[:, 0] + rng.normal(size=50))
    X = 1e4 + rng.normal(size=(80, 4))
    add("offset", X, X @ np.array([1.0, -2.0, 0.5, 0.0]) + 0.1 * rng.normal(size=80))
    return cases


def main():
    warnings.filterwarnings("ignore", category=UserWarning)
    warnings.filterwarnings("ignore", message=".*Early stopping criterion.*")
    warnings.filterwarnings("ignore", category=RuntimeWarning)
    out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "..", "test",
                                                                     "fixtures", "parity", "linear")
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, "bayesian_ridge.json")
    with open(path + ".tmp", "w") as f:
        json.dump({"generator": "scripts/parity/linear_reference.py", "versions": {"sklearn": sklearn.__version__},
                   "params": "BayesianRidge().fit(X, y); X column-major", "cases": bayesian_ridge_cases()}, f)
    os.replace(path + ".tmp", path)
    tables = [("gauss", 31), ("gauss_easy", 37), ("gauss_wide", 32), ("scaled", 33), ("collinear", 34), ("collinear_f32", 38), ("glitch", 36)]
    for kind, seed in tables:
        truth, mask, xm = make(kind, seed)
        x64 = xm.astype(np.float64)
        out, n_iter, secs = run(IterativeImputer(), x64)
        out32, n_iter32, _ = run(IterativeImputer(), xm)
        doc = {
            "generator": "scripts/parity/linear_reference.py",
            "versions": {"sklearn": sklearn.__version__, "numpy": np.__version__},
            "name": kind, "seed": seed, "nRows": int(truth.shape[0]), "names": [f"{kind[0]}{j}" for j in range(truth.shape[1])],
            # column-major; null = missing
            "data": [[None if np.isnan(v) else f32(v) for v in xm[:, j]] for j in range(xm.shape[1])],
            "truth": [[f32(v) for v in truth[:, j]] for j in range(truth.shape[1])],
            "sklearn": {
                "params": "IterativeImputer() on np.float64(table)",
                "n_iter": n_iter, "rmse": rmse(out, truth, mask), "nrmse": nrmse(out, truth, mask),
                "max_abs_imputed": float(np.abs(out[mask]).max()), "imputed": hidden_values(out, mask), "seconds": secs,
            },
            "sklearn_float32": {
                "params": "IterativeImputer() on the float32 table (BayesianRidge in single precision)",
                "n_iter": n_iter32,
                "rmse": rmse(out32, truth, mask) if np.isfinite(out32).all() else None,
                "nrmse": nrmse(out32, truth, mask) if np.isfinite(out32).all() else None,
                "max_abs_diff_vs_float64": float(np.abs(out32[mask] - out[mask]).max()) if np.isfinite(out32).all() else None,
            },
        }
        if kind == "glitch":
            lo, hi = np.nanmin(x64, axis=0), np.nanmax(x64, axis=0)
            outc, n_iterc, _ = run(IterativeImputer(min_value=lo, max_value=hi), x64)
            doc["sklearn_clipped"] = {
                "params": "IterativeImputer(min_value=observed column min, max_value=observed column max) on np.float64(table)",
                "n_iter": n_iterc, "rmse": rmse(outc, truth, mask), "nrmse": nrmse(outc, truth, mask),
                "imputed": hidden_values(outc, mask),
            }
        path = os.path.join(out_dir, f"{kind}.json")
        tmp = path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(doc, f, separators=(",", ":"))
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        s32 = doc["sklearn_float32"]
        print(f"{kind}: n={truth.shape[0]} d={truth.shape[1]} hidden={int(mask.sum())} sklearn float64: nRMSE={doc['sklearn']['nrmse']:.4g} "
              f"rmse={doc['sklearn']['rmse']:.4g} n_iter={n_iter} ({secs:.2f}s); float32 input: nRMSE={s32['nrmse']} "
              f"n_iter={n_iter32} max|diff|={s32['max_abs_diff_vs_float64']}"
              + (f"; clipped: nRMSE={doc['sklearn_clipped']['nrmse']:.4g}" if kind == "glitch" else ""))


if __name__ == "__main__":
    main()
