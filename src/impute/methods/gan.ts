// gan: GAIN, Generative Adversarial Imputation Nets (Yoon, Jordon & van der Schaar, ICML 2018),
// as in the authors' reference code, on the native C++ kernels (native/core/kernels/neural.cc,
// the default) or TensorFlow.js (option tf_backend).
//
// Data are min-max scaled to [0, 1] per column (missing -> 0). Generator G and discriminator D are
// 3-layer MLPs (ReLU, ReLU, sigmoid) of width `hidden` (default: number of columns), Xavier-normal
// initialised (seeded). Each iteration draws `batch_size` rows (seeded, without replacement):
//   X~ = M * X + (1 - M) * Z,  Z ~ U(0, 0.01);   H = M * B,  B ~ Bernoulli(hint_rate)
//   D step: minimise -mean(M log D(X^, H) + (1 - M) log(1 - D(X^, H))),  X^ = M X + (1 - M) G(X~, M)
//   G step: minimise -mean((1 - M) log D(X^, H)) + alpha * mean((M X - M G)^2) / mean(M)
// (Adam, learning_rate). Imputation: X^ of the target rows (fresh seeded noise), un-scaled; only
// the originally missing cells are filled. The hint is the reference code's H = B * M (the paper's
// text also gives 0.5 to the unrevealed cells; the code does not).
import type * as TfTypes from '@tensorflow/tfjs';

import { defineImputer, defineOptions, type OptionsOf } from '../schema.js';
import {
  deriveSeed,
  initSeeds,
  NEURAL_COMMON_OPTIONS,
  predictInChunks,
  resolveEngine,
  Rng,
  runNeural,
  runNeuralNative,
  yieldToEventLoop,
} from './neural-common.js';

export const GAN_OPTIONS = defineOptions({
  ...NEURAL_COMMON_OPTIONS,
  iterations: {
    type: 'int',
    default: 3000,
    min: 1,
    description: 'training iterations, one D and one G step each (the paper used 10000)',
  },
  batch_size: { type: 'int', default: 128, min: 1, description: 'rows per iteration (as the paper)' },
  hint_rate: { type: 'number', default: 0.9, min: 0, max: 1, description: 'probability that the hint reveals an observed cell to D (paper)' },
  alpha: { type: 'number', default: 100, min: 0, max: 1e9, description: "weight of G's reconstruction loss on observed cells (paper)" },
  hidden: { type: 'int', default: 0, min: 0, max: 65536, description: 'hidden layer width; 0 = number of columns (paper)' },
  learning_rate: {
    type: 'number',
    default: 0.001,
    min: 0,
    max: 1,
    exclusiveMin: true,
    description: "Adam learning rate of both networks (TensorFlow's Adam default, as the paper's code)",
  },
});

export type GanOptions = OptionsOf<typeof GAN_OPTIONS>;

const METHOD = 'gan';
const EPS = 1e-8;

type Tf = typeof TfTypes;
interface Mlp {
  readonly vars: TfTypes.Variable[];
  apply(a: TfTypes.Tensor2D, b: TfTypes.Tensor2D): TfTypes.Tensor2D;
}

/** [a, b] -> relu -> relu -> sigmoid, Xavier-normal weights (std 1 / sqrt(fan_in / 2)), zero biases. */
function mlp(tf: Tf, d: number, h: number, seedFor: (i: number) => number): Mlp {
  const xavier = (fanIn: number, fanOut: number, i: number): TfTypes.Variable =>
    tf.tidy(() => tf.variable(tf.randomNormal([fanIn, fanOut], 0, 1 / Math.sqrt(fanIn / 2), 'float32', seedFor(i)), true));
  const bias = (k: number): TfTypes.Variable => tf.tidy(() => tf.variable(tf.zeros([k]), true));
  const vars = [xavier(2 * d, h, 0), bias(h), xavier(h, h, 1), bias(h), xavier(h, d, 2), bias(d)];
  const [w1, b1, w2, b2, w3, b3] = vars as [
    TfTypes.Variable,
    TfTypes.Variable,
    TfTypes.Variable,
    TfTypes.Variable,
    TfTypes.Variable,
    TfTypes.Variable,
  ];
  return {
    vars,
    apply: (a, b) =>
      tf.tidy(() => {
        const x = tf.concat([a, b], 1);
        const h1 = tf.relu(x.matMul(w1).add(b1));
        const h2 = tf.relu(h1.matMul(w2).add(b2));
        return tf.sigmoid(h2.matMul(w3).add(b3)) as TfTypes.Tensor2D;
      }),
  };
}

