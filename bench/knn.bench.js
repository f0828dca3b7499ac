// KNN imputation benchmark: native kernel vs a plain JavaScript implementation of the same algorithm
// vs scikit-learn's KNNImputer (when /usr/bin/python3 has scikit-learn), on one generated table.
//
//   node bench/knn.bench.js [--rows 50000] [--cols 20] [--incomplete 0.2] [--runs 3] [--js-receivers 300]
//                           [--sklearn-runs 3] [--no-sklearn]
// Default: 50,000 x 20, 20 % incomplete rows (10,000 receivers, 1-3 missing cells each),
// n_neighbors=5, uniform weights. Everything single-threaded (scikit-learn with its BLAS pinned to one
// thread); native with threads=0 is shown for information. The JavaScript version is run on the first
// --js-receivers receivers only (against all fit rows) and extrapolated to all receivers.
// Times are medians of the runs (wall clock and process CPU time); scikit-learn is timed around
// fit_transform only.
// Needs the built addon (HIERIMPUTE_NATIVE_DIR for another build folder) and `tsc` output in dist/.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import { knnFitTransform } from '../dist/impute/methods/knn.js';
import { makeMatrix } from '../dist/tables/matrix.js';

const { values: opt } = parseArgs({
  options: {
    rows: { type: 'string', default: '50000' },
    cols: { type: 'string', default: '20' },
    incomplete: { type: 'string', default: '0.2' },
    runs: { type: 'string', default: '3' },
    'js-receivers': { type: 'string', default: '300' },
    'sklearn-runs': { type: 'string', default: '3' },
    'no-sklearn': { type: 'boolean', default: false },
  },
});
const n = Number(opt.rows);
const p = Number(opt.cols);
const runs = Number(opt.runs);
const K = 5;

// ---- data: seeded, float32, correlated columns, 1-3 missing cells in a share of the rows ----
function makeTable(seed) {
  let s = seed >>> 0;
  const rnd = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  const gauss = () => Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd());
  const columns = Array.from({ length: p }, () => new Float32Array(n));
  for (let i = 0; i < n; i++) {
    const z = gauss();
    for (let j = 0; j < p; j++) columns[j][i] = 10 * z + 3 * gauss() + j;
    if (rnd() < Number(opt.incomplete)) {
      const m = 1 + Math.floor(rnd() * 3);
      for (let t = 0; t < m; t++) columns[Math.floor(rnd() * p)][i] = NaN;
    }
  }
  return makeMatrix(
    Array.from({ length: p }, (_, j) => `x${j}`),
    columns,
  );
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

