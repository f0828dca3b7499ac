// MPI is optional at build time. A clean copy of the native sources built with
// HIERIMPUTE_BUILD_MPI=OFF (so this works where an MPI is installed) has the core addon only and
// records "mpi": false; with it, single-rank `run` (plain and --evaluate) writes the same bytes as
// the normal build, `impute` works, `info` says MPI is not built and how to build it, and a process
// started by a launcher fails at once with the fix instead of running the whole job alone.
import assert from 'node:assert/strict';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { noLauncher, root, run } from './helpers/mpirun.js';
import { main, makeData, runCli, sequenceFiles, tempDir } from './helpers/sweep.js';

const work = mkdtempSync(join(tmpdir(), 'hi-nompi-'));
after(() => rmSync(work, { recursive: true, force: true }));
const src = join(work, 'pkg');
const buildDir = join(src, 'build');
const nativeDir = join(buildDir, 'Release');
const noMpi = { HIERIMPUTE_NATIVE_DIR: nativeDir };
let compile;

before(async () => {
  // Only what the native build reads: package.json (cmake-js options), CMakeLists.txt, native/, and
  // node_modules (cmake-js itself, node-addon-api and node-api-headers).
  mkdirSync(src);
  for (const f of ['package.json', 'CMakeLists.txt']) copyFileSync(join(root, f), join(src, f));
  cpSync(join(root, 'native'), join(src, 'native'), { recursive: true });
  symlinkSync(join(root, 'node_modules'), join(src, 'node_modules'), 'dir');
  const env = { ...process.env, HIERIMPUTE_BUILD_MPI: 'OFF' };
  delete env.HIERIMPUTE_NATIVE_DIR;
  const t0 = Date.now();
  // Two parallel jobs and only the core target: the one addon this build has.
  compile = await run(['npx', '--no-install', 'cmake-js', 'compile', '--log-level', 'warn', '--parallel', '2', '--target', 'hierimpute_core'], {
    env,
    cwd: src,
    hardTimeoutMs: 1_800_000,
  });
  console.log(`no-MPI core build: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  assert.equal(compile.code, 0, compile.stdout + compile.stderr);
});

test('HIERIMPUTE_BUILD_MPI=OFF: the core addon only, one CMake message, build-info.json says no MPI', () => {
  assert.deepEqual(readdirSync(nativeDir), ['hierimpute_core.node']);
  assert.equal(existsSync(join(buildDir, 'mpi_pingpong_c')), false);
  assert.doesNotMatch(readFileSync(join(buildDir, 'build.ninja'), 'utf8'), /hierimpute_mpi|mpi_pingpong_c/, 'no MPI target is even defined');
  const said = (compile.stdout + compile.stderr).match(/HIERIMPUTE_BUILD_MPI=OFF, building hierimpute_core\.node only/g) ?? [];
  assert.equal(said.length, 1, compile.stdout + compile.stderr);
  const info = JSON.parse(readFileSync(join(buildDir, 'build-info.json'), 'utf8'));
  assert.equal(info.mpi, false);
  assert.equal(info.mpiNote, 'HIERIMPUTE_BUILD_MPI=OFF');
  assert.equal(info.mpiFlavor, 'none');
  assert.equal(info.mpiexec, '');
  assert.equal(info.pingpong, '');
  assert.equal(info.buildDir, buildDir);
});

test('single rank without the MPI addon: run and run --evaluate write the same bytes as the normal build; impute works', async () => {
  const data = makeData();
  const outs = {};
  for (const [name, env] of [
    ['normal', {}],
    ['noMpi', noMpi],
  ]) {
    const out = tempDir(`hi-nompi-${name}-`);
    const r = await runCli(['run', '--preset', 'quick', '--data', data, '--out', out, '--progress=false'], { env });
    assert.equal(r.code, 0, `${name}: ${r.stderr}`);
    const ev = tempDir(`hi-nompi-${name}-eval-`);
    const e = await runCli(['run', '--preset', 'quick', '--data', data, '--out', ev, '--progress=false', '--evaluate'], { env });
    assert.equal(e.code, 0, `${name} --evaluate: ${e.stderr}`);
    outs[name] = { out, ev };
  }
  const a = sequenceFiles(outs.normal.out);
  const b = sequenceFiles(outs.noMpi.out);
  assert.ok(a.size > 0);
  assert.deepEqual([...b.keys()], [...a.keys()]);
  for (const [k, v] of a) assert.ok(v.equals(b.get(k)), `${k} differs between the normal and the no-MPI build`);
  for (const f of ['leaderboard.csv', 'best_sequences.csv']) {
    assert.ok(readFileSync(join(outs.normal.ev, f)).equals(readFileSync(join(outs.noMpi.ev, f))), `--evaluate ${f} differs`);
  }

  const input = join(tempDir('hi-nompi-impute-'), 'in.csv');
  writeFileSync(input, 'a,b\n1,2\n,4\n5,\n');
  const output = join(tempDir('hi-nompi-impute-out-'), 'out.csv');
  const i = await runCli(['impute', '--method', 'mean', '--input', input, '--output', output], { env: noMpi });
  assert.equal(i.code, 0, i.stderr);
  assert.equal(readFileSync(output, 'utf8'), 'a,b\n1,2\n3,4\n5,3\n');
});

test('info says MPI is not built, and how to build it', async () => {
  const r = await runCli(['info', '--json'], { env: noMpi });
  assert.equal(r.code, 0, r.stderr);
  const info = JSON.parse(r.stdout.trim().split('\n').pop());
  assert.equal(info.mpiBuilt, false);
  assert.equal(info.mpiBuiltWith, 'not built (HIERIMPUTE_BUILD_MPI=OFF): single-rank runs only');
  assert.match(info.mpiHowToBuild, /apt-get install openmpi-bin libopenmpi-dev/);
  assert.match(info.mpiHowToBuild, /HIERIMPUTE_BUILD_MPI=ON npx cmake-js rebuild/);
  assert.equal(info.launchMode, 'single');
  assert.equal(info.size, 1);
  const text = await runCli(['info'], { env: noMpi });
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /^MPI build: +not built \(HIERIMPUTE_BUILD_MPI=OFF\): single-rank runs only$/m);
  assert.match(text.stdout, /^ +to build it: +install an MPI/m);
});

test('started by a launcher without the MPI addon: every rank fails at once with the fix, nothing runs', async () => {
  const launchers = [
    ['OpenMPI rank 0', 0, { OMPI_COMM_WORLD_SIZE: '2', OMPI_COMM_WORLD_RANK: '0' }],
    ['OpenMPI rank 1', 1, { OMPI_COMM_WORLD_SIZE: '2', OMPI_COMM_WORLD_RANK: '1' }],
    ['Slurm srun rank 1', 1, { SLURM_STEP_ID: '0', SLURM_PROCID: '1', SLURM_STEP_NUM_TASKS: '2' }],
  ];
  const data = makeData(undefined, { rows: 40 });
  for (const [what, rank, env] of launchers) {
    const out = join(tempDir('hi-nompi-launched-'), 'out');
    const r = await noLauncher([main, 'run', '--preset', 'quick', '--data', data, '--out', out, '--progress=false'], {
      env: { ...noMpi, ...env },
      hardTimeoutMs: 120_000,
    });
    assert.equal(r.hardKilled, false, `${what}: the rank did not end by itself`);
    assert.equal(r.code, 1, `${what}: ${r.stdout}${r.stderr}`);
    for (const part of [
      'built without its MPI addon (HIERIMPUTE_BUILD_MPI=OFF)',
      join(buildDir, 'build-info.json'),
      'Each rank would run the whole job alone, so none starts',
      'apt-get install openmpi-bin libopenmpi-dev',
      'HIERIMPUTE_BUILD_MPI=ON npx cmake-js rebuild',
      'start the same command without mpiexec/srun',
    ]) {
      assert.ok(r.stderr.includes(part), `${what}: stderr lacks ${JSON.stringify(part)}:\n${r.stderr}`);
    }
    assert.ok(r.stderr.includes(`[Rank ${rank}] ERROR: error on rank ${rank}: started by an MPI launcher`), `${what}: ${r.stderr}`);
    assert.doesNotMatch(r.stderr, /^\s+at /m, `${what}: a setup error prints its message, not a stack`);
    assert.equal(existsSync(join(out, 'sequences')), false, `${what}: the rank must not run the sweep`);
  }
  const info = await noLauncher([main, 'info'], { env: { ...noMpi, ...launchers[0][2] }, hardTimeoutMs: 60_000 });
  assert.equal(info.code, 1);
  assert.match(info.stderr, /started by an MPI launcher \(OpenMPI mpiexec, 2 tasks; this is rank 0\)/);
});
