// Neural imputers lstm / rnn / gan: the native C++ kernels (tf_backend native, what auto picks)
// and TensorFlow.js (wasm backend; never needs tfjs-node).
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { test } from 'node:test';

import { generateCorrelated, meanImpute, rmse } from '../scripts/gen-correlated.mjs';
import { gan } from '../dist/impute/methods/gan.js';
import { lstm } from '../dist/impute/methods/lstm.js';
import { neuralAddon } from '../dist/impute/methods/neural-common.js';
import { rnn } from '../dist/impute/methods/rnn.js';
import { parseParams } from '../dist/impute/options.js';
import { getImputer } from '../dist/impute/registry.js';
import { liveTensors, loadTf, setDefaultTfBackend, TfBackendError } from '../dist/tf/backend.js';
import { describeTfBackend } from '../dist/tf/detect.js';

const ctx = { seed: 42, threads: 1 };
const matrix = (names, columns) => ({ names, columns, nRows: columns[0]?.length ?? 0 });
const bytes = (m) => m.columns.map((c) => Buffer.from(c.buffer, c.byteOffset, c.byteLength).toString('hex')).join('|');

// 200 rows x 5 columns driven by 2 latent factors; 20 % of the cells hidden (known truth).
const table = generateCorrelated({ rows: 200, cols: 5, factors: 2, missing: 0.2, seed: 7 });
const data = matrix(table.names, table.data);
const meanRmse = rmse(table.data, table.truth, meanImpute(table.data));

// Small but sufficient training budgets (seconds each on wasm).
const quick = {
  lstm: { epochs: 30, learning_rate: 0.03, units: 16, latent_dim: 2, mask_rate: 0 },
  rnn: { max_epochs: 30, patience: 30, learning_rate: 0.03, units: 16 },
  gan: { iterations: 800 },
};
const tiny = { lstm: { epochs: 2, units: 8 }, rnn: { max_epochs: 2, units: 8 }, gan: { iterations: 30 } };
const methods = { lstm, rnn, gan };
const opts = (name, extra = {}) => ({ ...methods[name].defaults, tf_backend: 'wasm', ...extra });

function assertObservedKept(input, targetStart, out) {
  assert.equal(out.nRows, input.nRows - targetStart);
  assert.deepEqual(out.names, input.names);
  for (let j = 0; j < input.columns.length; j++) {
    for (let i = 0; i < out.nRows; i++) {
      const v = input.columns[j][targetStart + i];
      const w = out.columns[j][i];
      assert.ok(Number.isFinite(w), `column ${j} row ${i} is ${w}`);
      if (!Number.isNaN(v)) assert.ok(Object.is(v, w), `observed cell (${targetStart + i}, ${j}) changed: ${v} -> ${w}`);
    }
  }
}

for (const name of ['lstm', 'rnn', 'gan']) {
  test(`${name} beats mean imputation on correlated data (RMSE of hidden cells)`, async (t) => {
    const before = liveTensors();
    const out = await methods[name].impute(data, 0, opts(name, quick[name]), ctx);
    assertObservedKept(data, 0, out);
    const r = rmse(table.data, table.truth, out.columns);
    t.diagnostic(`${name} RMSE ${r.toFixed(3)}, mean imputation ${meanRmse.toFixed(3)}`);
    assert.ok(r < 0.85 * meanRmse, `${name}: RMSE ${r.toFixed(3)} vs mean ${meanRmse.toFixed(3)}`);
    assert.equal(liveTensors(), before, `${name} leaked tensors`);
  });

  test(`${name} is deterministic, fits on all rows and returns only the target rows`, async () => {
    const a = await methods[name].impute(data, 120, opts(name, tiny[name]), ctx);
    const b = await methods[name].impute(data, 120, opts(name, tiny[name]), ctx);
    assertObservedKept(data, 120, a);
    assert.equal(bytes(a), bytes(b));
    const c = await methods[name].impute(data, 120, opts(name, tiny[name]), { seed: 43, threads: 1 });
    assert.notEqual(bytes(a), bytes(c), 'the seed must matter');
    const d = await methods[name].impute(data, 120, opts(name, tiny[name]), { seed: 42, threads: 4 });
    assert.equal(bytes(a), bytes(d), 'threads must not change the output');
  });
}

