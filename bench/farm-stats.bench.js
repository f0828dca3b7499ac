// Task-farm statistics from run-summary.json: worker_busy_share (farm efficiency), dataset loads per
// worker rank and rank 0's milliseconds per finished item, for the quick preset at mpiexec -n 3 on 10
// generated tables of 400 × 8; and the start-up time of `hierimpute --version` against `node -e 0`
// (medians of BENCH_REPEATS, default 5).
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { generate } from '../scripts/gen-example-data.mjs';
import { mpirun, noLauncher, root } from '../test/helpers/mpirun.js';
import { median, printTable } from './util.js';

const REPEATS = Number(process.env.BENCH_REPEATS ?? 5);
const cli = join(root, 'dist', 'main.js');

async function farm(base) {
  const data = join(base, 'data');
  mkdirSync(data, { recursive: true });
  for (let i = 0; i < 10; i++)
    writeFileSync(join(data, `t${String(i).padStart(2, '0')}.csv`), generate({ rows: 400, cols: 8, seed: 300 + i, name: `t${i}` }));
  const out = join(base, 'out');
  const r = await mpirun(3, [cli, 'run', '--preset', 'quick', '--data', data, '--out', out, '--progress=false'], { timeoutS: 300 });
  if (r.code !== 0) throw new Error(r.stderr);
  const s = JSON.parse(readFileSync(join(out, 'run-summary.json'), 'utf8'));
  printTable(
    'quick preset, 10 tables × 400 × 8, mpiexec -n 3 (2 workers)',
    ['wall_s', 'worker_busy_share', 'dataset loads per rank', 'cache hits per rank', 'rank-0 ms per item', 'rank-0 ms per reply'],
    [
      [
        s.wall_s.toFixed(2),
        s.worker_busy_share.toFixed(3),
        JSON.stringify(s.dataset_loads),
        JSON.stringify(s.dataset_cache_hits),
        s.rank0_ms_per_item.toFixed(3),
        s.rank0_ms_per_reply.toFixed(3),
      ],
    ],
  );
}

async function startup() {
  const time = async (args) => {
    const t0 = performance.now();
    const r = await noLauncher(args);
    if (r.code !== 0) throw new Error(r.stderr);
    return performance.now() - t0;
  };
  const v = [];
  const e = [];
  for (let i = 0; i < REPEATS; i++) {
    e.push(await time(['-e', '0']));
    v.push(await time([cli, '--version']));
  }
  printTable(
    `start-up, medians of ${REPEATS}`,
    ['node -e 0 (ms)', 'hierimpute --version (ms)', 'ratio'],
    [[median(e).toFixed(0), median(v).toFixed(0), (median(v) / median(e)).toFixed(2)]],
  );
}

export async function main() {
  const base = mkdtempSync(join(tmpdir(), 'hi-bench-farm-'));
  try {
    await farm(base);
    await startup();
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
