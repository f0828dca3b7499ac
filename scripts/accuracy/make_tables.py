#!/usr/bin/env python3
"""Build the accuracy benchmark's tables: a "real" table with missing cells, and from it the
input table (10 % of the observed cells removed: the TEST cells) plus the truth of those cells.

Layout under WORK (the only folder written):
  input/<name>.csv   what hierimpute and every peer receive: real table minus the TEST cells
  truth/<name>.test.csv   row,col,value of the TEST cells (0-based row/col of the input table)
  truth/<name>.real.csv   the real table (natural missingness, TEST cells still observed); used
                          only for the per-column standard deviation of the score
  tables.json        per table: source, shape, missingness model, missing share, TEST cells

Every bundled table is complete, so each gets two missingness models, 15 % of all cells each:
  MCAR: every cell missing independently with probability 0.15.
  MAR:  one "driver" column (the column most correlated with the others) stays observed; every
        other column j misses a cell with probability sigmoid(a_j + s_j * 2 * z), z the
        standardised driver, s_j = +-1 (seeded), a_j solved so the column's mean probability is
        0.15 * cols / (cols - 1) (so the table's overall share is 15 %).
No row loses every cell (a cell is put back when a row would). TEST cells: per column,
round(0.10 * observed) of its observed cells (at least 2 observed cells are kept per column and
no row loses its last observed cell), drawn with a seeded generator. Same seed -> same files.
"""
import argparse
import json
import os
import subprocess
import sys

import numpy as np
from sklearn import datasets

MISSING = 0.15
TEST_SHARE = 0.10


def bundled(name):
    """(matrix, column names) of a bundled scikit-learn data set (features only)."""
    if name == 'diabetes':
        d = datasets.load_diabetes()  # already centred/scaled columns; 442 x 10
        return d.data, list(d.feature_names)
    if name == 'wine':
        d = datasets.load_wine()  # 178 x 13, very different column scales
        return d.data, [n.replace('/', '_') for n in d.feature_names]
    if name == 'breast_cancer10':
        # 569 x 10: the ten "mean ..." columns (strongly correlated; the 20 "error"/"worst" columns
        # are left out to keep the sweep's cost down: XGBoost's cost grows with columns squared).
        d = datasets.load_breast_cancer()
        return d.data[:, :10], [n.replace(' ', '_') for n in d.feature_names[:10]]
    if name == 'iris':
        d = datasets.load_iris()  # 150 x 4: few columns, each row's missing share is coarse
        return d.data, ['sepal_length', 'sepal_width', 'petal_length', 'petal_width']
    if name == 'digits12':
        # 1797 x 12: the 12 pixels with the largest variance (many of the 64 are nearly constant;
        # 12 columns keep the sweep's cost down).
        d = datasets.load_digits()
        idx = np.sort(np.argsort(-d.data.var(axis=0), kind='stable')[:12])
        return d.data[:, idx], [f'px{i}' for i in idx]
    raise ValueError(name)


def generated(rows, cols, factors, seed, root):
    """A complete table from scripts/gen-correlated.mjs (missing 0), read back."""
    tmp = os.path.join(root, f'.gen_{rows}x{cols}_{seed}.csv')
    subprocess.run(['node', os.path.join(os.path.dirname(__file__), '..', 'gen-correlated.mjs'),
                    '--rows', str(rows), '--cols', str(cols), '--factors', str(factors),
                    '--missing', '0', '--seed', str(seed), '--out', tmp],
                   check=True, stderr=subprocess.DEVNULL)
    with open(tmp) as f:
        names = f.readline().strip().split(',')
    x = np.loadtxt(tmp, delimiter=',', skiprows=1, dtype=np.float64)
    os.unlink(tmp)
    return x, names


def keep_rows_nonempty(miss, rng):
    """Put back one random cell of every row that lost all of its cells."""
    for i in np.where(miss.all(axis=1))[0]:
        miss[i, rng.integers(miss.shape[1])] = False
    return miss


def mcar(x, rng):
    miss = rng.random(x.shape) < MISSING
    return keep_rows_nonempty(miss, rng)


