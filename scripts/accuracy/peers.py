#!/usr/bin/env python3
"""Impute every WORK/input/<name>.csv with the scikit-learn peers, as a user would call them
(fit_transform on the whole table, float64, defaults unless named):

  sk_iterative        IterativeImputer()                       (BayesianRidge MICE)
  sk_iterative_trees  IterativeImputer(ExtraTreesRegressor(n_estimators=10, random_state=0),
                                       max_iter=10, random_state=0)
  sk_knn              KNNImputer()                             (5 neighbours, nan_euclidean)
  sk_mean             SimpleImputer()                          (column mean)

Writes WORK/peers/<peer>/<name>.csv and WORK/peers/times.json (seconds per peer and table).
Reads only WORK/input/ (never the truth). Run with OMP_NUM_THREADS=1 etc. for one thread.
"""
import argparse
import glob
import json
import os
import time
import warnings

import numpy as np
from sklearn.ensemble import ExtraTreesRegressor
from sklearn.exceptions import ConvergenceWarning
from sklearn.experimental import enable_iterative_imputer  # noqa: F401
from sklearn.impute import IterativeImputer, KNNImputer, SimpleImputer

PEERS = {
    'sk_iterative': lambda: IterativeImputer(),
    'sk_iterative_trees': lambda: IterativeImputer(ExtraTreesRegressor(n_estimators=10, random_state=0),
                                                   max_iter=10, random_state=0),
    'sk_knn': lambda: KNNImputer(),
    'sk_mean': lambda: SimpleImputer(),
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--work', required=True)
    args = ap.parse_args()
    warnings.simplefilter('ignore', ConvergenceWarning)  # IterativeImputer's "max_iter reached"
    times = {}
    for path in sorted(glob.glob(os.path.join(args.work, 'input', '*.csv'))):
        name = os.path.basename(path)[:-4]
        with open(path) as f:
            header = f.readline().rstrip('\n')
        x = np.genfromtxt(path, delimiter=',', skip_header=1, dtype=np.float64, missing_values='', filling_values=np.nan)
        for peer, make in PEERS.items():
            t0 = time.perf_counter()
            y = make().fit_transform(x)
            dt = time.perf_counter() - t0
            assert y.shape == x.shape, f'{peer} dropped columns of {name}'
            os.makedirs(os.path.join(args.work, 'peers', peer), exist_ok=True)
            np.savetxt(os.path.join(args.work, 'peers', peer, f'{name}.csv'), y, delimiter=',',
                       header=header, comments='', fmt='%.17g')
            times.setdefault(peer, {})[name] = dt
    with open(os.path.join(args.work, 'peers', 'times.json'), 'w') as f:
        json.dump(times, f, indent=1)


if __name__ == '__main__':
    main()
