// XGBoost imputer (C API): parity with python-xgboost on committed fixtures
// (scripts/parity/trees_reference.py), determinism, edge cases, C API errors, silence.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { loadAddon } from '../dist/bindings/load.js';
import { runXgboost, xgboost } from '../dist/impute/methods/xgboost.js';

// Predictions are compared cell by cell only against the libxgboost version the fixtures were made
// with (python-xgboost wraps the same library); with another version only the RMSE bound applies.
const LIB_VERSION = loadAddon('hierimpute_core').xgboostVersion();

const FIXTURES = new URL('./fixtures/parity/trees/', import.meta.url);
const ctx = { seed: 0, threads: 1 };
const opts = (o = {}) => ({ ...xgboost.defaults, ...o });
const m = (names, cols) => ({ names, columns: cols.map((c) => Float32Array.from(c)), nRows: cols[0].length });

function loadFixture(name) {
  const fx = JSON.parse(readFileSync(new URL(`${name}.json`, FIXTURES), 'utf8'));
  const columns = fx.data.map((c) => Float32Array.from(c, (v) => (v === null ? NaN : v)));
  return { fx, data: { names: fx.names, columns, nRows: fx.nRows } };
}
function hiddenCells(data, out) {
  const vals = [];
  data.columns.forEach((col, j) =>
    col.forEach((v, i) => {
      if (Number.isNaN(v)) vals.push([j, i, out.columns[j][i]]);
    }),
  );
  return vals;
}

for (const name of ['linear', 'nonlinear', 'scaled']) {
  test(`xgboost on ${name} predicts what python XGBRegressor predicts (same libxgboost)`, async () => {
    const { fx, data } = loadFixture(name);
    const out = await xgboost.impute(data, 0, opts(), ctx);
    const cells = hiddenCells(data, out);
    assert.equal(cells.length, fx.xgboost.imputed.length);
    let maxRel = 0,
      s = 0;
    cells.forEach(([j, i, v], k) => {
      const ref = fx.xgboost.imputed[k];
      maxRel = Math.max(maxRel, Math.abs(v - ref) / Math.max(1e-6, Math.abs(ref)));
      s += (v - fx.truth[j][i]) ** 2;
    });
    if (LIB_VERSION === fx.versions.xgboost) assert.ok(maxRel <= 1e-5, `${name}: largest relative difference to python ${maxRel}`);
    const rmse = Math.sqrt(s / cells.length);
    assert.ok(rmse <= fx.xgboost.rmse * 1.05, `${name}: RMSE ${rmse} vs python ${fx.xgboost.rmse}`);
    // observed cells untouched
    data.columns.forEach((col, j) =>
      col.forEach((v, i) => {
        if (!Number.isNaN(v)) assert.equal(out.columns[j][i], v);
      }),
    );
  });
}

test('bit-identical for any thread count (columns in parallel, boosters single-threaded)', async () => {
  const { data } = loadFixture('nonlinear');
  const o = opts({ n_estimators: 30 });
  const a = await xgboost.impute(data, 0, o, { seed: 1, threads: 1 });
  for (const threads of [2, 0, 16]) {
    const b = await xgboost.impute(data, 0, o, { seed: 1, threads });
    b.columns.forEach((col, j) => assert.deepEqual(col, a.columns[j]));
  }
});

test('fits on all rows, returns rows targetStart..n-1 (equal to the same rows of a full run)', async () => {
  const { data } = loadFixture('scaled');
  const o = opts({ n_estimators: 20 });
  const full = await xgboost.impute(data, 0, o, ctx);
  const tail = await xgboost.impute(data, 500, o, ctx);
  assert.equal(tail.nRows, data.nRows - 500);
  tail.columns.forEach((col, j) => assert.deepEqual(col, full.columns[j].subarray(500)));
});

