// Loads TensorFlow.js lazily (only when a neural method runs) and picks its backend:
// 'tensorflow' (@tensorflow/tfjs-node, an optional peer dependency) when it loads, else 'wasm'
// (@tensorflow/tfjs-backend-wasm, measured 4-6x faster than the pure-JS backend here), else 'cpu'
// (pure JS, always there). A named backend (option tf_backend, `--tf-backend`, or the environment
// variable HIERIMPUTE_TF_BACKEND) is used as is and fails loudly when it cannot load.
//
// TensorFlow.js keeps ONE engine per process, so neural runs are serialised (withTf) and each run
// switches to the backend it asked for before it starts.
import { createRequire } from 'node:module';

import type * as TfTypes from '@tensorflow/tfjs';

import { log } from '../log/logger.js';

import { TF_BACKEND_CHOICES, TF_BACKEND_ENV, type TfBackendChoice, type TfBackendName } from './constants.js';

export { TF_BACKEND_CHOICES, TF_BACKEND_ENV, type TfBackendChoice, type TfBackendName };
export type Tf = typeof TfTypes;

const require = createRequire(import.meta.url);

/** A TensorFlow.js backend that was asked for by name and cannot run here. */
export class TfBackendError extends Error {
  override readonly name = 'TfBackendError';
  constructor(
    message: string,
    readonly backend: TfBackendChoice,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

let processDefault: TfBackendChoice | undefined;

function checkChoice(value: unknown, source: string): TfBackendChoice {
  if (typeof value === 'string' && (TF_BACKEND_CHOICES as readonly string[]).includes(value)) return value as TfBackendChoice;
  throw new TfBackendError(`${source}: unknown TensorFlow.js backend '${String(value)}'; valid backends: ${TF_BACKEND_CHOICES.join(', ')}`, 'auto');
}

/** Sets the backend used by neural runs whose own tf_backend option is 'auto' (the CLI's --tf-backend). */
export function setDefaultTfBackend(choice: TfBackendChoice): void {
  processDefault = checkChoice(choice, '--tf-backend');
}

/** The process-wide choice: setDefaultTfBackend(), else $HIERIMPUTE_TF_BACKEND, else 'auto'. */
export function defaultTfBackend(): TfBackendChoice {
  if (processDefault !== undefined) return processDefault;
  const env = process.env[TF_BACKEND_ENV];
  if (env !== undefined && env !== '') return checkChoice(env, TF_BACKEND_ENV);
  return 'auto';
}

let tfModule: Tf | undefined;
const failures = new Map<TfBackendName, Error>();
let lastLogged: string | undefined;

function firstLine(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return (text.split('\n').find((l) => l.trim() !== '') ?? text).trim();
}

function loadCore(): Tf {
  if (tfModule) return tfModule;
  let tf: Tf;
  try {
    tf = require('@tensorflow/tfjs') as Tf;
  } catch (err) {
    throw new TfBackendError(
      `TensorFlow.js is not installed (${firstLine(err)}). Fix: run 'npm ci' (or 'npm install') in the hierimpute folder; ` +
        'it installs @tensorflow/tfjs and @tensorflow/tfjs-backend-wasm from npm',
      'auto',
      { cause: err },
    );
  }
  // Production mode: no per-op NaN checks and no "install tfjs-node" banner on stderr.
  tf.enableProdMode();
  tfModule = tf;
  return tf;
}

/** Registers `name` with the engine (loading its package) or records why it cannot. */
function register(tf: Tf, name: TfBackendName): boolean {
  if (failures.has(name)) return false;
  if (tf.findBackendFactory(name)) return true;
  try {
    if (name === 'tensorflow') require('@tensorflow/tfjs-node');
    else if (name === 'wasm') require('@tensorflow/tfjs-backend-wasm');
    if (!tf.findBackendFactory(name)) throw new Error(`package loaded but registered no '${name}' backend (two copies of @tensorflow/tfjs-core?)`);
    return true;
  } catch (err) {
    failures.set(name, err instanceof Error ? err : new Error(String(err)));
    return false;
  }
}

async function activate(tf: Tf, name: TfBackendName): Promise<boolean> {
  if (!register(tf, name)) return false;
  try {
    if (tf.getBackend() !== name && !(await tf.setBackend(name))) throw new Error(`tf.setBackend('${name}') failed`);
    await tf.ready();
    return true;
  } catch (err) {
    failures.set(name, err instanceof Error ? err : new Error(String(err)));
    return false;
  }
}

const PACKAGE: Record<TfBackendName, string> = {
  tensorflow: '@tensorflow/tfjs-node',
  wasm: '@tensorflow/tfjs-backend-wasm',
  cpu: '@tensorflow/tfjs',
};

const FIX: Record<TfBackendName, string> = {
  tensorflow:
    "install it where the machine can download libtensorflow: 'npm install @tensorflow/tfjs-node@4.22.0' " +
    '(an optional peer dependency, never installed by default), or use --tf-backend wasm',
  wasm: "reinstall the dependencies ('npm ci'), or use --tf-backend cpu (pure JS, 4-6x slower)",
  cpu: "reinstall the dependencies ('npm ci')",
};

/**
 * TensorFlow.js switched to the backend `choice` resolves to ('auto' = process default, then
 * tensorflow > wasm > cpu). A named backend that cannot load throws TfBackendError.
 */
export async function loadTf(choice: TfBackendChoice = 'auto'): Promise<{ tf: Tf; backend: TfBackendName }> {
  checkChoice(choice, 'tf_backend');
  // 'native' is not a TensorFlow.js backend: code that needs TensorFlow.js anyway picks as 'auto'.
  const asked = choice === 'auto' ? defaultTfBackend() : choice;
  const effective = asked === 'native' ? 'auto' : asked;
  const tf = loadCore();
  if (effective !== 'auto') {
    if (!(await activate(tf, effective))) {
      const err = failures.get(effective);
      throw new TfBackendError(
        `TensorFlow.js backend '${effective}' was asked for but cannot load: ${firstLine(err)}. Fix: ${FIX[effective]}`,
        effective,
        { cause: err },
      );
    }
    announce(effective, 'as asked');
    return { tf, backend: effective };
  }
  const order = ['tensorflow', 'wasm', 'cpu'] as const;
  for (const [i, name] of order.entries()) {
    if (await activate(tf, name)) {
      const skipped = order.slice(0, i).map((n) => `${PACKAGE[n]} unavailable: ${firstLine(failures.get(n))}`);
      announce(name, skipped.length ? `auto; ${skipped.join('; ')}` : 'auto');
      return { tf, backend: name };
    }
  }
  throw new TfBackendError(`no TensorFlow.js backend could load: ${firstLine(failures.get('cpu'))}. Fix: ${FIX.cpu}`, 'cpu');
}

function announce(name: TfBackendName, why: string): void {
  const line = `TensorFlow.js ${tfModule?.version_core ?? ''} backend: ${name} (${why})`;
  if (line === lastLogged) return;
  lastLogged = line;
  log.info(line);
}

let queue: Promise<unknown> = Promise.resolve();

/**
 * Runs `fn` with TensorFlow.js on the chosen backend, one run at a time per process (the engine
 * and its active backend are global). Logs at debug level when tensors outlive the run.
 */
export function withTf<T>(choice: TfBackendChoice, fn: (tf: Tf, backend: TfBackendName) => Promise<T>): Promise<T> {
  const run = queue.then(async () => {
    const { tf, backend } = await loadTf(choice);
    const before = tf.memory().numTensors;
    try {
      return await fn(tf, backend);
    } finally {
      const after = tf.memory().numTensors;
      if (after !== before) log.debug(`neural: ${after - before} tensors outlived the run (backend ${backend})`);
    }
  });
  queue = run.catch(() => undefined);
  return run;
}

/** Live tensors of the loaded TensorFlow.js engine (0 when it was never loaded); for leak checks. */
export function liveTensors(): number {
  return tfModule ? tfModule.memory().numTensors : 0;
}