test('training yields to the event loop', async () => {
  // A chain of setImmediate callbacks advances once per turn of the event loop: it counts the
  // turns training gives back, whatever the speed of the machine.
  let turns = 0;
  let running = true;
  const spin = () => {
    turns++;
    if (running) setImmediate(spin);
  };
  setImmediate(spin);
  await gan.impute(data, 0, opts('gan', { iterations: 60 }), ctx);
  running = false;
  assert.ok(turns >= 30, `only ${turns} event-loop turns ran during 60 training iterations`);
});

test('nothing to impute: rows come back unchanged (copies)', async () => {
  const cols = [new Float32Array([1, 2, NaN, 4]), new Float32Array([5, 6, 7, 8])];
  const out = await lstm.impute(matrix(['a', 'b'], cols), 3, opts('lstm'), ctx);
  assert.deepEqual([...out.columns[0]], [4]);
  assert.deepEqual([...out.columns[1]], [8]);
  assert.notEqual(out.columns[1].buffer, cols[1].buffer);
  const none = await rnn.impute(matrix(['a', 'b'], cols), 4, opts('rnn'), ctx);
  assert.equal(none.nRows, 0);
});

test('width 1: documented fallback to the column mean', async () => {
  const col = new Float32Array([1, 2, NaN, 6, NaN]);
  for (const m of [lstm, rnn, gan]) {
    const out = await m.impute(matrix(['x'], [col]), 0, opts(m.name), ctx);
    assert.deepEqual(
      [...out.columns[0]].map((v) => +v.toFixed(4)),
      [1, 2, 3, 6, 3],
    );
  }
});

test('bad input: clear errors naming the problem', async () => {
  const nan = () => new Float32Array([NaN, NaN, NaN]);
  await assert.rejects(lstm.impute(matrix(['a', 'b'], [nan(), nan()]), 0, opts('lstm'), ctx), /all 6 cells of the table are missing/);
  await assert.rejects(
    gan.impute(matrix(['a', 'b'], [new Float32Array([1, NaN, NaN]), new Float32Array([2, NaN, NaN])]), 0, opts('gan'), ctx),
    /too few rows to train: 1 row\(s\)/,
  );
  const withEmpty = matrix(['a', 'empty'], [new Float32Array([1, 2, NaN, 4]), new Float32Array(4).fill(NaN)]);
  await assert.rejects(rnn.impute(withEmpty, 0, opts('rnn', tiny.rnn), ctx), /column 'empty' has no observed value.*empty_columns=zero/);
  const zeroed = await rnn.impute(withEmpty, 0, opts('rnn', { ...tiny.rnn, empty_columns: 'zero' }), ctx);
  assert.deepEqual([...zeroed.columns[1]], [0, 0, 0, 0]);
  assert.deepEqual(
    [1, 2, 4].map((i) => zeroed.columns[0][i === 4 ? 3 : i - 1]),
    [1, 2, 4],
  );
  assert.ok(Number.isFinite(zeroed.columns[0][2]));
  const inf = matrix(['a', 'b'], [new Float32Array([1, 2, NaN]), new Float32Array([1, Infinity, 3])]);
  await assert.rejects(gan.impute(inf, 0, opts('gan'), ctx), /column 'b' holds a non-finite value \(Infinity\) at row 2/);
  await assert.rejects(lstm.impute(data, 0, opts('lstm', { epochs: 0 }), ctx), /lstm: option epochs must be an integer >= 1 \(got 0\)/);
  await assert.rejects(gan.impute(data, 0, opts('gan', { hint_rate: 2 }), ctx), /gan: option hint_rate must be a number in \[0, 1\]/);
  await assert.rejects(
    rnn.impute(data, 0, opts('rnn', { tf_backend: 'webgpu' }), ctx),
    /rnn: option tf_backend must be one of auto, native, tensorflow, wasm, cpu/,
  );
  await assert.rejects(lstm.impute(data, 999, opts('lstm'), ctx), /targetStart must be an integer in \[0, 200\]/);
});

