// The one registry of imputation methods: a method is a name, an options type with documented
// defaults, and `impute(data, targetStart, options, ctx)` (see types.ts).
// lstm / rnn / gan are the neural methods (TensorFlow.js, loaded only when one runs); PLANNED names
// still answer "not implemented yet" should one of them ever be unregistered.
import type { Imputer, MethodName } from './types.js';
import { gan } from './methods/gan.js';
import { iterativeFunction, iterativeSimple } from './methods/iterative.js';
import { knn } from './methods/knn.js';
import { lstm } from './methods/lstm.js';
import { rnn } from './methods/rnn.js';
import { mean, median } from './methods/simple.js';
import { xgboost } from './methods/xgboost.js';

/** An imputer of any options type (options are checked by the method itself). */
export type AnyImputer = Imputer<object>;

const PLANNED: ReadonlyMap<MethodName, string> = new Map<MethodName, string>([
  ['lstm', 'LSTM autoencoder'],
  ['rnn', 'GRU autoencoder with dynamic masking'],
  ['gan', 'GAIN-style generative adversarial imputer'],
]);

const methods = new Map<string, AnyImputer>();

/** Adds a method (the later lstm / rnn / gan modules register themselves here). */
export function registerImputer(imputer: AnyImputer): void {
  if (methods.has(imputer.name)) throw new Error(`registry: method '${imputer.name}' is already registered`);
  methods.set(imputer.name, imputer);
}

for (const m of [mean, median, knn, iterativeSimple, iterativeFunction, xgboost, lstm, rnn, gan] as AnyImputer[]) registerImputer(m);

/** The available methods, in registration order. */
export function listMethods(): readonly AnyImputer[] {
  return [...methods.values()];
}

/** Names reserved for methods that are not implemented yet, with what they will be. */
export function plannedMethods(): ReadonlyArray<{ name: MethodName; summary: string }> {
  return [...PLANNED].filter(([name]) => !methods.has(name)).map(([name, summary]) => ({ name, summary }));
}

/** The method called `name`; throws an error listing the valid names when there is none. */
export function getImputer(name: string): AnyImputer {
  const hit = methods.get(name);
  if (hit) return hit;
  const valid = [...methods.keys()].join(', ');
  const planned = PLANNED.get(name as MethodName);
  if (planned !== undefined)
    throw new Error(`method '${name}' (${planned}) is not implemented yet; available methods: ${valid}`);
  throw new Error(`unknown method '${name}'; available methods: ${valid}`);
}
