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
import type { Imputer } from '../types.js';
import {
  checkCommon,
  checkInt,
  checkNumber,
  deriveSeed,
  initSeeds,
  maskedMse,
  NEURAL_COMMON_DEFAULTS,
  NEURAL_COMMON_DOCS,
  type NeuralCommonOptions,
  predictInChunks,
  resolveEngine,
  Rng,
  runNeural,
  runNeuralNative,
  unstandardize,
  unstandardizeHost,
  yieldToEventLoop,
} from './neural-common.js';

export interface LstmOptions extends NeuralCommonOptions {
  /** Passes over all rows. Default 50. */
  epochs: number;
  /** Rows per training step. Default 64. */
  batch_size: number;
  /** LSTM units of the encoder and of the decoder. Default 32. */
  units: number;
  /** Width of the bottleneck; 0 = ceil(columns / 2). Default 0. */
  latent_dim: number;
  /** Adam learning rate. Default 0.01. */
  learning_rate: number;
  /** Extra reconstruction passes that feed the imputed values back in. Default 3. */
  refine_iterations: number;
  /**
   * Share of the observed cells hidden from the input (set to the column mean) in each batch, the
   * loss still covering every observed cell (denoising). 0 = the plain autoencoder. Default 0.2.
   */
  mask_rate: number;
}

const METHOD = 'lstm';

export function checkLstmOptions(o: Partial<LstmOptions>): LstmOptions {
  const v = { ...lstm.defaults, ...o };
  return {
    ...checkCommon(METHOD, v),
    epochs: checkInt(METHOD, 'epochs', v.epochs, 1),
    batch_size: checkInt(METHOD, 'batch_size', v.batch_size, 1),
    units: checkInt(METHOD, 'units', v.units, 1, 4096),
    latent_dim: checkInt(METHOD, 'latent_dim', v.latent_dim, 0, 4096),
    learning_rate: checkNumber(METHOD, 'learning_rate', v.learning_rate, 0, 1, true),
    refine_iterations: checkInt(METHOD, 'refine_iterations', v.refine_iterations, 0, 1000),
    mask_rate: checkNumber(METHOD, 'mask_rate', v.mask_rate, 0, 0.95),
  };
}

export const lstm: Imputer<LstmOptions> = {
  name: METHOD,
  summary:
    'LSTM autoencoder over each row as a sequence of its columns, loss on observed cells only, missing cells start at the column mean, denoising input masking (native C++ kernels or TensorFlow.js)',
  defaults: {
    ...NEURAL_COMMON_DEFAULTS,
    epochs: 50,
    batch_size: 64,
    units: 32,
    latent_dim: 0,
    learning_rate: 0.01,
    refine_iterations: 3,
    mask_rate: 0.2,
  },
  options: {
    ...NEURAL_COMMON_DOCS,
    epochs: { type: 'integer', description: 'training passes over all rows (default 50)' },
    batch_size: { type: 'integer', description: 'rows per training step (default 64)' },
    units: { type: 'integer', description: 'LSTM units in the encoder and in the decoder (default 32)' },
    latent_dim: { type: 'integer', description: 'bottleneck width; 0 = ceil(columns / 2) (default 0)' },
    learning_rate: { type: 'number', description: 'Adam learning rate (default 0.01)' },
    refine_iterations: {
      type: 'integer',
      description: 'extra reconstruction passes feeding the imputed values back in (default 3)',
    },
    mask_rate: {
      type: 'number',
      description:
        'share of observed cells hidden from the input (at the column mean) in each batch, loss still on every observed cell; ' +
        'in [0, 0.95], 0 = plain autoencoder (default 0.2)',
    },
  },
  async impute(data, targetStart, options, ctx) {
    const o = checkLstmOptions(options);
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
};
