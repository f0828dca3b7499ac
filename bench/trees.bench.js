#!/usr/bin/env node
// Benchmark of the tree imputers, single thread: native MICE(ExtraTrees) (iterative_simple) and the
// XGBoost imputer, against scikit-learn IterativeImputer(ExtraTreesRegressor(n_estimators=10)) and
// python-xgboost (XGBRegressor n_jobs=1) on the SAME generated table when /usr/bin/python3 has them.
//
//   HIERIMPUTE_NATIVE_DIR=... node bench/trees.bench.js [--rows 50000] [--cols 20] [--sk-rows 5000] [--reps 3] [--only mice|xgb]
//
// Table: `rows` x `cols`, columns driven by 4 latent factors (a third of them nonlinear), 20 % of the rows
// incomplete with 1..5 missing cells each. sklearn's MICE takes minutes at 50,000 rows, so the MICE
// comparison runs on a `sk-rows` table (both implementations on that same table); the XGBoost comparison
// runs on the full table. A plain-JavaScript MICE(ExtraTrees) (same algorithm, 1 run) is timed on the
// `sk-rows` table as a baseline. Times are medians over `reps` runs (python: 1 run on the big table); "cpu s" is
// the process CPU time of the same run (less sensitive than wall time to other jobs on a shared machine).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

import { iterativeSimple } from '../dist/impute/methods/iterative.js';
import { xgboost } from '../dist/impute/methods/xgboost.js';

const args = Object.fromEntries(
  process.argv
    .slice(2)
    .reduce(
      (acc, a, i, all) => (a.startsWith('--') ? [...acc, [a.slice(2), Number.isNaN(Number(all[i + 1])) ? all[i + 1] : Number(all[i + 1])]] : acc),
      [],
    ),
);
const ONLY = args.only ?? 'all'; // all | mice | xgb
const ROWS = args.rows ?? 50000,
  COLS = args.cols ?? 20,
  SK_ROWS = args['sk-rows'] ?? 5000,
  REPS = args.reps ?? 3;
