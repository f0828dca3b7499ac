// The MPI task farm: dispatcher throughput with trivial tasks (goal ≥ 10,000 round trips/s) and
// end-to-end time of the `quick` sweep on the example data on 1, 2 and 4 ranks (ratios vs 1 rank).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { mpirun, noLauncher, root } from '../test/helpers/mpirun.js';
import { median, printTable } from './util.js';

const REPEATS = Number(process.env.BENCH_REPEATS ?? 3);
const cli = join(root, 'dist', 'main.js');

async function throughput(n) {
  const r = await mpirun(n, [join(root, 'bench', 'dispatcher-node.js'), '20000'], { timeoutS: 120 });
  if (r.code !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout.trim().split('\n').pop()).per_second;
}

async function sweep(n) {
  const out = mkdtempSync(join(tmpdir(), 'hi-bench-'));
  const args = [cli, 'run', '--preset', 'quick', '--data', join(root, 'examples', 'data'), '--out', out, '--progress=false'];
  const t0 = Date.now();
  const r = n === 1 ? await noLauncher(args) : await mpirun(n, args, { timeoutS: 300 });
  const wall = (Date.now() - t0) / 1000;
  if (r.code !== 0) throw new Error(r.stderr);
  const s = JSON.parse(readFileSync(join(out, 'run-summary.json'), 'utf8'));
  rmSync(out, { recursive: true, force: true });
  return { wall, inner: s.wall_s, requeues: s.requeues_without_progress };
}

export async function main() {
  const rows = [];
  for (const n of [2, 4]) {
    const v = [];
    for (let i = 0; i < REPEATS; i++) v.push(await throughput(n));
    rows.push([`${n} ranks (${n - 1} workers)`, `${Math.round(median(v))}/s`, `${(median(v) / 10000).toFixed(1)}× goal`]);
  }
  printTable(`Dispatcher round trips with trivial tasks (20,000 tasks), medians of ${REPEATS}`, ['ranks', 'tasks/s', 'vs 10,000/s'], rows);
  const sweepRows = [];
  let base;
  for (const n of [1, 2, 4]) {
    const runs = [];
    for (let i = 0; i < REPEATS; i++) runs.push(await sweep(n));
    const wall = median(runs.map((r) => r.wall));
    const inner = median(runs.map((r) => r.inner));
    base ??= wall;
    sweepRows.push([n, `${wall.toFixed(2)} s`, `${inner.toFixed(2)} s`, `${(base / wall).toFixed(2)}×`, Math.max(...runs.map((r) => r.requeues))]);
  }
  printTable(
    `quick sweep on examples/data (4 sequences × 2 datasets), medians of ${REPEATS}; 2 cores, so >2 ranks are oversubscribed`,
    ['ranks', 'wall (incl. launch)', 'sweep (run-summary wall_s)', 'speed-up vs 1', 'requeues w/o progress'],
    sweepRows,
  );
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
