#!/usr/bin/env node
// Benchmark of iterative_linear (native MICE with BayesianRidge, float64) against scikit-learn's default
// IterativeImputer() on the SAME generated table, single thread (OMP/OpenBLAS/MKL threads = 1 for python).
//
//   HIERIMPUTE_NATIVE_DIR=... node bench/linear.bench.js [--rows 10000] [--cols 20] [--reps 5] [--sk-reps 3]
//
// Table: `rows` x `cols` float32, columns driven by 5 latent factors plus noise, 20 % of the cells hidden
// completely at random. sklearn runs on the float64 values of the float32 table (on a float32 array it would
// run BayesianRidge in single precision; see scripts/parity/linear_reference.py). Times are medians over
// `reps` (native) and `sk-reps` (sklearn) runs, including sklearn's own input validation but not the python
// start-up or the file transfer; "cpu s" is the process CPU time of the same runs. The speed-up goal is 5x.
// Without /usr/bin/python3 + scikit-learn (Debian: apt-get install python3-sklearn) only the native side runs.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

import { iterativeLinear, runMice } from '../dist/impute/methods/iterative.js';
import { median } from './util.js';

const PY = '/usr/bin/python3';

function parseArgs(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i++) if (argv[i].startsWith('--')) out[argv[i].slice(2)] = Number(argv[i + 1]);
  return out;
}

