// Neural imputers on the wasm backend (the fallback when tfjs-node is absent) vs the pure-JS cpu
// backend: training time per epoch and RMSE of the hidden cells, same data, same seed, same run.
// Sizes: BENCH_ROWS (default 1000) x BENCH_COLS (default 10), 3 latent factors, 20 % MCAR;
// BENCH_EPOCHS (2), BENCH_GAN_ITERATIONS (1000), BENCH_REPEATS (3, interleaved, medians).
import { generateCorrelated, meanImpute, rmse } from '../scripts/gen-correlated.mjs';
import { gan } from '../dist/impute/methods/gan.js';
import { lstm } from '../dist/impute/methods/lstm.js';
import { rnn } from '../dist/impute/methods/rnn.js';
import { loadTf } from '../dist/tf/backend.js';
import { median, printTable } from './util.js';

const ROWS = Number(process.env.BENCH_ROWS ?? 1000);
const COLS = Number(process.env.BENCH_COLS ?? 10);
const EPOCHS = Number(process.env.BENCH_EPOCHS ?? 2);
const REPEATS = Number(process.env.BENCH_REPEATS ?? 3);
const GAN_ITERS = Number(process.env.BENCH_GAN_ITERATIONS ?? 1000);

// One "epoch" of GAIN = ceil(rows / batch_size) iterations (as many rows as an epoch of the others).
const cases = [
  { name: 'lstm', imputer: lstm, options: { epochs: EPOCHS, refine_iterations: 0 }, epochs: EPOCHS },
  { name: 'rnn', imputer: rnn, options: { max_epochs: EPOCHS, validation_fraction: 0 }, epochs: EPOCHS },
  { name: 'gan', imputer: gan, options: { iterations: GAN_ITERS }, epochs: GAN_ITERS / Math.ceil(ROWS / 128) },
];

const fmt = (s) => (s < 1 ? `${(s * 1000).toFixed(1)} ms` : `${s.toFixed(2)} s`);

export async function main() {
  const t = generateCorrelated({ rows: ROWS, cols: COLS, factors: 3, missing: 0.2, seed: 11 });
  const data = { names: t.names, columns: t.data, nRows: ROWS };
  const meanRmse = rmse(t.data, t.truth, meanImpute(t.data));
  await loadTf('wasm'); // load TensorFlow.js once, outside the timings
  await loadTf('cpu');
  const rows = [];
  for (const c of cases) {
    const res = { wasm: { times: [] }, cpu: { times: [] } };
    // Interleaved repeats, medians: the two backends see the same machine load.
    for (let r = 0; r < REPEATS; r++) {
      for (const backend of ['wasm', 'cpu']) {
        const start = performance.now();
        const out = await c.imputer.impute(data, 0, { ...c.imputer.defaults, ...c.options, tf_backend: backend }, { seed: 1, threads: 1 });
        res[backend].times.push((performance.now() - start) / 1000 / c.epochs);
        res[backend].rmse = rmse(t.data, t.truth, out.columns);
      }
    }
    for (const b of ['wasm', 'cpu']) res[b].perEpoch = median(res[b].times);
    rows.push([
      c.name,
      fmt(res.wasm.perEpoch),
      fmt(res.cpu.perEpoch),
      `${(res.cpu.perEpoch / res.wasm.perEpoch).toFixed(1)}x`,
      res.wasm.rmse.toFixed(3),
      res.cpu.rmse.toFixed(3),
      meanRmse.toFixed(3),
    ]);
  }
  printTable(
    `Neural imputers, ${ROWS} x ${COLS} (3 factors, 20 % hidden), ${EPOCHS} epochs (gan: ${GAN_ITERS} iterations of 128 rows, ` +
      `epoch = ${Math.ceil(ROWS / 128)} iterations), medians of ${REPEATS}; time per epoch includes the final imputation pass; ` +
      'short training, so RMSE is not the tuned quality',
    ['method', 'wasm / epoch', 'cpu / epoch', 'cpu / wasm', 'RMSE wasm', 'RMSE cpu', 'RMSE mean imp.'],
    rows,
  );
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
