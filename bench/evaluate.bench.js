// Evaluation overhead (issue 7): what `run --evaluate` adds to a sweep, as a share of the sweep's
// own time (run-summary.json wall_s). Goal: scoring under 5 %. Timings come from OUT/evaluation.json:
// masking (before the sweep), scoring (reading every output table + the mask, scoring, writing the
// leaderboard), plots + report (Vega-Lite SVGs, report.html). --refit-best is imputation work the
// user asks for, so it is not counted (it is printed separately).
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { generate } from '../scripts/gen-example-data.mjs';
import { noLauncher, root } from '../test/helpers/mpirun.js';
import { median, printTable } from './util.js';

const REPEATS = Number(process.env.BENCH_REPEATS ?? 3);
const cli = join(root, 'dist', 'main.js');

function bigData() {
  const dir = mkdtempSync(join(tmpdir(), 'hi-bench-evdata-'));
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'wide-a.csv'), generate({ rows: 4000, cols: 16, seed: 21, name: 'w' }));
  writeFileSync(join(dir, 'wide-b.csv'), generate({ rows: 3000, cols: 12, seed: 22, name: 'v' }));
  return dir;
}

async function once(data, extra = []) {
  const out = mkdtempSync(join(tmpdir(), 'hi-bench-eval-'));
  const r = await noLauncher([cli, 'run', '--preset', 'quick', '--data', data, '--out', out, '--progress=false', '--evaluate', ...extra], {
    hardTimeoutMs: 600_000,
  });
  if (r.code !== 0) throw new Error(r.stderr);
  const ev = JSON.parse(readFileSync(join(out, 'evaluation.json'), 'utf8'));
  const cells = Object.values(ev.hidden_cells).reduce((a, b) => a + b, 0);
  rmSync(out, { recursive: true, force: true });
  return { ...ev.seconds, sweep: ev.sweep_s, cells };
}

export async function main() {
  const scenarios = [
    ['quick preset, examples/data (2 tables, 600 + 400 rows; 4 sequences)', join(root, 'examples', 'data'), REPEATS],
    ['quick preset, generated 4000×16 + 3000×12 (4 sequences)', bigData(), Math.max(1, Math.min(REPEATS, 2))],
  ];
  const rows = [];
  for (const [name, data, n] of scenarios) {
    const runs = [];
    for (let i = 0; i < n; i++) runs.push(await once(data, ['--refit-best']));
    const m = (k) => median(runs.map((r) => r[k]));
    const pct = (x) => `${((100 * x) / m('sweep')).toFixed(2)} %`;
    rows.push([
      name,
      runs[0].cells,
      `${m('sweep').toFixed(2)} s`,
      `${(1000 * m('masking')).toFixed(1)} ms`,
      `${(1000 * m('scoring')).toFixed(1)} ms`,
      `${(1000 * (m('plots') + m('report'))).toFixed(0)} ms`,
      pct(m('scoring')),
      pct(m('masking') + m('scoring') + m('plots') + m('report')),
      `${m('refit').toFixed(2)} s`,
    ]);
  }
  printTable(
    `run --evaluate overhead vs the sweep's own wall time (medians; goal: scoring < 5 %)`,
    ['scenario', 'hidden cells', 'sweep', 'masking', 'scoring', 'plots+report', 'scoring share', 'all evaluation share', 'refit-best (not counted)'],
    rows,
  );
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
