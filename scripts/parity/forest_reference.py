#!/usr/bin/env python3
"""Reference results for iterative_function estimator=random_forest (run with /usr/bin/python3: sklearn 1.2.1).

Reads the tables of test/fixtures/parity/trees/ (scripts/parity/trees_reference.py: float32 values, known
truth, hidden cells) and runs missForest-style MICE:
  IterativeImputer(RandomForestRegressor(n_estimators=N, random_state=s), max_iter=10, random_state=0)
(RandomForestRegressor defaults: bootstrap=True, max_features=1.0, min_samples_leaf=1) for N = 30
(random_state s = 0..4) and N = 100 (s = 0..2), and writes the RMSE on the hidden cells to
test/fixtures/parity/forest/<name>.json. A random forest cannot be bit-identical to sklearn's (its RNG
draws the bootstraps and feature orders), so the tests compare the RMSE, averaged over seeds. Usage:
  /usr/bin/python3 scripts/parity/forest_reference.py [out_dir]
"""
import json
import os
import sys
import time
import warnings

import numpy as np
import sklearn
from sklearn.ensemble import RandomForestRegressor
from sklearn.experimental import enable_iterative_imputer  # noqa: F401
from sklearn.impute import IterativeImputer

HERE = os.path.dirname(os.path.abspath(__file__))
TREES = os.path.join(HERE, "..", "..", "test", "fixtures", "parity", "trees")


def main():
    warnings.filterwarnings("ignore", category=UserWarning)
    warnings.filterwarnings("ignore", message=".*Early stopping criterion.*")
    out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..", "..", "test", "fixtures", "parity", "forest")
    os.makedirs(out_dir, exist_ok=True)
    for name in ["linear", "nonlinear", "scaled"]:
        with open(os.path.join(TREES, f"{name}.json")) as f:
            fx = json.load(f)
        xm = np.array([[np.nan if v is None else v for v in col] for col in fx["data"]], dtype=np.float32).T.copy()
        truth = np.array(fx["truth"], dtype=np.float32).T.astype(np.float64)
        mask = np.isnan(xm)
        doc = {
            "generator": "scripts/parity/forest_reference.py",
            "versions": {"sklearn": sklearn.__version__, "numpy": np.__version__},
            "table": f"test/fixtures/parity/trees/{name}.json",
            "params": "IterativeImputer(RandomForestRegressor(n_estimators=N, random_state=s), max_iter=10, random_state=0)",
            "runs": {},
        }
        for n_est, seeds in [(30, range(5)), (100, range(3))]:
            rmses, iters, secs = [], [], []
            for s in seeds:
                imp = IterativeImputer(RandomForestRegressor(n_estimators=n_est, random_state=s, n_jobs=1), max_iter=10,
                                       random_state=0)
                t0 = time.perf_counter()
                out = imp.fit_transform(xm)
                secs.append(time.perf_counter() - t0)
                rmses.append(float(np.sqrt(np.mean((out[mask] - truth[mask]) ** 2))))
                iters.append(int(imp.n_iter_))
            doc["runs"][str(n_est)] = {"rmse_seeds": rmses, "rmse_mean": float(np.mean(rmses)), "n_iter": iters,
                                       "seconds_median": float(np.median(secs))}
            print(f"{name}: n_estimators={n_est} rmse mean {np.mean(rmses):.4f} seeds {np.round(rmses, 4).tolist()} "
                  f"n_iter {iters} {np.median(secs):.1f}s/run", flush=True)
        path = os.path.join(out_dir, f"{name}.json")
        tmp = path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(doc, f, indent=1)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)


if __name__ == "__main__":
    main()