function rng(seed) {
  // mulberry32
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function makeTable(n, d, seed, hidden = 0.2) {
  const r = rng(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
  const k = 5;
  const w = Array.from({ length: d }, () => Array.from({ length: k }, gauss));
  const truth = Array.from({ length: d }, () => new Float32Array(n));
  for (let i = 0; i < n; i++) {
    const z = Array.from({ length: k }, gauss);
    for (let j = 0; j < d; j++) {
      let v = 0.5 * gauss();
      for (let f = 0; f < k; f++) v += w[j][f] * z[f];
      truth[j][i] = v;
    }
  }
  const columns = truth.map((c) => Float32Array.from(c));
  for (let i = 0; i < n; i++) {
    let kept = 0;
    for (let j = 0; j < d; j++)
      if (r() < hidden) columns[j][i] = NaN;
      else kept++;
    if (kept === 0) {
      const j = Math.floor(r() * d);
      columns[j][i] = truth[j][i];
    } // keep one cell per row
  }
  return { data: { names: truth.map((_, j) => `c${j}`), columns, nRows: n }, truth };
}

function rmse(t, out) {
  let s = 0,
    k = 0;
  t.data.columns.forEach((col, j) =>
    col.forEach((v, i) => {
      if (Number.isNaN(v)) {
        s += (out.columns[j][i] - t.truth[j][i]) ** 2;
        k++;
      }
    }),
  );
  return Math.sqrt(s / k);
}

const PY_SCRIPT = String.raw`
import json, sys, time, warnings
import numpy as np
warnings.filterwarnings("ignore")
from sklearn.experimental import enable_iterative_imputer
from sklearn.impute import IterativeImputer
path, n, d, reps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
X = np.fromfile(path + ".x", dtype=np.float32).reshape(d, n).T.astype(np.float64)
T = np.fromfile(path + ".t", dtype=np.float32).reshape(d, n).T.astype(np.float64)
mask = np.isnan(X)
secs, cpu = [], []
for _ in range(reps):
    t0, c0 = time.perf_counter(), time.process_time()
    imp = IterativeImputer()
    out = imp.fit_transform(X)
    secs.append(time.perf_counter() - t0)
    cpu.append(time.process_time() - c0)
np.asarray(out, np.float64).T.tofile(path + ".out")
print(json.dumps({"secs": sorted(secs)[len(secs) // 2], "cpu": sorted(cpu)[len(cpu) // 2], "all": secs,
                  "rmse": float(np.sqrt(np.mean((out[mask] - T[mask]) ** 2))), "n_iter": int(imp.n_iter_)}))
`;

function sklearnRun(t, reps) {
  if (!existsSync(PY)) return { skipped: `${PY} not found` };
  const probe = spawnSync(PY, ['-c', 'import sklearn'], { encoding: 'utf8' });
  if (probe.status !== 0) return { skipped: 'scikit-learn is not installed for /usr/bin/python3 (apt-get install python3-sklearn)' };
  const dir = mkdtempSync(join(tmpdir(), 'hierimpute-bench-linear-'));
  try {
    const base = join(dir, 'table');
    const n = t.data.nRows,
      d = t.data.columns.length;
    const flat = (cols) => {
      const a = new Float32Array(cols.length * n);
      cols.forEach((c, j) => a.set(c, j * n));
      return Buffer.from(a.buffer);
    };
    writeFileSync(`${base}.x`, flat(t.data.columns));
    writeFileSync(`${base}.t`, flat(t.truth));
    const r = spawnSync(PY, ['-c', PY_SCRIPT, base, String(n), String(d), String(reps)], {
      encoding: 'utf8',
      env: { ...process.env, OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1', MKL_NUM_THREADS: '1' },
      maxBuffer: 1 << 24,
    });
    if (r.status !== 0) return { skipped: `python failed: ${r.stderr.trim().split('\n').pop()}` };
    const res = JSON.parse(r.stdout.trim().split('\n').pop());
    const buf = readFileSync(`${base}.out`);
    const all = new Float64Array(buf.buffer, buf.byteOffset, n * d);
    res.columns = Array.from({ length: d }, (_, j) => all.subarray(j * n, (j + 1) * n));
    return res;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function main(argv = process.argv.slice(2)) {
  const a = parseArgs(argv);
  const ROWS = a.rows ?? 10000,
    COLS = a.cols ?? 20,
    REPS = a.reps ?? 5,
    SK_REPS = a['sk-reps'] ?? 3;
  const t = makeTable(ROWS, COLS, 7);
  const params = {
    estimator: 'bayesian_ridge',
    nEstimators: 0,
    maxDepth: 0,
    learningRate: 0.3,
    maxIter: 10,
    tol: 1e-3,
    seed: 0,
    threads: 1,
    divergence: 'clip',
  };
  await runMice(t.data, 0, params, 'iterative_linear'); // warm-up (addon load, page faults)
  const secs = [],
    cpu = [];
  let res;
  for (let r = 0; r < REPS; r++) {
    const t0 = performance.now(),
      c0 = process.cpuUsage();
    res = await runMice(t.data, 0, params, 'iterative_linear');
    const c = process.cpuUsage(c0);
    secs.push((performance.now() - t0) / 1000);
    cpu.push((c.user + c.system) / 1e6);
  }
  // the registered method gives the same answer (same kernel, same defaults)
  const viaRegistry = await iterativeLinear.impute(t.data, 0, iterativeLinear.defaults, { seed: 0, threads: 1 });
  const same = viaRegistry.columns.every((c, j) => c.every((v, i) => Object.is(v, res.matrix.columns[j][i])));
  const ours = { secs: median(secs), cpu: median(cpu), rmse: rmse(t, res.matrix), nIter: res.nIter };
  const sk = sklearnRun(t, SK_REPS);
  const rows = [
    {
      method: 'native iterative_linear',
      table: `${ROWS}x${COLS}`,
      'median s': ours.secs.toFixed(3),
      'cpu s': ours.cpu.toFixed(3),
      'RMSE hidden': ours.rmse.toFixed(6),
      sweeps: ours.nIter,
    },
  ];
  let summary;
  if (sk.skipped) {
    summary = `sklearn comparison skipped: ${sk.skipped}`;
  } else {
    rows.push({
      method: 'sklearn IterativeImputer()',
      table: `${ROWS}x${COLS}`,
      'median s': sk.secs.toFixed(3),
      'cpu s': sk.cpu.toFixed(3),
      'RMSE hidden': sk.rmse.toFixed(6),
      sweeps: sk.n_iter,
    });
    let maxDiff = 0;
    t.data.columns.forEach((col, j) =>
      col.forEach((v, i) => {
        if (Number.isNaN(v)) maxDiff = Math.max(maxDiff, Math.abs(res.matrix.columns[j][i] - sk.columns[j][i]));
      }),
    );
    const ratio = sk.secs / ours.secs;
    summary =
      `speed-up ${ratio.toFixed(1)}x wall, ${(sk.cpu / ours.cpu).toFixed(1)}x cpu vs sklearn (goal >= 5x: ${ratio >= 5 ? 'met' : 'NOT met'}); ` +
      `max |native - sklearn| on hidden cells ${maxDiff.toExponential(2)}`;
  }
  console.log(
    `iterative_linear vs sklearn IterativeImputer(), threads=1, medians of ${REPS} (native) / ${SK_REPS} (sklearn) runs; 20 % cells hidden`,
  );
  console.table(rows);
  console.log(summary);
  console.log(`registered method = kernel run: ${same}`);
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
