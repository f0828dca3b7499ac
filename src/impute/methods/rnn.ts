// rnn: GRU autoencoder imputer with dynamic masking and early stopping.
//
// Each row is a sequence of its d columns, each step carrying [standardised value, observed flag] and the
// column's one-hot code (src/tf/recurrent-autoencoder.ts). A seeded share `validation_fraction` of
// the rows is held out (none when the table has fewer than 10 rows). In every training batch a
// random share `mask_rate` of the OBSERVED cells is hidden (value -> column mean, flag -> 0), and the
// model learns to restore every observed cell (masked MSE). After each epoch the held-out rows are
// scored on a fixed hidden set of their observed cells; training stops after `patience` epochs
// without improvement (or `max_epochs`) and the best epoch's weights are restored. Imputation feeds
// the true flags (missing cells at the column mean) and fills only the originally missing cells.
import type * as TfTypes from '@tensorflow/tfjs';

import { log } from '../../log/logger.js';
import { buildRecurrentAutoencoder, reconstruct, trainableVariables } from '../../tf/recurrent-autoencoder.js';
import { defineImputer, defineOptions, type OptionsOf } from '../schema.js';
import {
  deriveSeed,
  initSeeds,
  maskedMse,
  NEURAL_COMMON_OPTIONS,
  predictInChunks,
  type Prepared,
  resolveEngine,
  Rng,
  runNeural,
  runNeuralNative,
  unstandardize,
  unstandardizeHost,
  yieldToEventLoop,
} from './neural-common.js';

export const RNN_OPTIONS = defineOptions({
  ...NEURAL_COMMON_OPTIONS,
  max_epochs: { type: 'int', default: 100, min: 1, description: 'upper bound on training passes' },
  patience: { type: 'int', default: 10, min: 1, description: 'epochs without a better held-out score before stopping' },
  batch_size: { type: 'int', default: 64, min: 1, description: 'rows per training step' },
  units: { type: 'int', default: 32, min: 1, max: 4096, description: 'GRU units in the encoder and in the decoder' },
  latent_dim: { type: 'int', default: 0, min: 0, max: 4096, description: 'latent code width; 0 = number of columns' },
  mask_rate: {
    type: 'number',
    default: 0.2,
    min: 0,
    max: 0.95,
    exclusiveMin: true,
    description: 'share of observed cells hidden in each batch (dynamic masking)',
  },
  validation_fraction: {
    type: 'number',
    default: 0.1,
    min: 0,
    max: 0.5,
    description: 'share of rows held out for early stopping; 0 = no early stopping (train max_epochs)',
  },
  learning_rate: { type: 'number', default: 0.01, min: 0, max: 1, exclusiveMin: true, description: 'Adam learning rate' },
});

export type RnnOptions = OptionsOf<typeof RNN_OPTIONS>;

const METHOD = 'rnn';
/** Loss weight of the observed cells left visible in a batch (hidden ones weigh 1). */
const VISIBLE_WEIGHT = 0.1;

/** [b, d, 2] sequence input: standardised value (hidden / missing cells at the column mean, 0) and flag. */
function sequenceInput(tf: typeof TfTypes, prep: Prepared, x: TfTypes.Tensor2D, flag: TfTypes.Tensor2D): TfTypes.Tensor3D {
  return tf.tidy(() => {
    const values = tf.where(flag.cast('bool'), x, tf.zerosLike(x));
    return tf.stack([values, flag], 2) as TfTypes.Tensor3D;
  });
}