test('backends: cpu and wasm load by name; tensorflow fails loudly when tfjs-node cannot load; auto falls back', async () => {
  for (const name of ['cpu', 'wasm']) assert.equal((await loadTf(name)).backend, name);
  let nodeLoads = true;
  try {
    createRequire(import.meta.url)('@tensorflow/tfjs-node');
  } catch {
    nodeLoads = false;
  }
  if (!nodeLoads) {
    await assert.rejects(loadTf('tensorflow'), (err) => {
      assert.ok(err instanceof TfBackendError);
      assert.match(err.message, /backend 'tensorflow' was asked for but cannot load: .*Fix: install it .*--tf-backend wasm/);
      return true;
    });
    assert.equal((await loadTf('auto')).backend, 'wasm');
  }
  assert.match(describeTfBackend(), /wasm|tensorflow/);
  // --tf-backend (setDefaultTfBackend) applies to tf_backend=auto; a named option still wins.
  setDefaultTfBackend('cpu');
  try {
    assert.equal((await loadTf('auto')).backend, 'cpu');
    assert.equal((await loadTf('wasm')).backend, 'wasm');
  } finally {
    setDefaultTfBackend('auto');
  }
  assert.throws(
    () => setDefaultTfBackend('gpu'),
    /--tf-backend: unknown TensorFlow.js backend 'gpu'; valid backends: auto, native, tensorflow, wasm, cpu/,
  );
  // Same seed on the pure-JS backend: agrees with wasm closely (not bit for bit).
  const w = await gan.impute(data, 150, opts('gan', tiny.gan), ctx);
  const c = await gan.impute(data, 150, opts('gan', { ...tiny.gan, tf_backend: 'cpu' }), ctx);
  for (let j = 0; j < w.columns.length; j++)
    for (let i = 0; i < w.nRows; i++) assert.ok(Math.abs(w.columns[j][i] - c.columns[j][i]) <= 1e-3 * (1 + Math.abs(w.columns[j][i])));
});

test('options: registered, every default documented, --param parsing', () => {
  for (const m of [lstm, rnn, gan]) {
    assert.equal(getImputer(m.name), m);
    assert.deepEqual(Object.keys(m.options).sort(), Object.keys(m.defaults).sort());
    for (const doc of Object.values(m.options)) assert.ok(doc.description.length > 10);
  }
  assert.equal(parseParams(lstm, ['epochs=7']).epochs, 7);
  assert.equal(parseParams(gan, ['alpha=10', 'tf_backend=cpu']).tf_backend, 'cpu');
  assert.throws(() => parseParams(rnn, ['tf_backend=gpu']), /tf_backend/);
});

// ---------------------------------------------------------------------------------------------
// Native kernels (native/core/kernels/neural.cc).

const nativeOpts = (name, extra = {}) => ({ ...methods[name].defaults, tf_backend: 'native', ...extra });
// Default options except fewer epochs / iterations (the test table is small).
const nativeQuick = { lstm: { epochs: 30 }, rnn: { max_epochs: 60, patience: 30 }, gan: { iterations: 1500 } };

for (const name of ['lstm', 'rnn', 'gan']) {
  test(`native ${name} beats mean imputation on correlated data`, async (t) => {
    const out = await methods[name].impute(data, 0, nativeOpts(name, nativeQuick[name]), ctx);
    assertObservedKept(data, 0, out);
    const r = rmse(table.data, table.truth, out.columns);
    t.diagnostic(`native ${name} RMSE ${r.toFixed(3)}, mean imputation ${meanRmse.toFixed(3)}`);
    assert.ok(r < 0.85 * meanRmse, `${name}: RMSE ${r.toFixed(3)} vs mean ${meanRmse.toFixed(3)}`);
  });

  test(`native ${name}: deterministic, byte-identical for any thread count, the seed matters`, async () => {
    const o = nativeOpts(name, { ...tiny[name], batch_size: 40 });
    const a = await methods[name].impute(data, 120, o, ctx);
    assertObservedKept(data, 120, a);
    for (const threads of [1, 2, 3, 0])
      assert.equal(bytes(await methods[name].impute(data, 120, o, { seed: 42, threads })), bytes(a), `threads ${threads}`);
    assert.notEqual(bytes(await methods[name].impute(data, 120, o, { seed: 43, threads: 1 })), bytes(a), 'the seed must matter');
    // auto picks the native kernels when they are built.
    assert.equal(bytes(await methods[name].impute(data, 120, { ...o, tf_backend: 'auto' }, ctx)), bytes(a));
  });
}

