// lstm: LSTM autoencoder imputer.
//
// Each row is a sequence of its d columns (see src/tf/recurrent-autoencoder.ts), values
// standardised per column over the observed cells; missing cells start at the column mean (0). The autoencoder (encoder LSTM -> latent bottleneck -> decoder
// LSTM) is trained to reconstruct the rows with the loss on OBSERVED cells only (masked MSE; Adam;
// seeded row shuffle each epoch). In each batch a share `mask_rate` of the observed cells is hidden
// from the input (set to the column mean, 0, as a missing cell is) while the loss still covers them:
// without it the autoencoder learns to copy observed cells through and pulls missing ones back to
// the mean. Then the missing cells of the target rows are replaced by the
// reconstruction `refine_iterations` + 1 times (each pass feeds the previous pass's values back in,
// as iterative low-rank imputation does), and only the originally missing cells are filled.
// A fresh model per call, disposed at the end; nothing is cached between tables. Engines: the
// native C++ kernels (native/core/kernels/neural.cc, what tf_backend=auto picks) or TensorFlow.js.
import type * as TfTypes from '@tensorflow/tfjs';

import { buildRecurrentAutoencoder, reconstruct, trainableVariables } from '../../tf/recurrent-autoencoder.js';
import { defineImputer, defineOptions, type OptionsOf } from '../schema.js';
import {
  deriveSeed,
  initSeeds,
  maskedMse,
  NEURAL_COMMON_OPTIONS,
  predictInChunks,
  resolveEngine,
  Rng,
  runNeural,
  runNeuralNative,
  unstandardize,
  unstandardizeHost,
  yieldToEventLoop,
} from './neural-common.js';

export const LSTM_OPTIONS = defineOptions({
  ...NEURAL_COMMON_OPTIONS,
  epochs: { type: 'int', default: 50, min: 1, description: 'training passes over all rows' },
  batch_size: { type: 'int', default: 64, min: 1, description: 'rows per training step' },
  units: { type: 'int', default: 32, min: 1, max: 4096, description: 'LSTM units in the encoder and in the decoder' },
  latent_dim: { type: 'int', default: 0, min: 0, max: 4096, description: 'bottleneck width; 0 = ceil(columns / 2)' },
  learning_rate: { type: 'number', default: 0.01, min: 0, max: 1, exclusiveMin: true, description: 'Adam learning rate' },
  refine_iterations: {
    type: 'int',
    default: 3,
    min: 0,
    max: 1000,
    description: 'extra reconstruction passes feeding the imputed values back in',
  },
  mask_rate: {
    type: 'number',
    default: 0.2,
    min: 0,
    max: 0.95,
    description:
      'share of observed cells hidden from the input (at the column mean) in each batch, loss still on every observed cell ' +
      '(denoising); 0 = plain autoencoder',
  },
});

export type LstmOptions = OptionsOf<typeof LSTM_OPTIONS>;

const METHOD = 'lstm';

export const lstm = defineImputer({
  name: METHOD,
  summary:
    'LSTM autoencoder over each row as a sequence of its columns, loss on observed cells only, missing cells start at the column mean, denoising input masking (native C++ kernels or TensorFlow.js)',
  options: LSTM_OPTIONS,
  async run(data, targetStart, o, ctx) {
    const engine = resolveEngine(METHOD, o.tf_backend);
    if ('native' in engine) {
      const addon = engine.native;
      return runNeuralNative(METHOD, data, targetStart, o, ctx, async (prep, seed, threads) => {
        const { n, d } = prep;
        const res = await addon.nnRecurrent(prep.standard, prep.mask, {
          cell: 'lstm',
          objective: 'observed',
          d,
          features: 1,
          units: o.units,
          latent: o.latent_dim > 0 ? o.latent_dim : Math.ceil(d / 2),
          epochs: o.epochs,
          batchSize: o.batch_size,
          learningRate: o.learning_rate,
          maskRate: o.mask_rate,
          visibleWeight: 1,
          patience: 1,
          refineIterations: o.refine_iterations,
          initSeeds: initSeeds(seed, 1, 6),
          streamSeeds: [deriveSeed(seed, 2), deriveSeed(seed, 3)],
          threads,
          n,
          targetStart: prep.targetStart,
          trainRows: Int32Array.from({ length: n }, (_, i) => i),
        });
        return unstandardizeHost(prep, res.pred);
      });
    }
    return runNeural(METHOD, data, targetStart, { ...o, tf_backend: engine.tf }, ctx, async (tf, prep, seed) => {
      const { n, d } = prep;
      const model = buildRecurrentAutoencoder(tf, {
        cell: 'lstm',
        steps: d,
        features: 1,
        units: o.units,
        latent: o.latent_dim > 0 ? o.latent_dim : Math.ceil(d / 2),
        seedFor: (i) => deriveSeed(seed, 1, i),
      });
      const optimizer = tf.train.adam(o.learning_rate);
      try {
        const vars = trainableVariables(model);
        const rng = new Rng(deriveSeed(seed, 2));
        let step = 0;
        for (let epoch = 0; epoch < o.epochs; epoch++) {
          const order = rng.permutation(n);
          for (let s = 0; s < n; s += o.batch_size) {
            const idx = tf.tensor1d(order.subarray(s, Math.min(n, s + o.batch_size)), 'int32');
            const stepSeed = deriveSeed(seed, 3, step++);
            optimizer.minimize(
              () => {
                const x = tf.gather(prep.standard, idx);
                const m = tf.gather(prep.mask, idx);
                // Hidden observed cells enter at the column mean (0), as missing cells do.
                const input =
                  o.mask_rate > 0 ? tf.where(tf.randomUniform(x.shape, 0, 1, 'float32', stepSeed).less(o.mask_rate), tf.zerosLike(x), x) : x;
                const pred = reconstruct(tf, model, input.expandDims(2) as TfTypes.Tensor3D, true);
                return maskedMse(tf, pred, x, m);
              },
              false,
              vars,
            );
            idx.dispose();
            await yieldToEventLoop();
          }
        }
        // Imputation of the target rows: reconstruct, put the reconstruction into the missing
        // cells, repeat. Rows are independent here, so chunks keep memory bounded.
        const nT = n - prep.targetStart;
        const rows = (t: TfTypes.Tensor2D, s: number, e: number): TfTypes.Tensor2D => t.slice([prep.targetStart + s, 0], [e - s, d]);
        return predictInChunks(tf, nT, 1024, (s, e) =>
          tf.tidy(() => {
            const mask = rows(prep.mask, s, e).cast('bool');
            const observed = rows(prep.standard, s, e);
            let current = observed;
            let pred = reconstruct(tf, model, current.expandDims(2) as TfTypes.Tensor3D);
            for (let r = 0; r < o.refine_iterations; r++) {
              current = tf.where(mask, observed, pred);
              pred = reconstruct(tf, model, current.expandDims(2) as TfTypes.Tensor3D);
            }
            return unstandardize(prep, pred);
          }),
        );
      } finally {
        optimizer.dispose();
        model.dispose();
      }
    });
  },
});
