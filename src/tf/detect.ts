// Which TensorFlow.js backend a neural method would run on, without loading TensorFlow.
import { createRequire } from 'node:module';

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
  if (resolvable('@tensorflow/tfjs-node')) return 'tensorflow (native, @tensorflow/tfjs-node), if its binary loads';
  if (resolvable('@tensorflow/tfjs-backend-wasm')) return 'wasm (@tensorflow/tfjs-backend-wasm; tfjs-node not installed)';
  if (resolvable('@tensorflow/tfjs')) return 'cpu (pure JS @tensorflow/tfjs)';
  return 'none installed (neural methods lstm/rnn/gan unavailable)';
}
