// `hierimpute plan`: the real dispatcher over a virtual-time pool. With a fixed cost model (--costs)
// every number is exact and independent of this machine's speed; one run with real calibration
// checks only the output's structure.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import { planRun } from '../dist/farm/plan.js';
import { presetConfig } from '../dist/engine/config.js';
import { makeData, runCli, tempDir } from './helpers/sweep.js';

const RANKS = [1, 2, 3, 4, 5, 6, 8, 16, 64];
// Whole seconds per node, nothing for loads, outputs and per-task work: the sums are exact.
const FIXED = { methods: { knn: { fixed_s: 1 }, iterative_simple: { fixed_s: 2 }, xgboost: { fixed_s: 3 }, mean: { fixed_s: 0.5 } } };

async function planJson(args) {
  const r = await runCli(['plan', ...args, '--json']);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
}

/** Node seconds and critical path of the quick preset under FIXED, from the tables' band rows. */
function expected(tables) {
  const bands = presetConfig('quick').bands;
  let work = 0;
  let critical = 0;
  for (const t of tables) {
    let width = 1;
    let chain = 0;
    bands.forEach((band, b) => {
      width *= band.methods.length;
      if (t.band_rows[b] === 0) return;
      const costs = band.methods.map((m) => FIXED.methods[m].fixed_s);
      work += (width / band.methods.length) * costs.reduce((a, c) => a + c, 0);
      chain += Math.max(...costs);
    });
    critical = Math.max(critical, chain);
  }
  return { work, critical };
}

test('plan --costs: exact, deterministic predictions from the real dispatcher in virtual time', async () => {
  const dir = tempDir('hi-plan-');
  const data = makeData(join(dir, 'data'));
  const costs = join(dir, 'costs.json');
  writeFileSync(costs, JSON.stringify(FIXED));
  const args = ['--preset', 'quick', '--data', data, '--costs', costs, '--ranks', RANKS.join(',')];
  const plan = await planJson(args);
  assert.deepEqual(await planJson(args), plan, 'the same costs give the same plan');

  assert.equal(plan.tables.length, 2);
  for (const t of plan.tables)
    assert.ok(
      t.band_rows.every((n) => n > 0),
      'makeData fills every band of the quick preset',
    );
  const { work, critical } = expected(plan.tables);
  assert.equal(plan.node_seconds, work);
  assert.equal(plan.critical_path_seconds, critical);
  assert.equal(plan.nodes, 18, '2 tables × 9 prefix-tree nodes');
  assert.equal(plan.items, 8);
  assert.deepEqual(
    plan.ranks.map((r) => r.ranks),
    RANKS,
  );

  const one = plan.ranks[0];
  assert.equal(one.seconds, work, '1 rank: the sum of the node costs (the dispatcher adds no time)');
  assert.equal(one.efficiency, 1);
  assert.equal(plan.ranks[1].seconds, work, '2 ranks: one worker, as slow as one rank');
  for (const [i, r] of plan.ranks.entries()) {
    assert.ok(r.efficiency > 0 && r.efficiency <= 1 + 1e-12, `efficiency of ${r.ranks} ranks: ${r.efficiency}`);
    assert.ok(r.seconds >= plan.critical_path_seconds - 1e-9, `${r.ranks} ranks beat the critical path`);
    assert.ok(Math.abs(r.busy_seconds - work) < 1e-9, 'every node is computed exactly once');
    assert.ok(Math.abs(r.efficiency - r.busy_seconds / (r.workers * r.seconds)) < 1e-12);
    assert.ok(r.idle_share >= 0 && r.idle_share < 1);
    if (i > 0) assert.ok(r.seconds <= plan.ranks[i - 1].seconds + 1e-9, `${r.ranks} ranks slower than ${plan.ranks[i - 1].ranks}`);
  }
  // Enough workers: every chain of dependent nodes starts as soon as it can.
  assert.equal(plan.ranks.at(-1).seconds, critical);
  // The largest rank count with efficiency >= 0.8, and a --time above 1.5 × its prediction.
  const ok = plan.ranks.filter((r) => r.efficiency >= 0.8);
  assert.equal(plan.recommended_ranks, ok.at(-1).ranks);
  assert.ok(plan.sbatch_time_minutes * 60 >= 1.5 * ok.at(-1).seconds);
  assert.equal(plan.calibration_seconds, 0);
  assert.match(plan.advice, /ranks × threads/);
});

