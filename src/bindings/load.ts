// Loads one of the native addons; when it cannot, throws ONE error that lists the fixes.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

import { buildInfo, isDevCheckout, nativeDir, rebuildCommand } from './paths.js';

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
  // A package installed from npm has no scripts/setup.sh and no `npm run` scripts of its own to
  // point at: its fixes are system packages and a rebuild through cmake-js (a dependency).
  const dev = isDevCheckout();
  const rebuild = dev
    ? ['`npm run build:native` (in a fresh build folder:', `    \`${rebuildCommand()}\`)`]
    : ['`npm rebuild hierimpute` from the project that installed it,', `    or \`${rebuildCommand()}\``];
  if (!existsSync(file)) {
    if (dev) {
      lines.push('  - in this development checkout: `npm run setup` (Debian: installs cmake, g++, OpenMPI, libxgboost-dev,');
      lines.push('    then builds), or only the native part: `npm run build:native`');
    } else {
      lines.push('  - it was not built when the package was installed (the npm install log shows why). Install the');
      lines.push('    build tools, Debian/Ubuntu: `apt-get install cmake g++ libxgboost-dev` (MPI, optional:');
      lines.push('    `openmpi-bin libopenmpi-dev`); a cluster: `module load cmake gcc xgboost openmpi`');
      lines.push(`  - then rebuild: ${rebuild.join('\n')}`);
    }
    lines.push('  - if MPI is what fails to build, build without the MPI addon (single-rank runs only):');
    lines.push(`    \`${rebuildCommand('HIERIMPUTE_BUILD_MPI=OFF')}\``);
  }
  if (/libxgboost/.test(err.message)) {
    lines.push('  - libxgboost is not on the loader path: `apt-get install libxgboost-dev`, or on a cluster');
    lines.push('    `module load xgboost` and add its lib folder to LD_LIBRARY_PATH');
  }
  if (/libmpi/.test(err.message)) {
    const info = buildInfo();
    lines.push(`  - libmpi is not on the loader path (built against ${info?.mpiFlavor ?? 'an MPI'}): on a cluster login`);
    lines.push('    node `module load openmpi` (or the MPI the addon was built with), or rebuild against the MPI');
    lines.push(`    you have: \`${rebuildCommand()}\``);
  }
  if (/NODE_MODULE_VERSION|napi|symbol/i.test(err.message)) {
    lines.push(`  - the addon was built for another Node.js or MPI: rebuild it, ${rebuild.join('\n')}`);
  }
  return lines.join('\n');
}
