// Neural imputers, native C++ kernels (tf_backend=native, what auto picks) against TensorFlow.js on
// wasm (the previous engine) and against iterative_simple, on the same generated table in the same
// run: time per epoch, whole-call time, and nRMSE of the hidden cells.
//
// Tables: BENCH_SIZES rows (default 1000,4000,20000) x BENCH_COLS (12) columns, 3 latent factors,
// noise BENCH_NOISE (1.0: correlated but noisy, like real tables), 20 % MCAR.
// Native runs use the methods' defaults (lstm 50 epochs, rnn early stopping, gan 3000 iterations),
// BENCH_REPEATS times (default 3; 1 at 20k rows), medians. wasm runs train BENCH_WASM_EPOCHS (1)
// epoch(s) (gan: one epoch's worth of iterations x 8) once per size: their time per epoch is the
// "before"; BENCH_WASM=0 skips them. An "epoch" of GAIN = ceil(rows / batch_size) iterations.
// nRMSE = mean over columns of RMSE(hidden cells) / sd(column of the complete table).
import { generateCorrelated, meanImpute } from '../scripts/gen-correlated.mjs';
import { getImputer } from '../dist/impute/registry.js';
import { loadTf } from '../dist/tf/backend.js';
import { median, printTable } from './util.js';

const SIZES = (process.env.BENCH_SIZES ?? '1000,4000,20000').split(',').map(Number);
const COLS = Number(process.env.BENCH_COLS ?? 12);
const NOISE = Number(process.env.BENCH_NOISE ?? 1);
const REPEATS = process.env.BENCH_REPEATS ? Number(process.env.BENCH_REPEATS) : undefined;
const WASM = process.env.BENCH_WASM !== '0';
const WASM_EPOCHS = Number(process.env.BENCH_WASM_EPOCHS ?? 1);

function nrmse(t, out) {
  let sum = 0;
  let k = 0;
  for (let j = 0; j < t.truth.length; j++) {
    const truth = t.truth[j];
    const n = truth.length;
    let mean = 0;
    for (const v of truth) mean += v / n;
    let ss = 0;
    for (const v of truth) ss += (v - mean) ** 2;
    const sd = Math.sqrt(ss / n);
    let se = 0;
    let c = 0;
    for (let i = 0; i < n; i++) {
      if (!Number.isNaN(t.data[j][i])) continue;
      se += (out[j][i] - truth[i]) ** 2;
      c++;
    }
    if (c > 0 && sd > 0) {
      sum += Math.sqrt(se / c) / sd;
      k++;
    }
  }
  return sum / k;
}

const fmt = (s) => (s < 1 ? `${(s * 1000).toFixed(1)} ms` : `${s.toFixed(2)} s`);

/** Epochs a run trains (lstm: epochs; gan: iterations / batches per epoch); rnn's come from the native call. */
function epochsOf(name, options, rows) {
  if (name === 'lstm') return options.epochs;
  if (name === 'gan') return options.iterations / Math.ceil(rows / options.batch_size);
  return undefined;
}

export async function main() {
  const rnnEpochs = [];
  const { neuralAddon } = await import('../dist/impute/methods/neural-common.js');
  const addon = neuralAddon();
  if (addon instanceof Error) throw addon;
  // Count the epochs of early-stopped rnn runs by wrapping the native call (same process).
  const original = addon.nnRecurrent;
  addon.nnRecurrent = async (...args) => {
    const r = await original.apply(addon, args);
    if (args[2].cell === 'gru') rnnEpochs.push(r.epochsRun);
    return r;
  };
  if (WASM) await loadTf('wasm'); // load TensorFlow.js once, outside the timings
  const rows = [];
  for (const size of SIZES) {
    const t = generateCorrelated({ rows: size, cols: COLS, factors: 3, noise: NOISE, missing: 0.2, seed: 11 });
    const data = { names: t.names, columns: t.data, nRows: size };
    const repeats = REPEATS ?? (size >= 20000 ? 1 : 3);
    const meanScore = nrmse(t, meanImpute(t.data));
    const res = { iterative_simple: { times: [] }, lstm: { times: [] }, rnn: { times: [] }, gan: { times: [] } };
    // Interleaved repeats: every method sees the same machine load.
    for (let r = 0; r < repeats; r++) {
      for (const name of Object.keys(res)) {
        const m = getImputer(name);
        const options = { ...m.defaults, ...(name === 'iterative_simple' ? {} : { tf_backend: 'native' }) };
        rnnEpochs.length = 0;
        const start = performance.now();
        const out = await m.impute(data, 0, options, { seed: 1, threads: 1 });
        const seconds = (performance.now() - start) / 1000;
        res[name].times.push(seconds);
        res[name].epochs = name === 'rnn' ? rnnEpochs[0] : epochsOf(name, options, size);
        res[name].score = nrmse(t, out.columns);
      }
    }
    const base = median(res.iterative_simple.times);
    const wasm = {};
    if (WASM) {
      for (const name of ['lstm', 'rnn', 'gan']) {
        const m = getImputer(name);
        const itersPerEpoch = Math.ceil(size / m.defaults.batch_size);
        const extra =
          name === 'lstm'
            ? { epochs: WASM_EPOCHS, refine_iterations: 0 }
            : name === 'rnn'
              ? { max_epochs: WASM_EPOCHS, validation_fraction: 0 }
              : { iterations: 8 * itersPerEpoch };
        const start = performance.now();
        await m.impute(data, 0, { ...m.defaults, ...extra, tf_backend: 'wasm' }, { seed: 1, threads: 1 });
        wasm[name] = (performance.now() - start) / 1000 / (name === 'gan' ? 8 : WASM_EPOCHS);
      }
    }
    rows.push([`${size}`, 'mean', '', '', '', '', meanScore.toFixed(3), '']);
    rows.push([`${size}`, 'iterative_simple', fmt(base), '1.0x', '', '', res.iterative_simple.score.toFixed(3), '']);
    for (const name of ['lstm', 'rnn', 'gan']) {
      const total = median(res[name].times);
      const perEpoch = total / res[name].epochs;
      rows.push([
        `${size}`,
        name,
        fmt(total),
        `${(total / base).toFixed(1)}x`,
        `${fmt(perEpoch)} (${Number(res[name].epochs.toFixed(1))} ep)`,
        WASM ? `${fmt(wasm[name])} (${(wasm[name] / perEpoch).toFixed(0)}x)` : '',
        res[name].score.toFixed(3),
        `${(100 * (1 - res[name].score / meanScore)).toFixed(0)} %`,
      ]);
    }
  }
  printTable(
    `Neural imputers, native kernels with defaults vs iterative_simple (same table, same run; ${COLS} columns, 3 factors, noise ${NOISE}, ` +
      `20 % hidden; medians of ${REPEATS ?? '3 (1 at 20k rows)'}; threads 1). "wasm / epoch" = the TensorFlow.js engine's time per epoch ` +
      `(${WASM_EPOCHS} epoch(s); gan: 8 epochs of iterations), x = how much slower than native`,
    ['rows', 'method', 'whole call', 'vs iterative', 'native / epoch', 'wasm / epoch', 'nRMSE', 'better than mean'],
    rows,
  );
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
