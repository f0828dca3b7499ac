#!/usr/bin/env python3
"""The beam search against the full product, on the tables of a finished accuracy run.

    python3 scripts/accuracy/beam.py --work out/accuracy [--widths 1,2,4] [--jobs 2] [--full]

For every table of WORK (made by scripts/accuracy/run.sh, which ran the full product of
WORK/sweep.yaml) and every beam width K: `hierimpute run --evaluate --refit-best --beam K` with
the same configuration and defaults, into WORK/beam/K<k>/<name>/out. With --full, the full product
is run again with this checkout's code (WORK/beam/full/<name>/out) and compared against instead of
WORK/hier/<name>/out (which run.sh made with the code of its own time). Then, on the TEST cells
(which neither run saw):
  - the nRMSE of the recommended table (best/<name>.csv) of the beam and of the full product;
  - the beam's best sequence, whether the full product picked the same, and its rank on the TEST
    cells among all the full product's sequences and baselines (the harness scored each of them);
  - nodes computed (run-summary.json) and wall seconds.
Writes WORK/beam/summary.json and WORK/beam/summary.md. Uses the built dist/ of this checkout
(run `npm run build` first), or HIER_MAIN (a copy of dist/main.js) with HIERIMPUTE_NATIVE_DIR.
"""
import argparse
import concurrent.futures
import json
import math
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from score import Truth, gmean, read_best_label, read_table, sequence_scores  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))