test('planRun API: per-table costs and the scaling law; no rank count reaching 0.8 is said so', async () => {
  const config = presetConfig('quick');
  const tables = [{ name: 't', cols: 4, bandRows: [10, 0, 5, 5] }];
  // knn: F × T × k units; band 0: F = T = 10 -> 400 units; band 3: F = 20, T = 5 -> 400 units.
  const costs = {
    methods: { knn: { per_unit_s: 0.01 }, iterative_simple: { fixed_s: 100 }, xgboost: { fixed_s: 1 }, mean: { fixed_s: 2 } },
    tables: { t: { load_s: 0.5 } },
  };
  const plan = await planRun(config, tables, costs, [1, 3, 8]);
  // Band 1 is empty: none of its nodes runs, yet later nodes still differ by its method (as their keys do).
  assert.equal(plan.nodes, 1 + 2 + 4);
  assert.equal(plan.node_seconds, 4 + 2 * 1 + 2 * 2 + 2 * 4);
  assert.equal(plan.ranks[0].seconds, 0.5 + 18, 'one load, then every node');
  assert.equal(plan.critical_path_seconds, 0.5 + 4 + 1 + 4);
  const none = await planRun(config, tables, costs, [8]);
  assert.equal(none.recommended_ranks, null);
  assert.match(none.no_recommendation, /efficiency 0.8/);
});

test('plan with real calibration: structure only (no timing is asserted)', async () => {
  const data = makeData(join(tempDir('hi-plan-'), 'data'), { rows: 120 });
  const plan = await planJson(['--preset', 'quick', '--data', data, '--ranks', '1,3', '--sample-rows', '60']);
  assert.deepEqual(
    plan.ranks.map((r) => r.ranks),
    [1, 3],
  );
  for (const r of plan.ranks) {
    for (const k of ['seconds', 'efficiency', 'idle_share']) assert.ok(Number.isFinite(r[k]) && r[k] >= 0, `${k}: ${r[k]}`);
    assert.ok(r.efficiency > 0 && r.efficiency <= 1 + 1e-9);
  }
  assert.ok(plan.critical_path_seconds > 0 && plan.critical_path_seconds <= plan.ranks.at(-1).seconds + 1e-9);
  assert.ok(plan.calibration_seconds > 0);
  for (const m of ['knn', 'iterative_simple', 'xgboost', 'mean']) assert.ok(plan.costs.tables.alpha_one.methods[m].per_unit_s >= 0, m);
  assert.ok(plan.recommended_ranks === null || [1, 3].includes(plan.recommended_ranks));
  // The calibrated model goes back in through --costs, giving the same predictions.
  const file = join(tempDir('hi-plan-'), 'costs.json');
  writeFileSync(file, JSON.stringify(plan.costs));
  const again = await planJson(['--preset', 'quick', '--data', data, '--ranks', '1,3', '--costs', file]);
  assert.deepEqual(again.ranks, plan.ranks);
});

test('plan is listed by --help and its own help states the cost law; bad --ranks is an error', async () => {
  const help = await runCli(['--help']);
  assert.match(help.stdout, /plan\s+Predict/);
  const own = await runCli(['plan', '--help']);
  assert.match(own.stdout, /knn: F×T×k/);
  assert.match(own.stdout, /gan: min\(F, batch_size\)×k/);
  const bad = await runCli(['plan', '--preset', 'quick', '--data', '.', '--ranks', '0,2']);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /--ranks/);
});