export const rnn = defineImputer({
  name: METHOD,
  summary:
    'GRU autoencoder with dynamic masking (each batch hides a share of observed cells) and early stopping on held-out rows (native C++ kernels or TensorFlow.js)',
  options: RNN_OPTIONS,
  async run(data, targetStart, o, ctx) {
    const engine = resolveEngine(METHOD, o.tf_backend);
    if ('native' in engine) {
      const addon = engine.native;
      return runNeuralNative(METHOD, data, targetStart, o, ctx, async (prep, seed, threads) => {
        const { n, d } = prep;
        const rng = new Rng(deriveSeed(seed, 2));
        const rows = rng.permutation(n);
        const nVal = n >= 10 && o.validation_fraction > 0 ? Math.max(1, Math.round(n * o.validation_fraction)) : 0;
        const valRows = rows.slice(0, nVal);
        // The held-out rows' fixed hidden cells (observed cells only); none drawn (tiny tables):
        // score the reconstruction of every observed cell.
        const valHidden = new Float32Array(nVal * d);
        const draw = new Rng(deriveSeed(seed, 3));
        let hiddenCount = 0;
        for (let i = 0; i < nVal; i++)
          for (let j = 0; j < d; j++) {
            const hide = draw.next() < o.mask_rate && prep.mask[valRows[i]! * d + j] === 1;
            valHidden[i * d + j] = hide ? 1 : 0;
            hiddenCount += hide ? 1 : 0;
          }
        if (hiddenCount === 0) for (let i = 0; i < nVal; i++) for (let j = 0; j < d; j++) valHidden[i * d + j] = prep.mask[valRows[i]! * d + j]!;
        const res = await addon.nnRecurrent(prep.standard, prep.mask, {
          cell: 'gru',
          objective: 'dynamic-mask',
          d,
          features: 2,
          units: o.units,
          latent: o.latent_dim > 0 ? o.latent_dim : d,
          epochs: o.max_epochs,
          batchSize: o.batch_size,
          learningRate: o.learning_rate,
          maskRate: o.mask_rate,
          visibleWeight: VISIBLE_WEIGHT,
          patience: o.patience,
          refineIterations: 0,
          initSeeds: initSeeds(seed, 1, 6),
          streamSeeds: [deriveSeed(seed, 4), deriveSeed(seed, 5)],
          threads,
          n,
          targetStart: prep.targetStart,
          trainRows: rows.slice(nVal),
          valRows,
          valHidden,
        });
        log.debug(`${METHOD}: ${res.epochsRun} epochs, best held-out loss ${res.bestScore.toPrecision(4)} at epoch ${res.bestEpoch}`);
        return unstandardizeHost(prep, res.pred);
      });
    }
    return runNeural(METHOD, data, targetStart, { ...o, tf_backend: engine.tf }, ctx, async (tf, prep, seed) => {
      const { n, d } = prep;
      const model = buildRecurrentAutoencoder(tf, {
        cell: 'gru',
        steps: d,
        features: 2,
        units: o.units,
        latent: o.latent_dim > 0 ? o.latent_dim : d,
        seedFor: (i) => deriveSeed(seed, 1, i),
      });
      const optimizer = tf.train.adam(o.learning_rate);
      const rng = new Rng(deriveSeed(seed, 2));
      const rows = rng.permutation(n);
      const nVal = n >= 10 && o.validation_fraction > 0 ? Math.max(1, Math.round(n * o.validation_fraction)) : 0;
      const train = rows.subarray(nVal);
      const nTrain = train.length;
      // Held-out rows and their fixed hidden cells (observed cells only).
      const val = nVal > 0 ? validationSet(tf, prep, rows.subarray(0, nVal), o.mask_rate, deriveSeed(seed, 3)) : undefined;
      let best: TfTypes.Tensor[] | undefined;
      try {
        const vars = trainableVariables(model);
        let bestScore = Infinity;
        let stale = 0;
        let step = 0;
        for (let epoch = 0; epoch < o.max_epochs; epoch++) {
          const order = new Int32Array(train);
          rng.shuffleInPlace(order, nTrain);
          for (let s = 0; s < nTrain; s += o.batch_size) {
            const idx = tf.tensor1d(order.subarray(s, Math.min(nTrain, s + o.batch_size)), 'int32');
            const stepSeed = deriveSeed(seed, 4, step++);
            optimizer.minimize(
              () => {
                const x = tf.gather(prep.standard, idx) as TfTypes.Tensor2D;
                const m = tf.gather(prep.mask, idx) as TfTypes.Tensor2D;
                const hide = tf.randomUniform(x.shape, 0, 1, 'float32', stepSeed).less(o.mask_rate).cast('float32').mul(m);
                const flag = m.sub(hide) as TfTypes.Tensor2D;
                const pred = reconstruct(tf, model, sequenceInput(tf, prep, x, flag), true);
                // Restoring the hidden cells is the imputation task; the visible ones weigh less.
                return maskedMse(tf, pred, x, hide.add(m.sub(hide).mul(VISIBLE_WEIGHT)));
              },
              false,
              vars,
            );
            idx.dispose();
            await yieldToEventLoop();
          }
          if (!val) continue;
          const score = tf.tidy(() => maskedMse(tf, reconstruct(tf, model, val.input), val.x, val.hidden).dataSync()[0] ?? Infinity);
          log.debug(`${METHOD}: epoch ${epoch + 1} held-out loss ${score.toPrecision(4)}`);
          if (score < bestScore) {
            bestScore = score;
            stale = 0;
            for (const t of best ?? []) t.dispose();
            best = model.getWeights().map((w) => w.clone());
          } else if (++stale >= o.patience) break;
        }
        if (best) model.setWeights(best);
        const nT = n - prep.targetStart;
        return predictInChunks(tf, nT, 1024, (s, e) =>
          tf.tidy(() => {
            const x = prep.standard.slice([prep.targetStart + s, 0], [e - s, d]);
            const m = prep.mask.slice([prep.targetStart + s, 0], [e - s, d]);
            return unstandardize(prep, reconstruct(tf, model, sequenceInput(tf, prep, x, m)));
          }),
        );
      } finally {
        for (const t of best ?? []) t.dispose();
        if (val) for (const t of [val.input, val.x, val.hidden]) t.dispose();
        optimizer.dispose();
        model.dispose();
      }
    });
  },
});

function validationSet(
  tf: typeof TfTypes,
  prep: Prepared,
  rows: Int32Array,
  maskRate: number,
  seed: number,
): { input: TfTypes.Tensor3D; x: TfTypes.Tensor2D; hidden: TfTypes.Tensor2D } {
  return tf.tidy(() => {
    const idx = tf.tensor1d(rows, 'int32');
    const x = tf.gather(prep.standard, idx) as TfTypes.Tensor2D;
    const m = tf.gather(prep.mask, idx) as TfTypes.Tensor2D;
    let hidden = tf.randomUniform(x.shape, 0, 1, 'float32', seed).less(maskRate).cast('float32').mul(m) as TfTypes.Tensor2D;
    // No hidden cell drawn (tiny tables): score the reconstruction of every observed cell.
    if ((hidden.sum().dataSync()[0] ?? 0) === 0) hidden = m;
    const input = sequenceInput(tf, prep, x, m.sub(hidden) as TfTypes.Tensor2D);
    return { input, x, hidden };
  });
}