// ---- plain JavaScript, same algorithm: exact distances, per-column bounded k-best selection ----
function jsKnn(data, receiverLimit) {
  const rowMajor = new Float64Array(n * p);
  for (let j = 0; j < p; j++) for (let i = 0; i < n; i++) rowMajor[i * p + j] = data.columns[j][i];
  const receivers = [];
  for (let i = 0; i < n && receivers.length < receiverLimit; i++)
    for (let j = 0; j < p; j++)
      if (Number.isNaN(rowMajor[i * p + j])) {
        receivers.push(i);
        break;
      }
  const q = new Float64Array(n);
  const bestQ = new Float64Array(K);
  const bestRow = new Int32Array(K);
  const out = [];
  const t0 = process.hrtime.bigint();
  for (const r of receivers) {
    const xo = r * p;
    for (let i = 0; i < n; i++) {
      const yo = i * p;
      let s = 0;
      let c = 0;
      for (let f = 0; f < p; f++) {
        const d = rowMajor[xo + f] - rowMajor[yo + f];
        if (d === d) {
          s += d * d;
          c++;
        }
      }
      q[i] = c ? (s / c) * p : NaN;
    }
    for (let j = 0; j < p; j++) {
      if (!Number.isNaN(rowMajor[xo + j])) continue;
      let size = 0;
      for (let i = 0; i < n; i++) {
        const qi = q[i];
        if (Number.isNaN(rowMajor[i * p + j]) || !(qi === qi)) continue; // (NaN donors omitted: none here)
        if (size === K && qi >= bestQ[K - 1]) continue;
        let pos = size < K ? size++ : K - 1;
        while (pos > 0 && bestQ[pos - 1] > qi) {
          bestQ[pos] = bestQ[pos - 1];
          bestRow[pos] = bestRow[pos - 1];
          pos--;
        }
        bestQ[pos] = qi;
        bestRow[pos] = i;
      }
      let sum = 0;
      for (let t = 0; t < size; t++) sum += rowMajor[bestRow[t] * p + j];
      out.push(sum / size);
    }
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  return { seconds, receivers: receivers.length, cells: out.length };
}

// ---- scikit-learn ----
const PY = `
import sys, time, numpy as np
from sklearn.impute import KNNImputer
n, p, runs = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
X = np.fromfile(sys.argv[1], dtype=np.float32).reshape(p, n).T.astype(np.float64)
times, cpu = [], []
for _ in range(runs):
    c = time.process_time(); t = time.perf_counter(); Y = KNNImputer(n_neighbors=${K}).fit_transform(X); times.append(time.perf_counter() - t)
    cpu.append(time.process_time() - c)
Y.T.astype(np.float32).tofile(sys.argv[1] + '.out')
print(' '.join(repr(t) for t in times))
print(' '.join(repr(t) for t in cpu))
`;

function sklearnAvailable() {
  if (opt['no-sklearn'] || !existsSync('/usr/bin/python3')) return false;
  return spawnSync('/usr/bin/python3', ['-c', 'import sklearn'], { stdio: 'ignore' }).status === 0;
}

async function main() {
  const data = makeTable(12345);
  let receivers = 0;
  {
    const flag = new Uint8Array(n);
    for (const c of data.columns) for (let i = 0; i < n; i++) if (Number.isNaN(c[i])) flag[i] = 1;
    receivers = flag.reduce((a, b) => a + b, 0);
  }
  console.log(`knn benchmark: ${n} x ${p} float32 table, ${receivers} receivers (rows with a missing cell), n_neighbors=${K}, uniform`);

  const nativeTimes = [];
  const nativeCpu = [];
  let result;
  for (let r = 0; r < runs; r++) {
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    result = await knnFitTransform(data, data, { n_neighbors: K }, 1);
    nativeTimes.push(Number(process.hrtime.bigint() - t0) / 1e9);
    const c = process.cpuUsage(c0);
    nativeCpu.push((c.user + c.system) / 1e6);
  }
  const allCoreTimes = [];
  for (let r = 0; r < runs; r++) {
    const t0 = process.hrtime.bigint();
    await knnFitTransform(data, data, { n_neighbors: K }, 0);
    allCoreTimes.push(Number(process.hrtime.bigint() - t0) / 1e9);
  }
  const native = median(nativeTimes);
  const allCores = median(allCoreTimes);

  const jc0 = process.cpuUsage();
  const js = jsKnn(data, Number(opt['js-receivers']));
  const jc = process.cpuUsage(jc0);
  const jsFull = (js.seconds / js.receivers) * receivers;
  const jsCpuFull = ((jc.user + jc.system) / 1e6 / js.receivers) * receivers; // includes the row-major copy

  const nativeCpuMedian = median(nativeCpu);
  const rows = [
    ['native, 1 thread', native, nativeCpuMedian, `median of ${runs}: ${nativeTimes.map((t) => t.toFixed(3)).join(' ')}`],
    ['native, threads=0 (all cores)', allCores, NaN, `median of ${runs}`],
    ['plain JavaScript, 1 thread', jsFull, jsCpuFull, `extrapolated from ${js.receivers} receivers (${js.seconds.toFixed(2)} s)`],
  ];

  let skl;
  let parity = '';
  if (sklearnAvailable()) {
    const dir = mkdtempSync(join(tmpdir(), 'hierimpute-knn-bench-'));
    try {
      const file = join(dir, 'x.f32');
      writeFileSync(file, Buffer.concat(data.columns.map((c) => Buffer.from(c.buffer, c.byteOffset, c.byteLength))));
      const env = { ...process.env, OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1', MKL_NUM_THREADS: '1' };
      const r = spawnSync('/usr/bin/python3', ['-c', PY, file, String(n), String(p), opt['sklearn-runs']], { env, encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`scikit-learn run failed: ${r.stderr}`);
      const [wallLine, cpuLine] = r.stdout.trim().split('\n');
      const times = wallLine.trim().split(/\s+/).map(Number);
      const cpus = cpuLine.trim().split(/\s+/).map(Number);
      skl = median(times);
      rows.push(['scikit-learn 1-thread BLAS', skl, median(cpus), `median of ${times.length}: ${times.map((t) => t.toFixed(2)).join(' ')}`]);
      // agreement on the real-size table (differences come from ties / near-ties in sklearn's inexact distances)
      const y = new Float32Array(readFileSync(file + '.out').buffer.slice(0));
      let cells = 0;
      let differ = 0;
      for (let j = 0; j < p; j++)
        for (let i = 0; i < n; i++) {
          if (!Number.isNaN(data.columns[j][i])) continue;
          cells++;
          const a = result.matrix.columns[j][i];
          const b = y[j * n + i];
          if (Math.abs(a - b) > 1e-5 * Math.max(Math.abs(b), 1e-1)) differ++;
        }
      parity = `agreement with scikit-learn: ${cells - differ} of ${cells} imputed cells within 1e-5 relative (${differ} differ)`;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  } else {
    rows.push(['scikit-learn', NaN, NaN, 'not run (no /usr/bin/python3 with scikit-learn, or --no-sklearn)']);
  }

  console.log('');
  // Wall time and CPU time (CPU time is the fairer number on a shared machine).
  const fmt = (x, d = 3) => (Number.isFinite(x) ? x.toFixed(d) : '-');
  console.log('implementation                  wall s  receivers/s  native speed-up (wall)   cpu s  native speed-up (cpu)   notes');
  for (const [name, s, cpu, note] of rows) {
    const rps = Number.isFinite(s) ? (receivers / s).toFixed(0) : '-';
    const ratio = Number.isFinite(s) ? (s / native).toFixed(1) + 'x' : '-';
    const cpuRatio = Number.isFinite(cpu) ? (cpu / nativeCpuMedian).toFixed(1) + 'x' : '-';
    console.log(
      `${name.padEnd(30)} ${fmt(s).padStart(7)}  ${rps.padStart(11)}  ${ratio.padStart(22)}  ${fmt(cpu).padStart(7)}  ${cpuRatio.padStart(21)}   ${note}`,
    );
  }
  if (parity) console.log(`\n${parity}`);
  console.log(`stats: ${JSON.stringify(result.stats)}`);
}

await main();
