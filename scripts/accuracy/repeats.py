#!/usr/bin/env python3
"""Score the runs of repeats.sh: for each R, on the TEST cells (never seen by hierimpute),

  (a) the recommended table WORK/hier/<t>/R<R>/best.csv: its nRMSE, the geometric mean over tables
      of its ratio to IterativeImputer() and to the best peer chosen with hindsight (as score.py),
      and to the best of hierimpute's own swept candidates chosen with hindsight;
  (b) the best single candidate the holdout picked (rank 1 of R<R>/leaderboard.csv): its rank on the
      TEST cells among all candidates (64 sequences + 4 baselines; each scored from its repeat-0
      sweep output, the same files for every R), median and worst over tables, and its regret
      (its TEST nRMSE / the hindsight best candidate's);
  (c) cost: a fresh run sweeps R masked copies, so its wall time is t(R = 1, fresh) +
      (R - 1) x t(one more repeat), t(one more repeat) = the largest R's chained run / (R_max - 1);
      same for band groups (nodes) computed.

Writes WORK/repeats.json and WORK/repeats.md (and prints the latter).
  repeats.py --pool WORK1 WORK2 ...   prints the first table over the tables of several scored runs
  (e.g. two table seeds); the cost column then sums their runs.
"""
import argparse
import csv
import json
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from score import PEERS, Truth, gmean, read_table, sequence_scores  # noqa: E402


def leaderboard_top(path):
    with open(path) as f:
        rows = list(csv.DictReader(f))
    return next(r for r in rows if r['rank'] == '1')


def best_row(path):
    with open(path) as f:
        return next(csv.DictReader(f))


def aggregate(tables, rs):
    """Per R: geometric means over the tables, wins, pick ranks, cost (see the module docstring)."""
    names = list(tables)
    agg = {}
    for r in rs:
        g = lambda f: gmean([f(tables[n]) for n in names])
        ranks = [tables[n]['R'][r]['pick_rank'] for n in names]
        agg[r] = {
            'vs_sk_iterative': g(lambda t: t['R'][r]['best_nrmse'] / t['peers']['sk_iterative']),
            'wins_vs_sk_iterative': sum(tables[n]['R'][r]['best_nrmse'] < tables[n]['peers']['sk_iterative'] for n in names),
            'vs_best_peer': g(lambda t: t['R'][r]['best_nrmse'] / t['peers'][t['best_peer']]),
            'wins_vs_best_peer': sum(tables[n]['R'][r]['best_nrmse'] < tables[n]['peers'][tables[n]['best_peer']] for n in names),
            'vs_hindsight_candidate': g(lambda t: t['R'][r]['best_nrmse'] / t['hindsight_nrmse']),
            'vs_R1': g(lambda t: t['R'][r]['best_nrmse'] / t['R'][1]['best_nrmse']),
            'better_than_R1': sum(tables[n]['R'][r]['best_nrmse'] < tables[n]['R'][1]['best_nrmse'] - 1e-12 for n in names),
            'worse_than_R1': sum(tables[n]['R'][r]['best_nrmse'] > tables[n]['R'][1]['best_nrmse'] + 1e-12 for n in names),
            'pick_rank_median': statistics.median(ranks),
            'pick_rank_worst': max(ranks),
            'pick_top5': sum(x <= 5 for x in ranks),
            'pick_regret': g(lambda t: t['R'][r]['pick_regret']),
            'seconds': sum(tables[n]['R'][r]['seconds'] for n in names),
            'groups': sum(tables[n]['R'][r]['groups'] for n in names),
        }
    return agg


