#!/usr/bin/env python3
"""Score every imputed table of an accuracy run on its TEST cells and write the summary.

nRMSE of one imputed table = mean over the columns j that hold TEST cells (and whose sd_j > 0) of
    sqrt( sum over TEST cells of j of (imputed - true)^2 / TEST cells of j ) / sd_j,
sd_j = population standard deviation (ddof 0) of column j's observed values in the REAL table
(the input plus its TEST cells). The same formula hierimpute uses for its own holdout, applied to
cells hierimpute never saw. 1.0 is roughly what the column mean scores.

Reads WORK/truth/, WORK/input/ (for the check that observed cells were kept), and the imputed
tables: WORK/hier/<name>/out/best/<name>.csv (the recommended table), WORK/plain/<method>/,
WORK/peers/<peer>/. Writes WORK/results.csv (every score), WORK/summary.json and WORK/summary.md.
"""
import argparse
import csv
import glob
import json
import math
import os

import numpy as np

PEERS = ['sk_iterative', 'sk_iterative_trees', 'sk_knn', 'sk_mean']
PEER_LABEL = {
    'sk_iterative': 'IterativeImputer()',
    'sk_iterative_trees': 'IterativeImputer(ExtraTrees)',
    'sk_knn': 'KNNImputer()',
    'sk_mean': 'SimpleImputer(mean)',
}


def read_table(path):
    return np.genfromtxt(path, delimiter=',', skip_header=1, dtype=np.float64, missing_values='',
                         filling_values=np.nan, ndmin=2)


def read_test(path):
    t = np.genfromtxt(path, delimiter=',', skip_header=1, dtype=np.float64, ndmin=2)
    return t[:, 0].astype(int), t[:, 1].astype(int), t[:, 2]


class Truth:
    def __init__(self, work, name):
        self.rows, self.cols, self.values = read_test(os.path.join(work, 'truth', f'{name}.test.csv'))
        real = read_table(os.path.join(work, 'truth', f'{name}.real.csv'))
        self.sd = np.nanstd(real, axis=0)  # ddof 0, observed cells of the real table
        self.input = read_table(os.path.join(work, 'input', f'{name}.csv'))

    def nrmse(self, imputed, what, check_observed=True):
        if imputed.shape != self.input.shape:
            raise ValueError(f'{what}: shape {imputed.shape}, expected {self.input.shape}')
        obs = ~np.isnan(self.input)
        # float32 round trip: hierimpute stores values as float32, peers as float64
        if check_observed and not np.allclose(imputed[obs], self.input[obs], rtol=1e-6, atol=1e-6):
            raise ValueError(f'{what}: an observed cell changed')
        if np.isnan(imputed).any():
            raise ValueError(f'{what}: cells left missing')
        err = imputed[self.rows, self.cols] - self.values
        per_col = []
        for j in np.unique(self.cols):
            if self.sd[j] > 0:
                e = err[self.cols == j]
                per_col.append(math.sqrt(float(np.mean(e * e))) / self.sd[j])
        return float(np.mean(per_col))


def sequence_scores(truth, out, name):
    """Every swept sequence and one-method baseline of a run's output folder, scored on the TEST
    cells (a diagnostic, never used to choose). They were fitted on the table minus hierimpute's own
    holdout, whose cells they imputed: no check of observed cells."""
    scores = {}
    for d in glob.glob(os.path.join(out, 'sequences', '*')):
        for fname in (f'{name}.csv', f'{name}.baseline.csv'):  # a sequence, or a one-method baseline
            path = os.path.join(d, fname)
            if os.path.exists(path):
                scores[os.path.basename(d)] = truth.nrmse(read_table(path), path, check_observed=False)
                break
    return scores


def gmean(xs):
    xs = [x for x in xs if x is not None and x > 0 and math.isfinite(x)]
    return math.exp(sum(math.log(x) for x in xs) / len(xs)) if xs else float('nan')