export const gan = defineImputer({
  name: METHOD,
  summary:
    'GAIN generative adversarial imputation (Yoon et al. 2018): generator/discriminator MLPs with hint mechanism (native C++ kernels or TensorFlow.js)',
  options: GAN_OPTIONS,
  async run(data, targetStart, o, ctx) {
    const engine = resolveEngine(METHOD, o.tf_backend);
    if ('native' in engine) {
      const addon = engine.native;
      return runNeuralNative(METHOD, data, targetStart, o, ctx, (prep, seed) =>
        addon.nnGain(prep.zeroed, prep.mask, {
          d: prep.d,
          hidden: o.hidden > 0 ? o.hidden : prep.d,
          iterations: o.iterations,
          batchSize: o.batch_size,
          hintRate: o.hint_rate,
          alpha: o.alpha,
          learningRate: o.learning_rate,
          initSeedsG: initSeeds(seed, 1, 3),
          initSeedsD: initSeeds(seed, 2, 3),
          streamSeeds: [deriveSeed(seed, 3), deriveSeed(seed, 4), deriveSeed(seed, 6)],
          n: prep.n,
          targetStart: prep.targetStart,
        }),
      );
    }
    return runNeural(METHOD, data, targetStart, { ...o, tf_backend: engine.tf }, ctx, async (tf, prep, seed) => {
      const { n, d } = prep;
      const h = o.hidden > 0 ? o.hidden : d;
      const G = mlp(tf, d, h, (i) => deriveSeed(seed, 1, i));
      const D = mlp(tf, d, h, (i) => deriveSeed(seed, 2, i));
      const optG = tf.train.adam(o.learning_rate);
      const optD = tf.train.adam(o.learning_rate);
      const b = Math.min(o.batch_size, n);
      const rng = new Rng(deriveSeed(seed, 3));
      const pool = rng.permutation(n);
      try {
        for (let it = 0; it < o.iterations; it++) {
          rng.shuffleInPlace(pool, b);
          const idx = tf.tensor1d(pool.subarray(0, b), 'int32');
          const [x, m, xTilde, hint] = tf.tidy(() => {
            const x = tf.gather(prep.zeroed, idx) as TfTypes.Tensor2D;
            const m = tf.gather(prep.mask, idx) as TfTypes.Tensor2D;
            const z = tf.randomUniform([b, d], 0, 0.01, 'float32', deriveSeed(seed, 4, it));
            const xTilde = m.mul(x).add(tf.scalar(1).sub(m).mul(z)) as TfTypes.Tensor2D;
            const hint = tf
              .randomUniform([b, d], 0, 1, 'float32', deriveSeed(seed, 5, it))
              .less(o.hint_rate)
              .cast('float32')
              .mul(m) as TfTypes.Tensor2D;
            return [x, m, xTilde, hint];
          });
          const combine = (g: TfTypes.Tensor2D): TfTypes.Tensor2D => x.mul(m).add(tf.scalar(1).sub(m).mul(g)) as TfTypes.Tensor2D;
          optD.minimize(
            () => {
              const dProb = D.apply(combine(G.apply(xTilde, m)), hint);
              return tf.neg(
                tf.mean(
                  m.mul(tf.log(dProb.add(EPS))).add(
                    tf
                      .scalar(1)
                      .sub(m)
                      .mul(tf.log(tf.scalar(1).sub(dProb).add(EPS))),
                  ),
                ),
              ) as TfTypes.Scalar;
            },
            false,
            D.vars,
          );
          optG.minimize(
            () => {
              const g = G.apply(xTilde, m);
              const dProb = D.apply(combine(g), hint);
              const adversarial = tf.neg(
                tf.mean(
                  tf
                    .scalar(1)
                    .sub(m)
                    .mul(tf.log(dProb.add(EPS))),
                ),
              );
              const mse = tf.mean(tf.square(m.mul(x).sub(m.mul(g)))).div(tf.maximum(tf.mean(m), EPS));
              return adversarial.add(mse.mul(o.alpha)) as TfTypes.Scalar;
            },
            false,
            G.vars,
          );
          for (const t of [idx, x, m, xTilde, hint]) t.dispose();
          await yieldToEventLoop();
        }
        const nT = n - prep.targetStart;
        return predictInChunks(tf, nT, 4096, (s, e) =>
          tf.tidy(() => {
            const x = prep.zeroed.slice([prep.targetStart + s, 0], [e - s, d]);
            const m = prep.mask.slice([prep.targetStart + s, 0], [e - s, d]);
            const z = tf.randomUniform([e - s, d], 0, 0.01, 'float32', deriveSeed(seed, 6, s));
            return G.apply(m.mul(x).add(tf.scalar(1).sub(m).mul(z)) as TfTypes.Tensor2D, m);
          }),
        );
      } finally {
        optG.dispose();
        optD.dispose();
        for (const v of [...G.vars, ...D.vars]) v.dispose();
      }
    });
  },
});