test('native: 4 threads on a larger table give the same bytes as 1 (chunked, fixed-order gradient sums)', async () => {
  const big = generateCorrelated({ rows: 700, cols: 6, factors: 2, missing: 0.2, seed: 3 });
  const m = matrix(big.names, big.data);
  for (const name of ['lstm', 'rnn']) {
    const o = nativeOpts(name, { ...tiny[name], batch_size: 128 });
    const one = await methods[name].impute(m, 0, o, { seed: 5, threads: 1 });
    assert.equal(bytes(await methods[name].impute(m, 0, o, { seed: 5, threads: 4 })), bytes(one), name);
  }
});

/** Central finite differences (double) against the analytic gradient for every parameter. */
function worstRelativeError(params, grad, lossAt) {
  let worst = 0;
  for (let i = 0; i < params.length; i++) {
    const h = 1e-6;
    const up = Float64Array.from(params);
    up[i] += h;
    const down = Float64Array.from(params);
    down[i] -= h;
    const fd = (lossAt(up) - lossAt(down)) / (2 * h);
    worst = Math.max(worst, Math.abs(fd - grad[i]) / Math.max(1e-4, Math.abs(fd) + Math.abs(grad[i])));
  }
  return worst;
}

test('native gradients match finite differences (LSTM and GRU autoencoders, GAIN D and G)', () => {
  const addon = neuralAddon();
  assert.ok(!(addon instanceof Error), String(addon));
  let s = 17;
  const rnd = () => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648;
  for (const cell of ['lstm', 'gru']) {
    const F = cell === 'lstm' ? 1 : 2;
    const d = 4;
    const rows = 3;
    const o = {
      cell,
      objective: 'observed',
      d,
      features: F,
      units: 5,
      latent: 2,
      epochs: 1,
      batchSize: 4,
      learningRate: 0.01,
      maskRate: 0,
      visibleWeight: 0.1,
      patience: 1,
      refineIterations: 0,
      initSeeds: [1, 2, 3, 4, 5, 6],
      streamSeeds: [7, 8],
      threads: 1,
    };
    const inputs = Float64Array.from({ length: rows * d * F }, () => rnd() * 2 - 1);
    const target = Float64Array.from({ length: rows * d }, () => rnd() * 2 - 1);
    const weight = Float64Array.from({ length: rows * d }, () => (rnd() < 0.7 ? 1 : 0.1));
    // Away from the initial point, so that biases and every gate carry gradient.
    const params = Float64Array.from(addon.nnRecurrentCheck(o, null, inputs, target, weight, rows).params, (v) => v + (rnd() - 0.5) * 0.5);
    const { grad } = addon.nnRecurrentCheck(o, params, inputs, target, weight, rows);
    const worst = worstRelativeError(params, grad, (p) => addon.nnRecurrentCheck(o, p, inputs, target, weight, rows).loss);
    assert.ok(worst < 1e-4, `${cell}: worst relative gradient error ${worst}`);
  }
  const d = 3;
  const h = 4;
  const rows = 5;
  const o = {
    d,
    hidden: h,
    iterations: 1,
    batchSize: rows,
    hintRate: 0.9,
    alpha: 10,
    learningRate: 0.001,
    initSeedsG: [1, 2, 3],
    initSeedsD: [4, 5, 6],
    streamSeeds: [1, 2, 3],
  };
  const size = 2 * d * h + h + h * h + h + h * d + d;
  const pg = Float64Array.from({ length: size }, () => rnd() - 0.5);
  const pd = Float64Array.from({ length: size }, () => rnd() - 0.5);
  const x = Float64Array.from({ length: rows * d }, () => rnd());
  const m = Float64Array.from({ length: rows * d }, () => (rnd() < 0.7 ? 1 : 0));
  const xt = Float64Array.from(x, (v, i) => (m[i] ? v : rnd() * 0.01));
  const hint = Float64Array.from(m, (v) => v * (rnd() < 0.9 ? 1 : 0));
  const dGrad = addon.nnGainCheck(o, 0, pg, pd, x, m, xt, hint, rows).grad;
  assert.ok(worstRelativeError(pd, dGrad, (p) => addon.nnGainCheck(o, 0, pg, p, x, m, xt, hint, rows).loss) < 1e-4, 'GAIN discriminator');
  const gGrad = addon.nnGainCheck(o, 1, pg, pd, x, m, xt, hint, rows).grad;
  assert.ok(worstRelativeError(pg, gGrad, (p) => addon.nnGainCheck(o, 1, p, pd, x, m, xt, hint, rows).loss) < 1e-4, 'GAIN generator');
});

