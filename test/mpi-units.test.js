// Unit tests without MPI: the payload codec and launch detection.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { decode, encode, KIND_BYTES, KIND_JSON } from '../dist/mpi/codec.js';
import { detectLaunch } from '../dist/mpi/launch.js';
import { TAG_DONE, TAG_ERROR, TAG_STOP, TAG_TASK, isTag } from '../dist/mpi/tags.js';

test('codec: bytes pass through untouched (same memory), JSON round-trips', () => {
  const bytes = Buffer.from([0, 1, 2, 255]);
  const e = encode(bytes);
  assert.equal(e.kind, KIND_BYTES);
  assert.equal(e.body, bytes);
  const d = decode(e.kind, Buffer.from(e.body));
  assert.equal(d.kind, 'bytes');
  assert.deepEqual([...d.payload], [0, 1, 2, 255]);
  const obj = { seq: 3, dataset: 'ds_ä', done: false, nested: [1, null, 'x'] };
  const j = encode(obj);
  assert.equal(j.kind, KIND_JSON);
  assert.deepEqual(decode(j.kind, Buffer.from(j.body)), { kind: 'json', payload: obj });
  assert.deepEqual(decode(KIND_JSON, Buffer.from(encode(null).body)), { kind: 'json', payload: null });
});

test('codec: rejects what it cannot carry', () => {
  assert.throws(() => encode(new Float32Array(2)), /only Uint8Array/);
  assert.throws(() => encode(undefined), /not JSON-serialisable/);
  assert.throws(() => decode(7, Buffer.alloc(0)), /unknown payload kind 7/);
});

test('tags: a small fixed set of distinct small integers', () => {
  const tags = [TAG_TASK, TAG_DONE, TAG_STOP, TAG_ERROR];
  assert.equal(new Set(tags).size, 4);
  for (const t of tags) assert.ok(isTag(t) && t > 0 && t < 32767);
  assert.equal(isTag(99), false);
});

test('launch detection: each launcher family', () => {
  assert.equal(detectLaunch({}).mode, 'single');
  assert.deepEqual(
    (({ mode, expectedSize, expectedRank }) => ({ mode, expectedSize, expectedRank }))(
      detectLaunch({ OMPI_COMM_WORLD_SIZE: '8', OMPI_COMM_WORLD_RANK: '3' }),
    ),
    { mode: 'openmpi', expectedSize: 8, expectedRank: 3 },
  );
  const hydra = detectLaunch({ PMI_SIZE: '4', PMI_RANK: '1' });
  assert.equal(hydra.mode, 'hydra');
  assert.equal(hydra.expectedSize, 4);
  const srunPmi = detectLaunch({ PMI_SIZE: '64', PMI_RANK: '0', SLURM_STEP_ID: '0', SLURM_PROCID: '0' });
  assert.equal(srunPmi.mode, 'srun');
  assert.equal(srunPmi.expectedSize, 64);
  const pmix = detectLaunch({ PMIX_RANK: '2', SLURM_STEP_NUM_TASKS: '16' });
  assert.deepEqual([pmix.mode, pmix.expectedSize, pmix.expectedRank], ['pmix', 16, 2]);
  const srun = detectLaunch({ SLURM_STEP_ID: '1', SLURM_PROCID: '5', SLURM_STEP_NUM_TASKS: '32', SLURM_NTASKS: '32' });
  assert.deepEqual([srun.mode, srun.expectedSize, srun.expectedRank], ['srun', 32, 5]);
});

test('launch detection: an sbatch batch script (SLURM_NTASKS only) is not a launcher; overrides work', () => {
  assert.equal(detectLaunch({ SLURM_NTASKS: '64', SLURM_JOB_ID: '1' }).mode, 'single');
  assert.equal(detectLaunch({ HIERIMPUTE_MPI: '0', OMPI_COMM_WORLD_SIZE: '4' }).mode, 'single');
  assert.equal(detectLaunch({ HIERIMPUTE_MPI: '1' }).mode, 'forced');
  assert.equal(detectLaunch({ OMPI_COMM_WORLD_SIZE: 'x' }).mode, 'single');
});
