// `hierimpute plan`: the real dispatcher over a virtual-time pool. With a fixed cost model (--costs)
// every number is exact and independent of this machine's speed; one run with real calibration
// checks only the output's structure.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import { methodCost } from '../dist/farm/calibrate.js';
import { Costs, costUnits, nodeShape, planRun } from '../dist/farm/plan.js';
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

test("the cost law scales by the band's receivers and missing columns; a band without a missing cell costs fixed_s only", async () => {
  const t = { name: 't', cols: 4, bandRows: [10, 6, 5], bandReceivers: [2, 6, 0], bandColumns: [1, 3, 0] };
  assert.deepEqual(nodeShape(t, 1), { fit: 16, rows: 6, receivers: 6, columns: 3, cols: 4 });
  // Without the band statistics every band row is a receiver and every column is missing in it.
  assert.deepEqual(nodeShape({ name: 'u', cols: 4, bandRows: [10, 6] }, 1), { fit: 16, rows: 6, receivers: 6, columns: 4, cols: 4 });
  assert.deepEqual(costUnits('knn', nodeShape(t, 0)), { models: 0, units: 2 * 10 * 4 });
  assert.deepEqual(costUnits('xgboost', nodeShape(t, 1)), { models: 3, units: 3 * 16 * 4 });
  assert.deepEqual(costUnits('iterative_linear', nodeShape(t, 0)), { models: 1, units: 1 * 10 * 4 });
  assert.deepEqual(costUnits('mean', nodeShape(t, 1)), { models: 0, units: 16 * 4 });
  assert.deepEqual(costUnits('gan', nodeShape(t, 1), { batch_size: 8 }), { models: 0, units: 8 * 4 });
  for (const m of ['knn', 'xgboost', 'mean', 'lstm', 'gan']) assert.deepEqual(costUnits(m, nodeShape(t, 2)), { models: 0, units: 0 }, m);
  const config = presetConfig('quick');
  const costs = new Costs({ methods: { xgboost: { fixed_s: 0.5, per_model_s: 2, per_unit_s: 0.01 }, knn: { fixed_s: 1, per_unit_s: 0.5 } } }, config);
  assert.equal(costs.node(t, 1, 'xgboost'), 0.5 + 2 * 3 + 0.01 * 192);
  assert.equal(costs.node(t, 2, 'xgboost'), 0.5, 'nothing to impute: the call only');
  assert.equal(costs.node(t, 0, 'knn'), 1 + 0.5 * 80);
});

test('workers sharing one machine (host_parallelism): busy workers split its throughput', async () => {
  const config = presetConfig('quick');
  const tables = [
    { name: 'a', cols: 4, bandRows: [10, 6, 5, 8] },
    { name: 'b', cols: 4, bandRows: [7, 3, 9, 2] },
  ];
  const own = await planRun(config, tables, FIXED, [1, 3, 8]);
  const work = own.node_seconds;
  // Two cores: two workers run as if each had its own, so 3 ranks predict exactly the same.
  const twoCores = await planRun(config, tables, { ...FIXED, host_parallelism: [1, 2] }, [1, 3, 8]);
  assert.deepEqual(twoCores.ranks.slice(0, 2), own.ranks.slice(0, 2));
  // ... but 7 workers get at most the throughput of 2.
  assert.ok(twoCores.ranks[2].seconds >= work / 2 - 1e-9 && twoCores.ranks[2].seconds > own.ranks[2].seconds);
  // One core's worth of throughput whatever the count: every rank count takes the whole work.
  const oneCore = await planRun(config, tables, { ...FIXED, host_parallelism: [1, 1] }, [1, 3, 8]);
  for (const r of oneCore.ranks) assert.ok(Math.abs(r.seconds - work) < 1e-6, `${r.ranks} ranks: ${r.seconds} vs ${work}`);
  assert.ok(oneCore.ranks[2].efficiency < 0.2);
});

test('calibration fit: per call and per unit, or per model and per unit for the per-column-model methods', () => {
  // knn: 1 s + 0.001 s per unit, timed at 2000 and 1000 units.
  assert.deepEqual(methodCost('knn', { t: 3, models: 0, units: 2000 }, { t: 2, models: 0, units: 1000 }), { fixed_s: 1, per_unit_s: 0.001 });
  // xgboost: per model 0.25 s + 0.0005 s per unit, on 4 models at 400 and 200 fit rows × 2 columns (units 3200, 1600).
  const big = { t: 4 * (0.25 + 0.0005 * 800), models: 4, units: 3200 };
  const small = { t: 4 * (0.25 + 0.0005 * 400), models: 4, units: 1600 };
  const c = methodCost('xgboost', big, small);
  assert.equal(c.fixed_s, 0);
  assert.ok(Math.abs(c.per_model_s - 0.25) < 1e-12 && Math.abs(c.per_unit_s - 0.0005) < 1e-12, JSON.stringify(c));
  // Timing noise (the smaller sample not faster): everything per call (per model).
  assert.deepEqual(methodCost('xgboost', { t: 2, models: 4, units: 3200 }, { t: 2.5, models: 4, units: 1600 }), {
    fixed_s: 0,
    per_model_s: 0.5,
    per_unit_s: 0,
  });
});

test('plan with real calibration: structure only (no timing is asserted)', async () => {
  const data = makeData(join(tempDir('hi-plan-'), 'data'), { rows: 120 });
  const plan = await planJson(['--preset', 'quick', '--data', data, '--ranks', '1,3', '--sample-rows', '60', '--same-host']);
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
  for (const m of ['iterative_simple', 'xgboost']) assert.ok(plan.costs.tables.alpha_one.methods[m].per_model_s >= 0, m);
  // Per band: rows, rows with a missing cell, columns with a missing cell, as read from the table.
  for (const t of plan.tables) {
    assert.equal(t.band_receivers.length, t.band_rows.length);
    t.band_receivers.forEach((r, b) => assert.ok(r <= t.band_rows[b] && r > 0 === t.band_missing_columns[b] > 0, `${t.name} band ${b}`));
    assert.ok(t.band_missing_columns.every((c) => c <= t.cols));
    // makeData: complete rows fall in band 0, every row of a later band misses a cell.
    assert.ok(t.band_receivers[0] < t.band_rows[0]);
    assert.deepEqual(t.band_receivers.slice(1), t.band_rows.slice(1));
  }
  assert.ok(plan.recommended_ranks === null || [1, 3].includes(plan.recommended_ranks));
  // --same-host: the throughput of 1 and 2 busy workers (3 ranks), relative to one.
  assert.equal(plan.costs.host_parallelism.length, 2);
  assert.equal(plan.costs.host_parallelism[0], 1);
  assert.ok(plan.costs.host_parallelism[1] >= 1 && plan.costs.host_parallelism[1] <= 2);
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
  assert.match(own.stdout, /knn: units R×F×k/);
  assert.match(own.stdout, /xgboost: models C, units C×F×k/);
  assert.match(own.stdout, /gan: min\(F, batch_size\)×k/);
  const bad = await runCli(['plan', '--preset', 'quick', '--data', '.', '--ranks', '0,2']);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /--ranks/);
});
