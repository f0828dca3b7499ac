// The recurrent autoencoder of the lstm and rnn imputers, built fresh for each table width.
//
// How a table row becomes a sequence: a row of d columns is a sequence of d steps, step j holding
// column j. Each step carries `features` values (lstm: [scaled value]; rnn: [scaled value,
// observed flag]) plus a one-hot code of the column (d values), so the shared recurrent weights
// know which column they read. d >= 2 always (tfjs's LSTM/GRU fail on length-1 sequences; width-1
// tables never reach this model).
//
//   [value(s), onehot(j)]_j=1..d -> encoder RNN(units) -> Dense(latent) -> repeat d times
//   -> concat onehot(j) -> decoder RNN(units, all steps) -> Dense(1) per step -> [d] reconstruction
//
// Every initializer is seeded (glorot-uniform kernels and recurrent kernels, zero biases), so one
// seed gives one model.
import type * as TfTypes from '@tensorflow/tfjs';

type Tf = typeof TfTypes;

export interface RecurrentAutoencoderConfig {
  readonly cell: 'lstm' | 'gru';
  /** Sequence length = number of columns (>= 2). */
  readonly steps: number;
  /** Values per step besides the column code. */
  readonly features: number;
  readonly units: number;
  readonly latent: number;
  /** Seed of initializer i (0..6). */
  readonly seedFor: (i: number) => number;
}

export function buildRecurrentAutoencoder(tf: Tf, c: RecurrentAutoencoderConfig): TfTypes.LayersModel {
  if (c.steps < 2) throw new RangeError(`recurrent autoencoder: sequences need at least 2 steps (got ${c.steps})`);
  const init = (i: number): ReturnType<Tf['initializers']['glorotUniform']> => tf.initializers.glorotUniform({ seed: c.seedFor(i) });
  const rnn = (i: number, returnSequences: boolean): TfTypes.layers.RNN => {
    const args = {
      units: c.units,
      returnSequences,
      kernelInitializer: init(i),
      recurrentInitializer: init(i + 1),
      biasInitializer: 'zeros' as const,
    };
    return c.cell === 'lstm' ? tf.layers.lstm(args) : tf.layers.gru(args);
  };
  const seq = tf.input({ shape: [c.steps, c.features], name: 'values' });
  const pos = tf.input({ shape: [c.steps, c.steps], name: 'columns' });
  const encIn = tf.layers.concatenate({ axis: -1 }).apply([seq, pos]) as TfTypes.SymbolicTensor;
  const h = rnn(0, false).apply(encIn) as TfTypes.SymbolicTensor;
  const z = tf.layers.dense({ units: c.latent, kernelInitializer: init(2), biasInitializer: 'zeros' }).apply(h) as TfTypes.SymbolicTensor;
  const rep = tf.layers.repeatVector({ n: c.steps }).apply(z) as TfTypes.SymbolicTensor;
  const decIn = tf.layers.concatenate({ axis: -1 }).apply([rep, pos]) as TfTypes.SymbolicTensor;
  const hs = rnn(3, true).apply(decIn) as TfTypes.SymbolicTensor;
  const y = tf.layers
    .timeDistributed({ layer: tf.layers.dense({ units: 1, kernelInitializer: init(5), biasInitializer: 'zeros' }) })
    .apply(hs) as TfTypes.SymbolicTensor;
  const out = tf.layers.reshape({ targetShape: [c.steps] }).apply(y) as TfTypes.SymbolicTensor;
  return tf.model({ inputs: [seq, pos], outputs: out });
}

/** The column codes for a batch of b rows: [b, d, d], identity per row. */
export function columnCodes(tf: Tf, b: number, d: number): TfTypes.Tensor3D {
  return tf.tidy(() => tf.eye(d).expandDims(0).tile([b, 1, 1]) as TfTypes.Tensor3D);
}

/** The model's trainable variables (for optimizer.minimize's var list). */
export function trainableVariables(model: TfTypes.LayersModel): TfTypes.Variable[] {
  return model.trainableWeights.map((w) => w.read() as TfTypes.Variable);
}

/** Runs the model on [rows, d, features] values; returns [rows, d]. */
export function reconstruct(tf: Tf, model: TfTypes.LayersModel, values: TfTypes.Tensor3D, training = false): TfTypes.Tensor2D {
  return tf.tidy(() => {
    const [b, d] = values.shape;
    const codes = columnCodes(tf, b, d);
    return model.apply([values, codes], { training }) as TfTypes.Tensor2D;
  });
}
