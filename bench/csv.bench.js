// CSV and Arrow IPC throughput: native CSV read/write vs a plain JavaScript parse/format of the same
// file, plus .arrow read/write. 200,000 rows x 32 columns by default (BENCH_CSV_ROWS, BENCH_CSV_COLS),
// ~10 % missing cells; medians of BENCH_REPEATS runs (default 3). Native rows use threads 1 unless
// marked threads 0 (all cores).
// Standalone: `HIERIMPUTE_NATIVE_DIR=build/Release node bench/csv.bench.js`, or via `npm run bench csv`.
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

import { readMatrix, writeMatrix } from '../dist/tables/io.js';
import { makeMatrix } from '../dist/tables/matrix.js';
import { median, printTable } from './util.js';

const ROWS = Number(process.env.BENCH_CSV_ROWS ?? 200_000);
const COLS = Number(process.env.BENCH_CSV_COLS ?? 32);
const REPEATS = Number(process.env.BENCH_REPEATS ?? 3);

function randomMatrix() {
  let s = 42;
  const rnd = () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 4294967296;
  const names = Array.from({ length: COLS }, (_, c) => `feature_${c}`);
  const columns = names.map((_, c) => {
    const col = new Float32Array(ROWS);
    const scale = 10 ** ((c % 7) - 2);
    for (let r = 0; r < ROWS; r++) col[r] = rnd() < 0.1 ? NaN : (rnd() - 0.3) * scale;
    return col;
  });
  return makeMatrix(names, columns);
}

/** The baseline: what one would write in plain TypeScript without the native parser. */
function jsParse(path) {
  const lines = readFileSync(path, 'utf8').split('\n');
  const names = lines[0].split(',');
  const n = lines[lines.length - 1] === '' ? lines.length - 2 : lines.length - 1;
  const columns = names.map(() => new Float32Array(n));
  for (let r = 0; r < n; r++) {
    const f = lines[r + 1].split(',');
    for (let c = 0; c < f.length; c++) columns[c][r] = f[c] === '' ? NaN : Number(f[c]);
  }
  return makeMatrix(names, columns);
}

function jsFormat(m, path) {
  const out = [m.names.join(',')];
  for (let r = 0; r < m.nRows; r++) {
    const cells = new Array(m.columns.length);
    for (let c = 0; c < m.columns.length; c++) {
      const v = m.columns[c][r];
      cells[c] = Number.isNaN(v) ? '' : String(v); // shortest float64 text: NOT float32-shortest
    }
    out.push(cells.join(','));
  }
  writeFileSync(path, out.join('\n') + '\n');
}

/** Median wall time and median CPU time (all threads of this process; robust on a shared machine). */
async function time(fn) {
  const wall = [];
  const cpu = [];
  for (let i = 0; i < REPEATS; i++) {
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    await fn();
    wall.push(Number(process.hrtime.bigint() - t0) / 1e9);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1e6);
  }
  return { wall: median(wall), cpu: median(cpu) };
}

export async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'hierimpute-csv-bench-'));
  try {
    const m = randomMatrix();
    const csv = join(dir, 'data.csv');
    const arrowPath = join(dir, 'data.arrow');
    await writeMatrix(m, csv);
    await writeMatrix(m, arrowPath);
    const mb = statSync(csv).size / 1e6;
    const check = await readMatrix(csv);
    if (check.nRows !== ROWS) throw new Error(`read back ${check.nRows} rows, expected ${ROWS}`);

    const cases = [
      ['native CSV read (readMatrix .csv)', () => readMatrix(csv)],
      ['plain JS CSV parse', () => jsParse(csv)],
      ['native CSV write (writeMatrix .csv)', () => writeMatrix(m, join(dir, 'out.csv'))],
      ['plain JS CSV format + writeFileSync', () => jsFormat(m, join(dir, 'out-js.csv'))],
      [`native CSV read, threads 0 (${cpus().length} cores)`, () => readMatrix(csv, { threads: 0 })],
      [`native CSV write, threads 0 (${cpus().length} cores)`, () => writeMatrix(m, join(dir, 'out0.csv'), { threads: 0 })],
      ['Arrow IPC read (readMatrix .arrow)', () => readMatrix(arrowPath)],
      ['Arrow IPC write (writeMatrix .arrow)', () => writeMatrix(m, join(dir, 'out.arrow'))],
    ];
    const res = [];
    for (const [, fn] of cases) res.push(await time(fn));
    const secs = res.map((r) => r.wall);
    const rows = cases.map(([name], i) => [
      name,
      `${(secs[i] * 1000).toFixed(0)} ms`,
      `${(res[i].cpu * 1000).toFixed(0)} ms`,
      `${(ROWS / secs[i] / 1e6).toFixed(2)} M rows/s`,
      `${((ROWS * COLS) / secs[i] / 1e6).toFixed(1)} M cells/s`,
    ]);
    rows[0].push(`${(secs[1] / secs[0]).toFixed(1)}× faster than plain JS (CPU ${(res[1].cpu / res[0].cpu).toFixed(1)}×)`);
    rows[2].push(`${(secs[3] / secs[2]).toFixed(1)}× faster than plain JS (CPU ${(res[3].cpu / res[2].cpu).toFixed(1)}×)`);
    for (const r of rows) if (r.length < 6) r.push('');
    printTable(
      `CSV ${ROWS} × ${COLS} (${mb.toFixed(1)} MB), medians of ${REPEATS} runs; load average ${loadavg()[0].toFixed(1)} on ${cpus().length} cores`,
      ['case', 'wall', 'CPU', 'rows/s (wall)', 'cells/s (wall)', 'note'],
      rows,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
