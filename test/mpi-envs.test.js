// The MPI addon keeps its JavaScript-facing state per Node environment (instance data released by
// a cleanup hook): loading it in many short-lived worker threads, each setting its own status
// array, must neither touch a torn-down environment nor leak a pending request into another.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';

import { mpiBuilt, nativeDir } from '../dist/bindings/paths.js';
import { noLauncher, root } from './helpers/mpirun.js';

const skip = mpiBuilt() ? false : 'the MPI addon is not built (HIERIMPUTE_BUILD_MPI=OFF or no MPI found)';

test('the MPI addon loaded in 30 worker threads and the main thread: every environment ends cleanly', { skip }, async () => {
  const addon = join(nativeDir(), 'hierimpute_mpi.node');
  const r = await noLauncher(['--expose-gc', join(root, 'test', 'fixtures', 'mpi-worker-envs.mjs'), addon], { hardTimeoutMs: 120_000 });
  assert.equal(r.code, 0, `exit ${r.code} (signal ${r.signal}): ${r.stderr}`);
  assert.match(r.stdout, /main: pending 0 ok/);
});
