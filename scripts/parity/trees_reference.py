#!/usr/bin/env python3
"""Reference results for the tree imputers (run with /usr/bin/python3: sklearn 1.2.1, xgboost 1.7.4).

Generates seeded synthetic tables with known truth, hides cells completely at random, and runs
  * sklearn IterativeImputer(ExtraTreesRegressor(n_estimators=10, random_state=0), max_iter=10,
    random_state=0)   -> RMSE on the hidden cells (rmse_seeds: ExtraTrees random_state 0..4)
  * the per-column XGBoost imputer (XGBRegressor(n_estimators=100, max_depth=6, learning_rate=0.3,
    tree_method='hist', random_state=0, n_jobs=1) fitted on the rows where the column is observed,
    the other columns' ORIGINAL values as features) -> its predictions and RMSE on the hidden cells
and writes one JSON file per table to test/fixtures/parity/trees/. All data are float32 values, so
both implementations see exactly the same numbers. Usage:
  /usr/bin/python3 scripts/parity/trees_reference.py [out_dir]
"""
import json
import os
import sys
import time
import warnings

import numpy as np
import sklearn
import xgboost
from sklearn.ensemble import ExtraTreesRegressor
from sklearn.experimental import enable_iterative_imputer  # noqa: F401
from sklearn.impute import IterativeImputer
from xgboost import XGBRegressor


def make_table(kind, n, seed):
    rng = np.random.default_rng(seed)
    if kind == "linear":
        # 8 columns driven by 3 latent factors plus noise.
        z = rng.normal(size=(n, 3))
        w = rng.normal(size=(3, 8))
        x = z @ w + 0.3 * rng.normal(size=(n, 8))
    elif kind == "nonlinear":
        z = rng.normal(size=(n, 3))
        a, b, c = z[:, 0], z[:, 1], z[:, 2]
        x = np.column_stack([
            a, b, c,
            np.sin(2 * a) + 0.1 * rng.normal(size=n),
            a * b + 0.1 * rng.normal(size=n),
            b ** 2 - 1 + 0.1 * rng.normal(size=n),
            np.abs(c) + 0.5 * a + 0.1 * rng.normal(size=n),
        ])
    elif kind == "scaled":
        # Correlated columns on very different scales (counts, money, ratios).
        z = rng.normal(size=(n, 2))
        x = np.column_stack([
            1000 + 200 * z[:, 0] + 20 * rng.normal(size=n),
            50 + 10 * z[:, 1] + rng.normal(size=n),
            0.01 * (z[:, 0] + z[:, 1]) + 0.001 * rng.normal(size=n),
            np.exp(0.5 * z[:, 0]) + 0.05 * rng.normal(size=n),
            3 * z[:, 1] - 2 * z[:, 0] + 0.5 * rng.normal(size=n),
        ])
    else:
        raise ValueError(kind)
    return x.astype(np.float32)


def hide(x, frac, seed):
    rng = np.random.default_rng(seed + 1000)
    mask = rng.random(x.shape) < frac
    # keep at least one observed cell per row and per column
    for i in np.flatnonzero(mask.all(axis=1)):
        mask[i, rng.integers(x.shape[1])] = False
    for j in np.flatnonzero(mask.all(axis=0)):
        mask[rng.integers(x.shape[0]), j] = False
    xm = x.copy()
    xm[mask] = np.nan
    return xm, mask


def rmse(a, b):
    return float(np.sqrt(np.mean((np.asarray(a, np.float64) - np.asarray(b, np.float64)) ** 2)))


def mice_ref(xm, mask, truth, random_state):
    # With sample_posterior=False and imputation_order='ascending' the imputer's own random_state
    # draws nothing; the trees' randomness is the estimator's random_state, so vary that one.
    imp = IterativeImputer(estimator=ExtraTreesRegressor(n_estimators=10, random_state=random_state), max_iter=10,
                           random_state=0)
    t0 = time.perf_counter()
    out = imp.fit_transform(xm)
    return rmse(out[mask], truth[mask]), int(imp.n_iter_), time.perf_counter() - t0


def xgb_ref(xm):
    out = xm.copy()
    t0 = time.perf_counter()
    for j in range(xm.shape[1]):
        miss = np.isnan(xm[:, j])
        if not miss.any():
            continue
        others = [k for k in range(xm.shape[1]) if k != j]
        model = XGBRegressor(n_estimators=100, max_depth=6, learning_rate=0.3, tree_method="hist",
                             random_state=0, n_jobs=1)
        model.fit(xm[~miss][:, others], xm[~miss, j])
        out[miss, j] = model.predict(xm[miss][:, others])
    return out, time.perf_counter() - t0


def main():
    warnings.filterwarnings("ignore", category=UserWarning)
    warnings.filterwarnings("ignore", message=".*Early stopping criterion.*")
    out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "..", "test",
                                                                     "fixtures", "parity", "trees")
    os.makedirs(out_dir, exist_ok=True)
    tables = [("linear", 800, 11, 0.20), ("nonlinear", 800, 12, 0.20), ("scaled", 600, 13, 0.15)]
    for kind, n, seed, frac in tables:
        truth = make_table(kind, n, seed)
        xm, mask = hide(truth, frac, seed)
        r0, n_iter, secs = mice_ref(xm, mask, truth, 0)
        seeds = [r0] + [mice_ref(xm, mask, truth, s)[0] for s in range(1, 5)]
        xo, xsecs = xgb_ref(xm)
        names = [f"{kind[0]}{j}" for j in range(truth.shape[1])]
        doc = {
            "generator": "scripts/parity/trees_reference.py",
            "versions": {"sklearn": sklearn.__version__, "xgboost": xgboost.__version__, "numpy": np.__version__},
            "name": kind, "nRows": n, "names": names, "hiddenFraction": frac,
            # column-major; null = missing
            "data": [[None if np.isnan(v) else float(v) for v in xm[:, j]] for j in range(xm.shape[1])],
            "truth": [[float(v) for v in truth[:, j]] for j in range(truth.shape[1])],
            "mice_extratrees": {
                "params": "IterativeImputer(ExtraTreesRegressor(n_estimators=10, random_state=0), max_iter=10, random_state=0)",
                "rmse": r0, "rmse_seeds": seeds, "rmse_seeds_mean": float(np.mean(seeds)), "n_iter": n_iter,
                "seconds": secs,
            },
            "xgboost": {
                "params": "XGBRegressor(n_estimators=100, max_depth=6, learning_rate=0.3, tree_method='hist', random_state=0, n_jobs=1)",
                "rmse": rmse(xo[mask], truth[mask]),
                # imputed value of every hidden cell, column-major order (column 0's hidden rows first)
                "imputed": [float(xo[i, j]) for j in range(xm.shape[1]) for i in np.flatnonzero(mask[:, j])],
                "seconds": xsecs,
            },
        }
        path = os.path.join(out_dir, f"{kind}.json")
        tmp = path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(doc, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        print(f"{kind}: n={n} d={truth.shape[1]} hidden={int(mask.sum())} mice rmse={r0:.4f} "
              f"(seeds mean {np.mean(seeds):.4f}, n_iter={n_iter}, {secs:.1f}s) xgb rmse={doc['xgboost']['rmse']:.4f}")


if __name__ == "__main__":
    main()