const PY = '/usr/bin/python3';

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
function makeTable(n, d, seed) {
  const r = rng(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
  const w = Array.from({ length: d }, () => Array.from({ length: 4 }, gauss));
  const truth = Array.from({ length: d }, () => new Float32Array(n));
  for (let i = 0; i < n; i++) {
    const z = [gauss(), gauss(), gauss(), gauss()];
    for (let j = 0; j < d; j++) {
      let v = w[j][0] * z[0] + w[j][1] * z[1] + w[j][2] * z[2] + w[j][3] * z[3];
      if (j % 3 === 2) v = Math.sin(v) + z[0] * z[1];
      truth[j][i] = v + 0.2 * gauss();
    }
  }
  const columns = truth.map((c) => Float32Array.from(c));
  for (let i = 0; i < n; i++) {
    if (r() >= 0.2) continue;
    const k = 1 + Math.floor(r() * 5);
    for (let c = 0; c < k; c++) columns[Math.floor(r() * d)][i] = NaN;
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
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
async function time(fn, reps) {
  const secs = [],
    cpu = [];
  let out;
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now(),
      c0 = process.cpuUsage();
    out = await fn();
    const c = process.cpuUsage(c0);
    secs.push((performance.now() - t0) / 1000);
    cpu.push((c.user + c.system) / 1e6);
  }
  return { secs: median(secs), cpu: median(cpu), out };
}

// ---- plain JS baseline: the same MICE(ExtraTrees) algorithm, straightforward JavaScript ----
function jsExtraTreesPredict(X, y, Q, nTrees, r) {
  const nF = X.length,
    n = y.length,
    m = Q.length ? Q[0].length : 0;
  const out = new Float64Array(m);
  for (let t = 0; t < nTrees; t++) {
    const idx = Uint32Array.from({ length: n }, (_, i) => i);
    const qidx = Uint32Array.from({ length: m }, (_, i) => i);
    const stack = [[0, n, 0, m]];
    while (stack.length) {
      const [s, e, qs, qe] = stack.pop();
      if (qs === qe) continue;
      const cnt = e - s;
      let sum = 0;
      for (let p = s; p < e; p++) sum += y[idx[p]];
      const mean = sum / cnt;
      let ss = 0;
      for (let p = s; p < e; p++) ss += (y[idx[p]] - mean) ** 2;
      let bestF = -1,
        bestT = 0,
        best = -Infinity;
      if (cnt >= 2 && ss / cnt > Number.EPSILON) {
        for (let f = 0; f < nF; f++) {
          const col = X[f];
          let mn = Infinity,
            mx = -Infinity;
          for (let p = s; p < e; p++) {
            const v = col[idx[p]];
            if (v < mn) mn = v;
            if (v > mx) mx = v;
          }
          const u = r();
          if (mx <= mn + 1e-7) continue;
          let th = mn + (mx - mn) * u;
          if (th >= mx) th = mn;
          let nL = 0,
            sL = 0;
          for (let p = s; p < e; p++)
            if (col[idx[p]] <= th) {
              nL++;
              sL += y[idx[p]];
            }
          if (nL === 0 || nL === cnt) continue;
          const sR = sum - sL,
            proxy = (sL * sL) / nL + (sR * sR) / (cnt - nL);
          if (proxy > best) {
            best = proxy;
            bestF = f;
            bestT = th;
          }
        }
      }
      if (bestF < 0) {
        for (let q = qs; q < qe; q++) out[qidx[q]] += mean / nTrees;
        continue;
      }
      const part = (arr, a, b, col) => {
        let i = a;
        for (let p = a; p < b; p++)
          if (col[arr[p]] <= bestT) {
            const tmp = arr[i];
            arr[i] = arr[p];
            arr[p] = tmp;
            i++;
          }
        return i;
      };
      const mid = part(idx, s, e, X[bestF]),
        qmid = part(qidx, qs, qe, Q[bestF]);
      stack.push([mid, e, qmid, qe], [s, mid, qs, qmid]);
    }
  }
  return out;
}
function jsMice(data, nTrees = 10, maxIter = 10, tol = 1e-3) {
  const d = data.columns.length,
    n = data.nRows,
    r = rng(99);
  const X = data.columns.map((c) => Float64Array.from(c));
  const miss = data.columns.map((c) => {
    const a = [];
    c.forEach((v, i) => {
      if (Number.isNaN(v)) a.push(i);
    });
    return a;
  });
  let maxAbs = 0;
  X.forEach((c, j) => {
    let s = 0,
      k = 0;
    c.forEach((v) => {
      if (!Number.isNaN(v)) {
        s += v;
        k++;
        maxAbs = Math.max(maxAbs, Math.abs(v));
      }
    });
    for (const i of miss[j]) c[i] = s / k;
  });
  const order = [...Array(d).keys()].filter((j) => miss[j].length).sort((a, b) => miss[a].length - miss[b].length || a - b);
  let prev = X.map((c) => Float64Array.from(c));
  for (let it = 0; it < maxIter; it++) {
    for (const j of order) {
      const isMiss = new Uint8Array(n);
      for (const i of miss[j]) isMiss[i] = 1;
      const obs = [];
      for (let i = 0; i < n; i++) if (!isMiss[i]) obs.push(i);
      const feats = [...Array(d).keys()].filter((f) => f !== j);
      const pred = jsExtraTreesPredict(
        feats.map((f) => Float64Array.from(obs, (i) => X[f][i])),
        Float64Array.from(obs, (i) => X[j][i]),
        feats.map((f) => Float64Array.from(miss[j], (i) => X[f][i])),
        nTrees,
        r,
      );
      miss[j].forEach((i, k) => {
        X[j][i] = pred[k];
      });
    }
    const rowChange = new Float64Array(n);
    for (const j of order) for (const i of miss[j]) rowChange[i] += Math.abs(X[j][i] - prev[j][i]);
    if (Math.max(...rowChange) < tol * maxAbs) break;
    prev = X.map((c) => Float64Array.from(c));
  }
  return { columns: X, nRows: n };
}

const PY_SCRIPT = String.raw`
import json, sys, time, warnings
import numpy as np
warnings.filterwarnings("ignore")
path, n, d, what, reps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], int(sys.argv[5])
X = np.fromfile(path + ".x", dtype=np.float32).reshape(d, n).T.copy()
T = np.fromfile(path + ".t", dtype=np.float32).reshape(d, n).T.copy()
mask = np.isnan(X)
secs, cpu = [], []
for _ in range(reps):
    t0, c0 = time.perf_counter(), time.process_time()
    if what == "mice":
        from sklearn.experimental import enable_iterative_imputer
        from sklearn.impute import IterativeImputer
        from sklearn.ensemble import ExtraTreesRegressor
        out = IterativeImputer(ExtraTreesRegressor(n_estimators=10, random_state=0, n_jobs=1), max_iter=10, random_state=0).fit_transform(X)
    else:
        from xgboost import XGBRegressor
        out = X.copy()
        for j in range(d):
            miss = mask[:, j]
            if not miss.any(): continue
            o = [k for k in range(d) if k != j]
            mdl = XGBRegressor(n_estimators=100, max_depth=6, learning_rate=0.3, tree_method="hist", random_state=0, n_jobs=1)
            mdl.fit(X[~miss][:, o], X[~miss, j])
            out[miss, j] = mdl.predict(X[miss][:, o])
    secs.append(time.perf_counter() - t0)
    cpu.append(time.process_time() - c0)
print(json.dumps({"secs": sorted(secs)[len(secs) // 2], "cpu": sorted(cpu)[len(cpu) // 2], "rmse": float(np.sqrt(np.mean((out[mask] - T[mask]) ** 2)))}))
`;
function python(t, what, reps) {
  if (!existsSync(PY)) return null;
  const dir = mkdtempSync(join(tmpdir(), 'hierimpute-bench-'));
  try {
    const base = join(dir, 'table');
    const flat = (cols) => {
      const a = new Float32Array(cols.length * t.data.nRows);
      cols.forEach((c, j) => a.set(c, j * t.data.nRows));
      return Buffer.from(a.buffer);
    };
    writeFileSync(`${base}.x`, flat(t.data.columns));
    writeFileSync(`${base}.t`, flat(t.truth));
    const r = spawnSync(PY, ['-c', PY_SCRIPT, base, String(t.data.nRows), String(t.data.columns.length), what, String(reps)], {
      encoding: 'utf8',
      env: { ...process.env, OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1', MKL_NUM_THREADS: '1' },
      maxBuffer: 1 << 24,
    });
    if (r.status !== 0) {
      console.error(`python ${what} unavailable: ${r.stderr.trim().split('\n').pop()}`);
      return null;
    }
    return JSON.parse(r.stdout.trim().split('\n').pop());
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const ctx = { seed: 0, threads: 1 };
const rows = [];
const row = (method, table, t, n, err, vs) => {
  const r = {
    method,
    table,
    'median s': t.secs.toFixed(2),
    'cpu s': t.cpu.toFixed(2),
    'rows/s': Math.round(n / t.secs),
    'RMSE hidden': err.toFixed(4),
    ...(vs ? { 'native speed-up': vs } : {}),
  };
  rows.push(r);
  console.error(`  ${Object.values(r).join('  ')}`); // progress: the full table prints at the end
};

const small = makeTable(SK_ROWS, COLS, 2);
const big = makeTable(ROWS, COLS, 1);
const label = (t) => `${t.data.nRows}x${COLS}`;

const ratio = (py, ours) => `${(py.secs / ours.secs).toFixed(2)}x wall, ${(py.cpu / ours.cpu).toFixed(2)}x cpu vs python`;
if (ONLY !== 'xgb') {
  const miceSmall = await time(() => iterativeSimple.impute(small.data, 0, iterativeSimple.defaults, ctx), REPS);
  const skMice = python(small, 'mice', 1);
  row('native MICE(ExtraTrees)', label(small), miceSmall, SK_ROWS, rmse(small, miceSmall.out), skMice ? ratio(skMice, miceSmall) : undefined);
  if (skMice) row('sklearn IterativeImputer(ExtraTrees)', label(small), skMice, SK_ROWS, skMice.rmse);

  const jsMiceSmall = await time(() => jsMice(small.data), 1);
  row(
    'plain JS MICE(ExtraTrees) baseline',
    label(small),
    jsMiceSmall,
    SK_ROWS,
    rmse(small, jsMiceSmall.out),
    `${(jsMiceSmall.secs / miceSmall.secs).toFixed(1)}x vs plain JS`,
  );

  const miceBig = await time(() => iterativeSimple.impute(big.data, 0, iterativeSimple.defaults, ctx), REPS);
  row('native MICE(ExtraTrees)', label(big), miceBig, ROWS, rmse(big, miceBig.out));
}
if (ONLY !== 'mice') {
  const xgbBig = await time(() => xgboost.impute(big.data, 0, xgboost.defaults, ctx), REPS);
  const pyXgb = python(big, 'xgb', 1);
  row('native xgboost imputer', label(big), xgbBig, ROWS, rmse(big, xgbBig.out), pyXgb ? ratio(pyXgb, xgbBig) : undefined);
  if (pyXgb) row('python-xgboost imputer', label(big), pyXgb, ROWS, pyXgb.rmse);
}

console.log(`tree imputers, threads=1, ${REPS} reps (median); 20 % incomplete rows, 1-5 missing cells each`);
console.table(rows);