test('edge cases: nothing missing, one column, a row with no observed cell, one observed row', async () => {
  const complete = m(
    ['a', 'b'],
    [
      [1, 2, 3],
      [4, 5, 6],
    ],
  );
  const same = await xgboost.impute(complete, 0, opts(), ctx);
  same.columns.forEach((c, j) => assert.deepEqual(c, complete.columns[j]));

  const one = await xgboost.impute(m(['x'], [[1, NaN, 3, NaN, 8]]), 0, opts(), ctx);
  assert.deepEqual(Array.from(one.columns[0]), [1, 4, 3, 4, 8]); // no feature: the column mean

  const emptyRow = m(
    ['a', 'b', 'c'],
    [
      [1, 2, NaN, 4, 5, 6],
      [2, 4, NaN, 8, 10, 12],
      [1, 1, NaN, 2, 2, 3],
    ],
  );
  const filled = await xgboost.impute(emptyRow, 0, opts(), ctx);
  for (const c of filled.columns) assert.ok(Number.isFinite(c[2]));

  const single = await xgboost.impute(
    m(
      ['a', 'b'],
      [
        [5, NaN],
        [1, 2],
      ],
    ),
    0,
    opts(),
    ctx,
  );
  assert.ok(Math.abs(single.columns[0][1] - 5) < 1e-3, `one training row: predicts its value (got ${single.columns[0][1]})`);
});

test('a column to impute with no observed value: an error naming it, or 0 with empty_columns=zero', async () => {
  const data = m(
    ['a', 'ghost'],
    [
      [1, NaN, 3],
      [NaN, NaN, NaN],
    ],
  );
  await assert.rejects(xgboost.impute(data, 0, opts(), ctx), (err) => {
    assert.match(err.message, /^xgboost: column 'ghost' has no observed value in the 3 fit rows.*empty_columns=zero/);
    assert.deepEqual([err.code, err.column], ['HIERIMPUTE_EMPTY_COLUMN', 1]);
    return true;
  });
  const z = await xgboost.impute(data, 0, opts({ empty_columns: 'zero' }), ctx);
  assert.deepEqual(Array.from(z.columns[1]), [0, 0, 0]);
  assert.ok(Math.abs(z.columns[0][1] - 2) < 1e-4, `only all-missing features: about the column mean (got ${z.columns[0][1]})`);
});

test('XGBoost C API errors surface with XGBGetLastError text', async () => {
  const data = m(
    ['a', 'b'],
    [
      [1, NaN, 3, 4],
      [1, 2, 3, 4],
    ],
  );
  await assert.rejects(
    runXgboost(data, 0, { nEstimators: 2, maxDepth: 3, learningRate: 0.3, treeMethod: 'no-such-method', seed: 0, threads: 1 }),
    (err) => /^xgboost: XGBoost C API XGBoosterUpdateOneIter failed: .*no-such-method/s.test(err.message) || assert.fail(err.message),
  );
});

test('options are validated with messages naming the option', async () => {
  const data = m(
    ['a', 'b'],
    [
      [1, NaN, 3],
      [1, 2, 3],
    ],
  );
  await assert.rejects(xgboost.impute(data, 0, opts({ n_estimators: 0 }), ctx), /xgboost: option n_estimators must be an integer/);
  await assert.rejects(xgboost.impute(data, 0, opts({ max_depth: 'deep' }), ctx), /option max_depth/);
  await assert.rejects(xgboost.impute(data, 0, opts({ learning_rate: 0 }), ctx), /option learning_rate/);
  await assert.rejects(xgboost.impute(data, 0, opts({ tree_method: 'gpu_hist' }), ctx), /option tree_method must be one of hist, approx, exact/);
});

test('XGBoost writes nothing to stdout or stderr', () => {
  const dist = fileURLToPath(new URL('../dist/impute/methods/xgboost.js', import.meta.url));
  const script = `import { xgboost } from ${JSON.stringify(dist)};
    const c = Array.from({ length: 200 }, (_, i) => i % 7 === 0 ? NaN : Math.sin(i));
    const d = { names: ['a', 'b', 'c'], columns: [Float32Array.from(c), Float32Array.from(c, (v, i) => i), Float32Array.from(c, (v, i) => i * 2)], nRows: 200 };
    await xgboost.impute(d, 0, { ...xgboost.defaults, n_estimators: 5 }, { seed: 0, threads: 2 });`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', env: process.env });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, '');
  assert.equal(r.stderr, '');
});
