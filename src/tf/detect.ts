// Which TensorFlow.js backend a neural method would run on, without loading TensorFlow
// (`hierimpute info`; loading @tensorflow/tfjs takes over a second).
import { createRequire } from 'node:module';

import { TF_BACKEND_ENV } from './constants.js';

const require = createRequire(import.meta.url);

function resolvable(pkg: string): boolean {
  try {
    require.resolve(pkg);
    return true;
  } catch {
    return false;
  }
}

export function describeTfBackend(): string {
  const forced = process.env[TF_BACKEND_ENV];
  // 'auto' runs the native C++ kernels of the core addon; TensorFlow.js is the named / fallback engine.
  const prefix = forced
    ? `${forced} (forced by ${TF_BACKEND_ENV}); otherwise `
    : 'native C++ kernels (auto); TensorFlow.js when asked or as fallback: ';
  if (!resolvable('@tensorflow/tfjs')) return `${prefix}none installed (neural methods lstm/rnn/gan unavailable; run npm ci)`;
  if (resolvable('@tensorflow/tfjs-node')) return `${prefix}tensorflow (native, @tensorflow/tfjs-node) if its binary loads, else wasm`;
  if (resolvable('@tensorflow/tfjs-backend-wasm'))
    return `${prefix}wasm (@tensorflow/tfjs-backend-wasm; optional @tensorflow/tfjs-node not installed)`;
  return `${prefix}cpu (pure JS @tensorflow/tfjs; wasm backend missing)`;
}