test('native: bad input gives the same errors; width 1 and nothing-to-impute fast paths', async () => {
  const nan = () => new Float32Array([NaN, NaN, NaN]);
  await assert.rejects(lstm.impute(matrix(['a', 'b'], [nan(), nan()]), 0, nativeOpts('lstm'), ctx), /all 6 cells of the table are missing/);
  await assert.rejects(
    gan.impute(matrix(['a', 'b'], [new Float32Array([1, NaN, NaN]), new Float32Array([2, NaN, NaN])]), 0, nativeOpts('gan'), ctx),
    /too few rows to train: 1 row\(s\)/,
  );
  const withEmpty = matrix(['a', 'empty'], [new Float32Array([1, 2, NaN, 4]), new Float32Array(4).fill(NaN)]);
  await assert.rejects(rnn.impute(withEmpty, 0, nativeOpts('rnn', tiny.rnn), ctx), /column 'empty' has no observed value.*empty_columns=zero/);
  const zeroed = await rnn.impute(withEmpty, 0, nativeOpts('rnn', { ...tiny.rnn, empty_columns: 'zero' }), ctx);
  assert.deepEqual([...zeroed.columns[1]], [0, 0, 0, 0]);
  assert.ok(Number.isFinite(zeroed.columns[0][2]));
  const inf = matrix(['a', 'b'], [new Float32Array([1, 2, NaN]), new Float32Array([1, Infinity, 3])]);
  await assert.rejects(gan.impute(inf, 0, nativeOpts('gan'), ctx), /column 'b' holds a non-finite value \(Infinity\) at row 2/);
  const col = new Float32Array([1, 2, NaN, 6, NaN]);
  for (const m of [lstm, rnn, gan]) {
    const out = await m.impute(matrix(['x'], [col]), 0, nativeOpts(m.name), ctx);
    assert.deepEqual(
      [...out.columns[0]].map((v) => +v.toFixed(4)),
      [1, 2, 3, 6, 3],
    );
  }
  const cols = [new Float32Array([1, 2, NaN, 4]), new Float32Array([5, 6, 7, 8])];
  assert.deepEqual([...(await lstm.impute(matrix(['a', 'b'], cols), 3, nativeOpts('lstm'), ctx)).columns[0]], [4]);
  await assert.rejects(lstm.impute(data, 0, nativeOpts('lstm', { mask_rate: 1 }), ctx), /lstm: option mask_rate must be a number in \[0, 0.95\]/);
});

test('native: the event loop keeps running while a model trains (training runs off the JS thread)', async () => {
  let turns = 0;
  let running = true;
  const spin = () => {
    turns++;
    if (running) setImmediate(spin);
  };
  setImmediate(spin);
  await lstm.impute(data, 0, nativeOpts('lstm', { epochs: 20 }), ctx);
  running = false;
  assert.ok(turns >= 2, `only ${turns} event-loop turns ran during training`);
});
