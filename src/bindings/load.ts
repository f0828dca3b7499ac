// Loads one of the native addons; when it cannot, throws ONE error that lists the fixes.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

import { buildInfo, nativeDir } from './paths.js';

const require = createRequire(import.meta.url);
const cache = new Map<string, unknown>();

export function loadAddon<T>(name: 'hierimpute_core' | 'hierimpute_mpi'): T {
  const hit = cache.get(name);
  if (hit) return hit as T;
  const file = join(nativeDir(), `${name}.node`);
  let mod: T;
  try {
    mod = require(file) as T;
  } catch (err) {
    throw new Error(loadFailureMessage(name, file, err as Error));
  }
  cache.set(name, mod);
  return mod;
}

function loadFailureMessage(name: string, file: string, err: Error): string {
  const lines = [
    `hierimpute could not load its native addon ${name}.node`,
    `  file:  ${file}`,
    `  cause: ${err.message.split('\n')[0]}`,
    'Possible fixes:',
  ];
  if (!existsSync(file)) {
    lines.push('  - build it: `npm run setup` (Debian: installs cmake, g++, OpenMPI, libxgboost-dev, then builds)');
    lines.push('  - or only the native part: `npm run build:native`');
  }
  if (/libxgboost/.test(err.message)) {
    lines.push('  - libxgboost is not on the loader path: `apt-get install libxgboost-dev`, or on a cluster');
    lines.push('    `module load xgboost` and add its lib folder to LD_LIBRARY_PATH');
  }
  if (/libmpi/.test(err.message)) {
    const info = buildInfo();
    lines.push(`  - libmpi is not on the loader path (built against ${info?.mpiFlavor ?? 'an MPI'}): on a cluster login`);
    lines.push('    node `module load openmpi` (or the MPI the addon was built with), or rebuild with `npm run build:native`');
  }
  if (/NODE_MODULE_VERSION|napi|symbol/i.test(err.message)) {
    lines.push('  - the addon was built for another Node.js or MPI: rebuild with `npm run build:native`');
  }
  return lines.join('\n');
}