def run_beam(work, name, k):
    """k = 0: the full product."""
    d = os.path.join(work, 'beam', f'K{k}' if k else 'full', name)
    os.makedirs(os.path.join(d, 'data'), exist_ok=True)
    data = os.path.join(d, 'data', f'{name}.csv')
    if not os.path.exists(data):
        with open(os.path.join(work, 'input', f'{name}.csv'), 'rb') as src, open(data, 'wb') as dst:
            dst.write(src.read())
    t0 = time.time()
    cmd = ['node', os.environ.get('HIER_MAIN', os.path.join(ROOT, 'dist', 'main.js')), 'run', '--config', os.path.join(work, 'sweep.yaml'), '--data', os.path.join(d, 'data'),
           '--out', os.path.join(d, 'out'), '--evaluate', '--refit-best', '--threads', '1', '--progress=false', '--log-level', 'warn']
    if k:
        cmd += ['--beam', str(k)]
    with open(os.path.join(d, 'log.txt'), 'w') as log:
        r = subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT)
    if r.returncode != 0:
        raise RuntimeError(f'beam {k} on {name} failed: see {d}/log.txt')
    return time.time() - t0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--work', required=True)
    ap.add_argument('--widths', default='1,2,4')
    ap.add_argument('--jobs', type=int, default=2)
    ap.add_argument('--full', action='store_true', help='run the full product again with this code')
    args = ap.parse_args()
    work = os.path.abspath(args.work)
    widths = [int(x) for x in args.widths.split(',')]
    names = sorted(json.load(open(os.path.join(work, 'tables.json'))))
    jobs = [(n, k) for k in ([0] if args.full else []) + widths for n in names]
    seconds = {}
    with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        for (n, k), s in zip(jobs, pool.map(lambda j: run_beam(work, *j), jobs)):
            seconds[(n, k)] = s
            print(f'  done: beam {k} {n} ({s:.1f} s)', file=sys.stderr)
    rows = {}
    for n in names:
        truth = Truth(work, n)
        full_dir = os.path.join(work, 'beam', 'full', n) if args.full else os.path.join(work, 'hier', n)
        full_out = os.path.join(full_dir, 'out')
        full_scores = sequence_scores(truth, full_out, n)
        ranked = sorted(full_scores, key=lambda lbl: full_scores[lbl])
        full_label = read_best_label(full_out)[0]
        full_best = truth.nrmse(read_table(os.path.join(full_out, 'best', f'{n}.csv')), f'{n} full best')
        full_summary = json.load(open(os.path.join(full_out, 'run-summary.json')))
        row = {'full': {'label': full_label, 'best_nrmse': full_best, 'nodes': full_summary['groups_computed'],
                        'seconds': seconds[(n, 0)] if args.full else float(open(os.path.join(full_dir, 'seconds')).read()),
                        'pick_rank': ranked.index(full_label) + 1 if full_label in ranked else None, 'candidates': len(ranked)}}
        for k in widths:
            out = os.path.join(work, 'beam', f'K{k}', n, 'out')
            label = read_best_label(out)[0]
            best = truth.nrmse(read_table(os.path.join(out, 'best', f'{n}.csv')), f'{n} beam {k} best')
            summary = json.load(open(os.path.join(out, 'run-summary.json')))
            row[f'K{k}'] = {'label': label, 'same_pick': label == full_label, 'best_nrmse': best, 'ratio_to_full': best / full_best,
                            'pick_rank': ranked.index(label) + 1 if label in ranked else None, 'nodes': summary['groups_computed'],
                            'seconds': seconds[(n, k)], 'sequences': summary.get('beam', {}).get('sequences')}
        rows[n] = row
    agg = {}
    for k in widths:
        key = f'K{k}'
        ranks = sorted(r[key]['pick_rank'] for r in rows.values() if r[key]['pick_rank'])
        agg[key] = {
            'geomean_ratio_to_full': gmean([r[key]['ratio_to_full'] for r in rows.values()]),
            'better_or_equal': sum(r[key]['best_nrmse'] <= r['full']['best_nrmse'] for r in rows.values()),
            'same_pick': sum(r[key]['same_pick'] for r in rows.values()),
            'median_pick_rank': ranks[len(ranks) // 2] if ranks else None,
            'worst_pick_rank': ranks[-1] if ranks else None,
            'nodes': sum(r[key]['nodes'] for r in rows.values()),
            'seconds': sum(r[key]['seconds'] for r in rows.values()),
        }
    full_ranks = sorted(r['full']['pick_rank'] for r in rows.values() if r['full']['pick_rank'])
    agg['full'] = {'median_pick_rank': full_ranks[len(full_ranks) // 2], 'worst_pick_rank': full_ranks[-1],
                   'nodes': sum(r['full']['nodes'] for r in rows.values()), 'seconds': sum(r['full']['seconds'] for r in rows.values())}
    os.makedirs(os.path.join(work, 'beam'), exist_ok=True)
    json.dump({'tables': rows, 'aggregate': agg}, open(os.path.join(work, 'beam', 'summary.json'), 'w'), indent=2)
    n = len(rows)
    lines = [f'# Beam search against the full product ({n} tables)', '',
             '| search | nodes | seconds | best table: geo-mean nRMSE ratio to the full product | tables better or equal | same pick | pick rank on TEST (median / worst) |',
             '|---|---|---|---|---|---|---|',
             f"| full product | {agg['full']['nodes']} | {agg['full']['seconds']:.0f} | 1 | - | - | {agg['full']['median_pick_rank']} / {agg['full']['worst_pick_rank']} |"]
    for k in widths:
        a = agg[f'K{k}']
        lines.append(f"| beam {k} | {a['nodes']} | {a['seconds']:.0f} | {a['geomean_ratio_to_full']:.4f} | {a['better_or_equal']}/{n} | {a['same_pick']}/{n} | "
                     f"{a['median_pick_rank']} / {a['worst_pick_rank']} |")
    lines += ['', '| table | full pick (rank on TEST) | ' + ' | '.join(f'beam {k} pick (rank), ratio' for k in widths) + ' |',
              '|---|---|' + '---|' * len(widths)]
    for name, r in rows.items():
        cells = [f"{r[f'K{k}']['label']} ({r[f'K{k}']['pick_rank']}), {r[f'K{k}']['ratio_to_full']:.3f}" for k in widths]
        lines.append(f"| {name} | {r['full']['label']} ({r['full']['pick_rank']}) | " + ' | '.join(cells) + ' |')
    open(os.path.join(work, 'beam', 'summary.md'), 'w').write('\n'.join(lines) + '\n')
    print('\n'.join(lines))
    if any(not math.isfinite(agg[f'K{k}']['geomean_ratio_to_full']) for k in widths):
        sys.exit(1)


if __name__ == '__main__':
    main()
