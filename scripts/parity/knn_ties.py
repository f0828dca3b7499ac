#!/usr/bin/python3
"""Explains every cell where hierimpute's `knn` and scikit-learn's KNNImputer disagree.

    /usr/bin/python3 scripts/parity/knn_ties.py INPUT.csv HIERIMPUTE_KNN_OUTPUT.csv [--k 5] [--tol 1e-12]

INPUT.csv is the table both imputed (empty field = missing); the second file is hierimpute's
`impute --method knn` output for it. scikit-learn runs here as a user calls it:
KNNImputer(n_neighbors=k).fit_transform(float64 table) (uniform weights).

For each imputed cell where the two differ (beyond the float32 rounding of the inputs and output), the donors' distances are
recomputed EXACTLY from the CSV's decimal text (rational arithmetic: no rounding at all), with
KNNImputer's nan_euclidean rule: q = p / c * sum of squared differences over the c shared columns.
With q_k the k-th smallest exact distance among the donors (rows observed in the column), the
cell is
  - an exact tie when scikit-learn's value is the mean of the donors strictly closer than q_k plus
    some choice of the donors at exactly q_k (scikit-learn's choice among equals is arbitrary:
    np.argpartition's order on its rounded |x|^2 - 2xy + |y|^2 distances);
  - a near tie (at --tol) when the same holds with "equal" meaning within a relative tol of q_k;
  - unexplained otherwise: a real semantic difference.
hierimpute's value must be a choice among the same tied donors as well (else: unexplained).
Prints one line per differing cell and a summary line. Exit code 1 if some cell is unexplained.
"""
import argparse
import itertools
import sys
from collections import Counter
from fractions import Fraction

import numpy as np
from sklearn.impute import KNNImputer


def read_text(path):
    with open(path) as f:
        lines = f.read().strip().split('\n')
    return [[None if v in ('', 'NA', 'NaN') else Fraction(v) for v in line.split(',')] for line in lines[1:]]


def explains(target_sum, must, tied, values, tol_abs):
    """Some choice of len(...) tied donors such that sum(must) + sum(choice) == target_sum?"""
    need = len(tied[1])
    base = sum(values[i] for i in must)
    counts = Counter(values[i] for i in tied[0])  # distinct values and how many donors hold each
    distinct = sorted(counts)
    for combo in itertools.combinations_with_replacement(distinct, need):
        c = Counter(combo)
        if all(c[v] <= counts[v] for v in c) and abs(base + sum(combo) - target_sum) <= tol_abs:
            return True
    return False


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('input')
    ap.add_argument('ours')
    ap.add_argument('--k', type=int, default=5)
    ap.add_argument('--tol', type=float, default=1e-12, help='relative tolerance of a near tie')
    ap.add_argument('--quiet', action='store_true')
    args = ap.parse_args()

    exact = read_text(args.input)
    x = np.array([[np.nan if v is None else float(v) for v in row] for row in exact])
    ours = np.genfromtxt(args.ours, delimiter=',', skip_header=1, dtype=np.float64)
    sk = KNNImputer(n_neighbors=args.k).fit_transform(x)
    n, p = x.shape
    miss = np.isnan(x)
    scale = np.nanmax(np.abs(x), axis=0)

    def q(a, b):
        s, c = Fraction(0), 0
        for f in range(p):
            if exact[a][f] is not None and exact[b][f] is not None:
                s += (exact[a][f] - exact[b][f]) ** 2
                c += 1
        return None if c == 0 else s * p / c

    total = 0
    kinds = Counter()
    for r in range(n):
        dist = None
        for j in range(p):
            if not miss[r, j]:
                continue
            total += 1
            a, b = ours[r, j], sk[r, j]
            # equal up to rounding: hierimpute reads float32 values (each off by up to 2^-24 of the
            # column's magnitude) and writes a float32 result
            if abs(a - b) <= 2.0**-23 * scale[j] + 2 * float(np.spacing(np.float32(max(abs(a), abs(b))))):
                continue
            if dist is None:
                dist = [q(r, i) for i in range(n)]
            donors = [i for i in range(n) if not miss[i, j] and dist[i] is not None]
            nan_donors = [i for i in range(n) if not miss[i, j] and dist[i] is None]
            k = min(args.k, len(donors) + len(nan_donors))
            kind = 'unexplained'
            if donors and len(donors) >= k:
                donors.sort(key=lambda i: (dist[i], i))
                qk = dist[donors[k - 1]]
                values = {i: Fraction(float(x[i, j])) for i in donors}
                target_sum = Fraction(float(b)) * k
                tol_abs = Fraction(1e-9) * max(1, abs(target_sum))
                ours_sum = Fraction(float(a)) * k
                ours_tol = Fraction(2.0**-22 * scale[j] * k) + Fraction(1e-9) * max(1, abs(ours_sum))
                for label, rel in (('exact tie', Fraction(0)), ('near tie', Fraction(args.tol))):
                    lo, hi = qk * (1 - rel), qk * (1 + rel)
                    must = [i for i in donors if dist[i] < lo]
                    band = [i for i in donors if lo <= dist[i] <= hi]
                    tied = (band, range(k - len(must)))
                    if len(band) > 1 and explains(target_sum, must, tied, values, tol_abs):
                        kind = label
                        # hierimpute's value must be a choice among the same tied donors too
                        if not explains(ours_sum, must, tied, values, ours_tol):
                            kind = 'unexplained (hierimpute)'
                        break
            kinds[kind] += 1
            if not args.quiet:
                print(f'row {r} col {j}: hierimpute {a:.9g}, scikit-learn {b:.9g}: {kind}')
    differ = sum(kinds.values())
    print(f'{args.input}: {differ} of {total} imputed cells differ; exact ties {kinds["exact tie"]}, '
          f'near ties (relative {args.tol:g}) {kinds["near tie"]}, '
          f'unexplained {kinds["unexplained"] + kinds["unexplained (hierimpute)"]}')
    return 1 if kinds['unexplained'] or kinds['unexplained (hierimpute)'] else 0


if __name__ == '__main__':
    sys.exit(main())
