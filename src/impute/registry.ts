// The one registry of imputation methods: a method is a name, an option schema (schema.ts: types,
// defaults, ranges, help) and `impute(data, targetStart, options, ctx)` (see types.ts).
// lstm / rnn / gan are the neural methods (TensorFlow.js, loaded only when one runs).
import type { Imputer } from './types.js';
import { gan } from './methods/gan.js';
import { iterativeFunction, iterativeLinear, iterativeSimple } from './methods/iterative.js';
import { knn } from './methods/knn.js';
import { lstm } from './methods/lstm.js';
import { rnn } from './methods/rnn.js';
import { mean, median } from './methods/simple.js';
import { xgboost } from './methods/xgboost.js';

/** An imputer of any options type (impute() checks its options against the method's schema). */
export type AnyImputer = Imputer<object>;

const methods = new Map<string, AnyImputer>();

/** Adds a method to the registry; a name can be registered once. */
export function registerImputer(imputer: AnyImputer): void {
  if (methods.has(imputer.name)) throw new Error(`registry: method '${imputer.name}' is already registered`);
  methods.set(imputer.name, imputer);
}

for (const m of [mean, median, knn, iterativeSimple, iterativeFunction, iterativeLinear, xgboost, lstm, rnn, gan] as AnyImputer[]) registerImputer(m);

/** The available methods, in registration order. */
export function listMethods(): readonly AnyImputer[] {
  return [...methods.values()];
}

/** The method called `name`; throws an error listing the valid names when there is none. */
export function getImputer(name: string): AnyImputer {
  const hit = methods.get(name);
  if (hit) return hit;
  const valid = [...methods.keys()].join(', ');
  throw new Error(`unknown method '${name}'; available methods: ${valid}`);
}
