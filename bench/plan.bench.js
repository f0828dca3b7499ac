// The run planner (`hierimpute plan`, docs/plan.md):
// 1. its predicted efficiency for the seed preset (64 sequences, 18 bands) at 16/64/256/1024 ranks on
//    8 generated tables of 20,000 × 20. Calibrated once, on one of them (the 8 are generated alike),
//    and that cost model given to all 8 (plan --costs), to keep the entry short;
// 2. predicted vs measured wall time (run-summary.json wall_s) of the quick preset on 4 generated
//    tables of 3,000 × 10 at 1, 2 and 3 ranks (each prediction calibrated just before its run, with
//    --same-host: the runs share this machine with other jobs), with
//    the predicted node seconds (every node once, with its per-task cost) beside the measured ones
//    (run-summary.json seconds_per_method, summed).
// BENCH_PLAN_SCALE=0 skips part 1, BENCH_PLAN_CHECK=0 part 2.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';

import { generate } from '../scripts/gen-example-data.mjs';
import { mpirun, noLauncher, root } from '../test/helpers/mpirun.js';
import { printTable } from './util.js';

const cli = join(root, 'dist', 'main.js');

function tables(dir, n, rows, cols) {
  mkdirSync(dir, { recursive: true });
  for (let i = 0; i < n; i++) writeFileSync(join(dir, `t${String(i).padStart(2, '0')}.csv`), generate({ rows, cols, seed: 100 + i, name: `t${i}` }));
  return dir;
}

async function plan(args) {
  const r = await noLauncher([cli, 'plan', ...args, '--json'], { hardTimeoutMs: 600_000 });
  if (r.code !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout);
}

async function seedAtScale(base) {
  const one = tables(join(base, 'one'), 1, 20_000, 20);
  const eight = tables(join(base, 'eight'), 8, 20_000, 20);
  const cal = await plan(['--preset', 'seed', '--data', one, '--ranks', '1']);
  const costs = join(base, 'costs.json');
  writeFileSync(costs, JSON.stringify(cal.costs.tables.t00));
  const p = await plan(['--preset', 'seed', '--data', eight, '--ranks', '16,64,256,1024', '--costs', costs]);
  const m = cal.costs.tables.t00.methods;
  printTable(
    `seed preset, 8 tables × 20,000 × 20 (${p.nodes} nodes, ${p.items} items): node work ${p.node_seconds.toFixed(0)} s, critical path ${p.critical_path_seconds.toFixed(0)} s; ` +
      `calibrated in ${cal.calibration_seconds.toFixed(1)} s on one table`,
    ['ranks', 'predicted wall (s)', 'efficiency', 'idle share', 'dataset loads'],
    p.ranks.map((r) => [r.ranks, r.seconds.toFixed(0), r.efficiency.toFixed(3), r.idle_share.toFixed(3), r.dataset_loads]),
  );
  process.stdout.write(`recommended ranks: ${p.recommended_ranks ?? `none (${p.no_recommendation})`}\n`);
  process.stdout.write(
    `calibrated costs (s; per call, per model, per unit): ${Object.entries(m)
      .map(([k, v]) => `${k} ${(v.fixed_s ?? 0).toFixed(3)} / ${(v.per_model_s ?? 0).toFixed(3)} / ${(v.per_unit_s ?? 0).toExponential(2)}`)
      .join(', ')}; ` +
      `load ${cal.costs.tables.t00.load_s.toFixed(2)} s, outputs ${cal.costs.tables.t00.output_s.toFixed(2)} s, per task ${(cal.costs.tables.t00.task_s * 1000).toFixed(1)} ms\n`,
  );
}

async function realRun(data, n) {
  const out = mkdtempSync(join(tmpdir(), 'hi-bench-'));
  const args = [cli, 'run', '--preset', 'quick', '--data', data, '--out', out, '--progress=false'];
  const r = n === 1 ? await noLauncher(args, { hardTimeoutMs: 600_000 }) : await mpirun(n, args, { timeoutS: 600 });
  if (r.code !== 0) throw new Error(r.stderr);
  const s = JSON.parse(readFileSync(join(out, 'run-summary.json'), 'utf8'));
  rmSync(out, { recursive: true, force: true });
  return { wall: s.wall_s, nodes: Object.values(s.seconds_per_method).reduce((a, b) => a + b, 0) };
}

async function predictedVsMeasured(base) {
  const data = tables(join(base, 'check'), 4, 3000, 10);
  const rows = [];
  for (const n of [1, 2, 3]) {
    // The runs share this machine: --same-host measures what concurrent workers get of it.
    const p = await plan(['--preset', 'quick', '--data', data, '--ranks', String(n), '--same-host']);
    const load = loadavg()[0];
    const { wall, nodes } = await realRun(data, n);
    const predicted = p.ranks[0].seconds;
    rows.push([
      n,
      predicted.toFixed(2),
      wall.toFixed(2),
      `${(((predicted - wall) / wall) * 100).toFixed(0)} %`,
      `${p.node_seconds.toFixed(2)} / ${nodes.toFixed(2)}`,
      p.calibration_seconds.toFixed(1),
      p.costs.host_parallelism.map((v) => v.toFixed(2)).join(' '),
      load.toFixed(1),
    ]);
  }
  printTable(
    'quick preset, 4 tables × 3,000 × 10: predicted vs measured (run-summary.json wall_s)',
    ['ranks', 'predicted (s)', 'measured (s)', 'error', 'node s predicted / measured', 'calibration (s)', 'host parallelism', 'load avg (2 cores)'],
    rows,
  );
}

export async function main() {
  const base = mkdtempSync(join(tmpdir(), 'hi-bench-plan-'));
  try {
    if (process.env.BENCH_PLAN_SCALE !== '0') await seedAtScale(base);
    if (process.env.BENCH_PLAN_CHECK !== '0') await predictedVsMeasured(base);
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
