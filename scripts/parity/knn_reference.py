#!/usr/bin/python3
"""Generates the KNN / mean / median parity fixtures from scikit-learn (run with /usr/bin/python3).

    /usr/bin/python3 scripts/parity/knn_reference.py [out_dir]   (default test/fixtures/parity/knn)

Writes, per case, `<case>.fit.csv`, `<case>.target.csv` (inputs; NaN = empty field) and
`<case>.knn.csv` = KNNImputer(n_neighbors, weights).fit(fit).transform(target), plus
`<case>.mean.csv` / `<case>.median.csv` = SimpleImputer(strategy).fit(fit).transform(target),
and `cases.json` listing every case with its options and the scikit-learn version.
Values are multiples of 1/256 of moderate size (iris: its values times 10, integers), so that the
float32 tables hierimpute reads and the float64 tables scikit-learn reads hold exactly the same
numbers. Every fixture is seeded; a
rerun writes identical files. The tests (test/knn.test.js) need no Python.
"""
import json
import os
import sys

import numpy as np
import sklearn
from sklearn.datasets import load_iris
from sklearn.impute import KNNImputer, SimpleImputer


def dyadic(x):
    return np.round(x * 256.0) / 256.0


def make_table(rng, n, p, missing, scales=None):
    x = rng.normal(size=(n, p)) * 4.0
    # a little structure so that neighbours mean something
    x[:, 1:] += 0.7 * x[:, :1]
    if scales is not None:
        x *= np.asarray(scales)[None, :]
    x = dyadic(x)
    mask = rng.random((n, p)) < missing
    x[mask] = np.nan
    return x


def write_csv(path, x, names):
    with open(path, "w") as f:
        f.write(",".join(names) + "\n")
        for row in x:
            f.write(",".join("" if np.isnan(v) else repr(float(v)) for v in row) + "\n")


def cases():
    rng = np.random.default_rng(20260101)
    out = []

    a = make_table(rng, 80, 5, 0.15)
    out.append(dict(name="basic_k5_uniform", fit=a, target=a, n_neighbors=5, weights="uniform"))
    out.append(dict(name="basic_k3_distance", fit=a, target=a, n_neighbors=3, weights="distance"))
    out.append(dict(name="basic_k1", fit=a, target=a, n_neighbors=1, weights="uniform"))

    # fit(A).transform(B) with different row sets
    a2 = make_table(rng, 90, 6, 0.12)
    b2 = make_table(rng, 40, 6, 0.25)
    out.append(dict(name="split_k5_uniform", fit=a2, target=b2, n_neighbors=5, weights="uniform"))
    out.append(dict(name="split_k3_distance", fit=a2, target=b2, n_neighbors=3, weights="distance"))

    # a column mostly missing and rows with few observed cells: NaN distances occur, including
    # receivers whose every potential donor is at NaN distance (column-mean fallback) and cells
    # that need NaN-distance donors to reach k.
    c = make_table(rng, 70, 6, 0.30)
    c[rng.random(70) < 0.85, 5] = np.nan
    c[5, 5] = 1.5  # keep the sparse column non-empty
    for r in range(0, 70, 7):  # rows with a single observed cell
        keep = rng.integers(0, 6)
        c[r, [j for j in range(6) if j != keep]] = np.nan
    c[3, :] = np.nan  # a row with no observed cell
    out.append(dict(name="sparse_k5_uniform", fit=c, target=c, n_neighbors=5, weights="uniform"))
    out.append(dict(name="sparse_k3_distance", fit=c, target=c, n_neighbors=3, weights="distance"))
    out.append(dict(name="sparse_k1", fit=c, target=c, n_neighbors=1, weights="uniform"))

    # columns on different scales (no scaling is applied, as in scikit-learn)
    d = make_table(rng, 120, 8, 0.10, scales=[1, 100, 0.01, 10, 1, 1000, 0.1, 1])
    out.append(dict(name="scales_k5_uniform", fit=d, target=d, n_neighbors=5, weights="uniform"))
    out.append(dict(name="scales_k5_distance", fit=d, target=d, n_neighbors=5, weights="distance"))

    # exact duplicates of receivers among the donors: zero distances under weights=distance
    e = make_table(rng, 50, 4, 0.0)
    e[25:35] = e[0:10]
    e[rng.random((50, 4)) < 0.2] = np.nan
    out.append(dict(name="duplicates_k3_distance", fit=e, target=e, n_neighbors=3, weights="distance"))

    # iris x 10 (integers, so every distance is exact on both sides) with 15 % of the cells missing
    # completely at random: many rows repeat values, so the k-th and (k+1)-th donors are often at
    # exactly the same distance and scikit-learn picks among them in np.argpartition's order.
    f = load_iris().data * 10.0
    f[rng.random(f.shape) < 0.15] = np.nan
    out.append(dict(name="iris10_k5_uniform", fit=f, target=f, n_neighbors=5, weights="uniform"))
    out.append(dict(name="iris10_k5_distance", fit=f, target=f, n_neighbors=5, weights="distance"))
    return out


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "..", "test", "fixtures", "parity", "knn")
    os.makedirs(out_dir, exist_ok=True)
    manifest = {"sklearn": sklearn.__version__, "numpy": np.__version__, "cases": []}
    written = set()
    for case in cases():
        name, fit, target = case["name"], case["fit"], case["target"]
        p = fit.shape[1]
        names = [f"c{j}" for j in range(p)]
        assert not np.isnan(fit).all(axis=0).any(), f"{name}: an empty fit column would be dropped"
        base = name.rsplit("_k", 1)[0]
        fit_file, target_file = f"{base}.fit.csv", f"{base}.target.csv"
        if base not in written:
            write_csv(os.path.join(out_dir, fit_file), fit, names)
            write_csv(os.path.join(out_dir, target_file), target, names)
            for strategy in ("mean", "median"):
                y = SimpleImputer(strategy=strategy).fit(fit).transform(target)
                write_csv(os.path.join(out_dir, f"{base}.{strategy}.csv"), y, names)
            written.add(base)
        imp = KNNImputer(n_neighbors=case["n_neighbors"], weights=case["weights"])
        y = imp.fit(fit).transform(target)
        assert y.shape == target.shape
        write_csv(os.path.join(out_dir, f"{name}.knn.csv"), y, names)
        manifest["cases"].append({
            "name": name, "fit": fit_file, "target": target_file, "expected": f"{name}.knn.csv",
            "mean": f"{base}.mean.csv", "median": f"{base}.median.csv",
            "n_neighbors": case["n_neighbors"], "weights": case["weights"],
            "sameRows": fit is target,
            "missingCells": int(np.isnan(target).sum()),
        })
    with open(os.path.join(out_dir, "cases.json"), "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")
    print(f"wrote {len(manifest['cases'])} cases to {out_dir}")


if __name__ == "__main__":
    main()