def read_best_label(out):
    """Label (and recommendation sentence, when the current code writes one) of best_sequences.csv."""
    path = os.path.join(out, 'best_sequences.csv')
    if not os.path.exists(path):
        return '', '', float('nan')
    with open(path) as f:
        row = next(csv.DictReader(f))
    k = row.get('ensemble_k') or ''
    return row.get('label', ''), k, row.get('recommendation', '') or '', float(row.get('nrmse') or 'nan')


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--work', required=True)
    ap.add_argument('--methods', default='mean,knn,iterative_simple,xgboost,iterative_linear')
    args = ap.parse_args()
    work = args.work
    meta = json.load(open(os.path.join(work, 'tables.json')))
    peer_times = json.load(open(os.path.join(work, 'peers', 'times.json')))
    methods = args.methods.split(',')
    results, per_table = [], {}
    for name, m in meta.items():
        truth = Truth(work, name)
        out = os.path.join(work, 'hier', name, 'out')
        s = {}
        s['hier_best'] = truth.nrmse(read_table(os.path.join(out, 'best', f'{name}.csv')), f'{name} best')
        for meth in methods:
            s[f'hier_{meth}'] = truth.nrmse(read_table(os.path.join(work, 'plain', meth, f'{name}.csv')), f'{name} {meth}')
        for p in PEERS:
            s[p] = truth.nrmse(read_table(os.path.join(work, 'peers', p, f'{name}.csv')), f'{name} {p}')
        # How far the choice is from the best sequence with hindsight.
        seq_scores = sequence_scores(truth, out, name)
        label, ens_k, recommendation, est = read_best_label(out)
        # Share of rows per band in the sweep (the table minus hierimpute's own holdout).
        bands = []
        mpaths = sorted(glob.glob(os.path.join(out, 'sequences', 'seq_0_*', f'{name}.methods.csv')))
        if mpaths:
            with open(mpaths[0]) as f:
                b = [int(r['band']) for r in csv.DictReader(f)]
            bands = [round(100 * b.count(i) / len(b)) for i in range(max(b) + 1)]
        summary = json.load(open(os.path.join(out, 'run-summary.json')))
        ev = json.load(open(os.path.join(out, 'evaluation.json')))
        refit_nodes = (ev.get('refit', {}).get(name) or {}).get('computed', 0)
        wall = float(open(os.path.join(work, 'hier', name, 'seconds')).read())
        plain_s = {meth: float(open(os.path.join(work, 'plain', meth, f'{name}.seconds')).read()) for meth in methods}
        best_peer = min(PEERS, key=lambda p: s[p])
        sorted_seq = sorted(seq_scores.items(), key=lambda kv: kv[1])
        per_table[name] = {
            **m, 'nrmse': s, 'best_peer': best_peer, 'label': label, 'ensemble_k': ens_k, 'band_row_percent': bands, 'recommendation': recommendation,
            'holdout_estimate': est,
            'chosen_rank_on_test': next((i + 1 for i, (k, _) in enumerate(sorted_seq) if k == label), None),
            'hindsight_sequence': sorted_seq[0][0] if sorted_seq else None,
            'hindsight_sequence_nrmse': sorted_seq[0][1] if sorted_seq else None,
            'sequences_scored': len(sorted_seq),
            'run_seconds': wall, 'groups_computed': summary.get('groups_computed'),
            'groups_reused': summary.get('groups_reused'), 'refit_groups_computed': refit_nodes, 'seconds_per_method': summary.get('seconds_per_method'),
            'plain_seconds': plain_s, 'peer_seconds': {p: peer_times[p][name] for p in PEERS},
        }
        for k, v in s.items():
            results.append((name, k, v))
    with open(os.path.join(work, 'results.csv'), 'w') as f:
        f.write('table,imputer,nrmse_test\n')
        for r in results:
            f.write(f'{r[0]},{r[1]},{r[2]!r}\n')

    names = list(per_table)
    ratio = lambda a, b: [per_table[n]['nrmse'][a] / per_table[n]['nrmse'][b] for n in names]
    agg = {
        'tables': len(names),
        'gmean_ratio_best_vs': {p: gmean(ratio('hier_best', p)) for p in PEERS},
        'gmean_ratio_best_vs_best_peer': gmean([per_table[n]['nrmse']['hier_best'] / per_table[n]['nrmse'][per_table[n]['best_peer']] for n in names]),
        'wins_vs_sk_iterative': sum(per_table[n]['nrmse']['hier_best'] < per_table[n]['nrmse']['sk_iterative'] for n in names),
        'wins_vs_best_peer': sum(per_table[n]['nrmse']['hier_best'] < per_table[n]['nrmse'][per_table[n]['best_peer']] for n in names),
        'gmean_ratio_plain_vs_sk_iterative': {meth: gmean(ratio(f'hier_{meth}', 'sk_iterative')) for meth in methods},
        'gmean_ratio_best_vs_plain': {meth: gmean(ratio('hier_best', f'hier_{meth}')) for meth in methods},
        'gmean_ratio_best_vs_hindsight_sequence': gmean([per_table[n]['nrmse']['hier_best'] / per_table[n]['hindsight_sequence_nrmse'] for n in names if per_table[n]['hindsight_sequence_nrmse']]),
        'run_seconds_total': sum(per_table[n]['run_seconds'] for n in names),
        'groups_computed_total': sum((per_table[n]['groups_computed'] or 0) + per_table[n]['refit_groups_computed'] for n in names),
        'peer_seconds_total': {p: sum(per_table[n]['peer_seconds'][p] for n in names) for p in PEERS},
    }
    json.dump({'aggregate': agg, 'tables': per_table}, open(os.path.join(work, 'summary.json'), 'w'), indent=1)

    f3 = lambda x: f'{x:.3f}'
    lines = ['| table | rows×cols | rows per band % | hierimpute pick (ensemble; best single sequence) | hier. best | IterativeImputer() | IterImp(ExtraTrees) | KNNImputer() | mean | best peer | ratio vs IterImp() | ratio vs best peer | rank of best single on TEST | run s | nodes (sweep+refit) |',
             '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|']
    for n in names:
        t = per_table[n]
        s = t['nrmse']
        lab = (f"top {t['ensemble_k']}; " if t['ensemble_k'] else '') + t['label'].removeprefix('seq_')
        lines.append(f"| {n} | {t['rows']}×{t['cols']} | {'/'.join(map(str, t['band_row_percent']))} | {lab} | **{f3(s['hier_best'])}** | {f3(s['sk_iterative'])} | {f3(s['sk_iterative_trees'])} | "
                     f"{f3(s['sk_knn'])} | {f3(s['sk_mean'])} | {PEER_LABEL[t['best_peer']]} | {s['hier_best'] / s['sk_iterative']:.3f} | "
                     f"{s['hier_best'] / s[t['best_peer']]:.3f} | {t['chosen_rank_on_test'] or '–'} of {t['sequences_scored']} | {t['run_seconds']:.0f} | {t['groups_computed']}+{t['refit_groups_computed']} |")
    lines += ['', '| hierimpute\'s recommended table vs | geometric mean of nRMSE ratios (< 1: hierimpute better) |', '|---|---|']
    for p in PEERS:
        lines.append(f"| {PEER_LABEL[p]} | {agg['gmean_ratio_best_vs'][p]:.3f} |")
    lines.append(f"| best peer per table (hindsight) | {agg['gmean_ratio_best_vs_best_peer']:.3f} |")
    lines.append(f"| best of its swept candidates per table (hindsight, TEST cells) | {agg['gmean_ratio_best_vs_hindsight_sequence']:.3f} |")
    for meth in methods:
        lines.append(f"| plain `impute --method {meth}` | {agg['gmean_ratio_best_vs_plain'][meth]:.3f} |")
    lines += ['', f"Wins against IterativeImputer(): {agg['wins_vs_sk_iterative']} of {len(names)} tables; "
              f"against the best peer per table: {agg['wins_vs_best_peer']} of {len(names)}.",
              '', '| plain hierimpute method vs IterativeImputer() | geometric mean of nRMSE ratios |', '|---|---|']
    for meth in methods:
        lines.append(f"| {meth} | {agg['gmean_ratio_plain_vs_sk_iterative'][meth]:.3f} |")
    lines += ['', f"Cost: `run --evaluate --refit-best` {agg['run_seconds_total']:.0f} s in all, {agg['groups_computed_total']} band groups (nodes) computed (sweep, baselines and refit); "
              + ', '.join(f"{PEER_LABEL[p]} {agg['peer_seconds_total'][p]:.1f} s" for p in PEERS) + '.']
    open(os.path.join(work, 'summary.md'), 'w').write('\n'.join(lines) + '\n')
    print('\n'.join(lines))


if __name__ == '__main__':
    main()