def markdown(tables, rs, agg):
    names = list(tables)
    ncand = max(tables[n]['candidates'] for n in names)
    s1 = agg[1]['seconds']
    lines = ['| R | best table vs IterativeImputer() (wins) | vs best peer, hindsight (wins) | vs best own candidate, hindsight | vs R = 1 (better / worse tables) '
             f'| TEST rank of the pick (of {ncand}): median / worst / in top 5 | pick / hindsight best candidate | sweep wall s (× R = 1) | nodes |',
             '|---|---|---|---|---|---|---|---|---|']
    for r in rs:
        a = agg[r]
        lines.append(f"| {r} | {a['vs_sk_iterative']:.3f} ({a['wins_vs_sk_iterative']}/{len(names)}) | {a['vs_best_peer']:.3f} ({a['wins_vs_best_peer']}/{len(names)}) "
                     f"| {a['vs_hindsight_candidate']:.3f} | {a['vs_R1']:.3f} ({a['better_than_R1']} / {a['worse_than_R1']}) "
                     f"| {a['pick_rank_median']:g} / {a['pick_rank_worst']} / {a['pick_top5']} of {len(names)} | {a['pick_regret']:.3f} "
                     f"| {a['seconds']:.0f} ({a['seconds'] / s1:.2f}×) | {a['groups']:.0f} |")
    head = '| table | ' + ' | '.join(f'R={r}: nRMSE, K, pick rank' for r in rs) + ' | IterativeImputer() | best peer | best candidate (hindsight) |'
    lines += ['', head, '|' + '---|' * (len(rs) + 4)]
    for n in names:
        t = tables[n]
        cells = ' | '.join(f"{t['R'][r]['best_nrmse']:.3f}, {t['R'][r]['ensemble_k']}, {t['R'][r]['pick_rank']}" for r in rs)
        lines.append(f"| {n} | {cells} | {t['peers']['sk_iterative']:.3f} | {t['peers'][t['best_peer']]:.3f} | {t['hindsight_nrmse']:.3f} |")
    return lines


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--work', help='a repeats.sh WORK folder: score it')
    ap.add_argument('--repeats', default='1,2,3,5')
    ap.add_argument('--pool', nargs='+', metavar='WORK', help='print the aggregate over the tables of several scored WORK folders')
    args = ap.parse_args()
    if args.pool:
        pooled, rs = {}, None
        for w in args.pool:
            d = json.load(open(os.path.join(w, 'repeats.json')))
            rs = d['repeats'] if rs is None else [r for r in rs if r in d['repeats']]
            for name, t in d['tables'].items():
                t['R'] = {int(r): v for r, v in t['R'].items()}
                pooled[f'{os.path.basename(os.path.normpath(w))}/{name}'] = t
        print('\n'.join(markdown(pooled, rs, aggregate(pooled, rs))[:len(rs) + 2]))
        return
    if not args.work:
        ap.error('give --work or --pool')
    work = args.work
    rs = sorted(int(r) for r in args.repeats.split(','))
    rmax = rs[-1]
    meta = json.load(open(os.path.join(work, 'tables.json')))
    tables = {}
    for name in meta:
        truth = Truth(work, name)
        d = os.path.join(work, 'hier', name)
        out = os.path.join(d, 'out')
        peers = {p: truth.nrmse(read_table(os.path.join(work, 'peers', p, f'{name}.csv')), f'{name} {p}') for p in PEERS}
        cand = sequence_scores(truth, out, name)
        order = sorted(cand, key=lambda k: (cand[k], k))
        hindsight = cand[order[0]]
        per_r = {}
        for r in rs:
            rd = os.path.join(d, f'R{r}')
            top = leaderboard_top(os.path.join(rd, 'leaderboard.csv'))
            bs = best_row(os.path.join(rd, 'best_sequences.csv'))
            summ = json.load(open(os.path.join(rd, 'run-summary.json')))
            ev = json.load(open(os.path.join(rd, 'evaluation.json')))
            refit = (ev.get('refit', {}).get(name) or {}).get('computed', 0)
            best = truth.nrmse(read_table(os.path.join(rd, 'best.csv')), f'{name} R{r} best')
            pick = top['label']
            per_r[r] = {
                'best_nrmse': best,
                'pick': pick,
                'pick_rank': order.index(pick) + 1,
                'pick_nrmse': cand[pick],
                'pick_regret': cand[pick] / hindsight,
                'ensemble_k': int(bs.get('ensemble_k') or 1),
                'ensemble_members': (bs.get('ensemble_members') or '').split(),
                'holdout_nrmse': float(top['nrmse']),
                'seconds_run': float(open(os.path.join(rd, 'seconds')).read()),
                'groups_computed': (summ.get('groups_computed') or 0) + refit,
            }
        t1 = per_r[1]['seconds_run']
        extra = per_r[rmax]['seconds_run'] / (rmax - 1) if rmax > 1 else 0.0
        g1 = per_r[1]['groups_computed']
        gextra = per_r[rmax]['groups_computed'] / (rmax - 1) if rmax > 1 else 0.0
        for r in rs:
            per_r[r]['seconds'] = t1 + (r - 1) * extra
            per_r[r]['groups'] = g1 + (r - 1) * gextra
        best_peer = min(PEERS, key=lambda p: peers[p])
        tables[name] = {'peers': peers, 'best_peer': best_peer, 'candidates': len(cand), 'hindsight_candidate': order[0],
                        'hindsight_nrmse': hindsight, 'R': per_r}

    agg = aggregate(tables, rs)
    json.dump({'repeats': rs, 'aggregate': agg, 'tables': tables}, open(os.path.join(work, 'repeats.json'), 'w'), indent=1)

    lines = markdown(tables, rs, agg)
    open(os.path.join(work, 'repeats.md'), 'w').write('\n'.join(lines) + '\n')
    print('\n'.join(lines))


if __name__ == '__main__':
    main()