def mar(x, rng):
    n, p = x.shape
    c = np.abs(np.corrcoef(x, rowvar=False))
    np.fill_diagonal(c, 0)
    driver = int(np.argmax(np.nan_to_num(c).sum(axis=0)))
    z = (x[:, driver] - x[:, driver].mean()) / (x[:, driver].std() or 1.0)
    target = MISSING * p / (p - 1)
    miss = np.zeros_like(x, dtype=bool)
    for j in range(p):
        if j == driver:
            continue
        s = 1.0 if rng.random() < 0.5 else -1.0
        lo, hi = -20.0, 20.0  # bisection on the intercept: mean probability = target
        for _ in range(60):
            a = (lo + hi) / 2
            if (1 / (1 + np.exp(-(a + 2 * s * z)))).mean() < target:
                lo = a
            else:
                hi = a
        prob = 1 / (1 + np.exp(-(a + 2 * s * z)))
        miss[:, j] = rng.random(n) < prob
    return keep_rows_nonempty(miss, rng), driver


def test_cells(miss, rng):
    """Per column, hide round(TEST_SHARE * observed) observed cells (keep >= 2 per column and
    >= 1 per row). Returns a boolean mask of the TEST cells."""
    n, p = miss.shape
    test = np.zeros_like(miss)
    left = (~miss).sum(axis=1)
    for j in range(p):
        obs = np.where(~miss[:, j])[0]
        h = min(int(round(TEST_SHARE * len(obs))), len(obs) - 2)
        taken = 0
        for i in rng.permutation(obs):
            if taken >= h:
                break
            if left[i] <= 1:
                continue
            test[i, j] = True
            left[i] -= 1
            taken += 1
    return test


def fmt(v):
    return '' if np.isnan(v) else repr(float(v))


def write_csv(path, names, x):
    tmp = path + '.tmp'
    with open(tmp, 'w') as f:
        f.write(','.join(names) + '\n')
        for row in x:
            f.write(','.join(fmt(v) for v in row) + '\n')
    os.replace(tmp, path)


# The suite: (name, source). Kept small enough that the whole harness (64-sequence sweep per table,
# 4 peers, 5 plain methods) stays well under 15 minutes on 2 shared cores.
SUITE = [
    ('diabetes', 'bundled'),
    ('wine', 'bundled'),
    ('breast_cancer10', 'bundled'),
    ('iris', 'bundled'),
    ('digits12', 'bundled'),
    ('gen1000x12', ('gen', 1000, 12, 3, 7)),
]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--work', required=True)
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--only', default='', help='comma-separated base names (default: all)')
    args = ap.parse_args()
    only = set(filter(None, args.only.split(',')))
    os.makedirs(os.path.join(args.work, 'input'), exist_ok=True)
    os.makedirs(os.path.join(args.work, 'truth'), exist_ok=True)
    meta = {}
    for k, (base, src) in enumerate(SUITE):
        if only and base not in only:
            continue
        if src == 'bundled':
            x, names = bundled(base)
            source = f'sklearn.datasets ({base})'
        else:
            _, rows, cols, factors, gseed = src
            x, names = generated(rows, cols, factors, gseed, args.work)
            source = f'scripts/gen-correlated.mjs --rows {rows} --cols {cols} --factors {factors} --seed {gseed}'
        for m, model in enumerate(('mcar', 'mar')):
            rng = np.random.default_rng([args.seed, k, m])
            if model == 'mcar':
                miss, driver = mcar(x, rng), None
            else:
                miss, driver = mar(x, rng)
            real = np.where(miss, np.nan, x)
            test = test_cells(miss, rng)
            inp = np.where(test, np.nan, real)
            name = f'{base}_{model}'
            write_csv(os.path.join(args.work, 'input', f'{name}.csv'), names, inp)
            write_csv(os.path.join(args.work, 'truth', f'{name}.real.csv'), names, real)
            rr, cc = np.where(test)
            with open(os.path.join(args.work, 'truth', f'{name}.test.csv'), 'w') as f:
                f.write('row,col,value\n')
                for i, j in zip(rr, cc):
                    f.write(f'{i},{j},{float(x[i, j])!r}\n')
            meta[name] = {
                'source': source, 'rows': int(x.shape[0]), 'cols': int(x.shape[1]), 'missingness': model,
                'mar_driver': None if driver is None else names[driver],
                'missing_share_real': float(miss.mean()), 'missing_share_input': float(np.isnan(inp).mean()),
                'test_cells': int(test.sum()),
            }
            print(f'  {name}: {x.shape[0]}x{x.shape[1]}, real missing {miss.mean():.3f}, '
                  f'input missing {np.isnan(inp).mean():.3f}, {int(test.sum())} TEST cells', file=sys.stderr)
    with open(os.path.join(args.work, 'tables.json'), 'w') as f:
        json.dump(meta, f, indent=1)


if __name__ == '__main__':
    main()
