// Launches a Node script under the mpiexec of the MPI the addon was built with (OpenMPI or
// MPICH/Hydra), always with a launcher time limit so a bug fails the test instead of hanging CI.
import { spawn } from 'node:child_process';
import { readFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export function buildInfo() {
  const dir = process.env.HIERIMPUTE_NATIVE_DIR ? join(process.env.HIERIMPUTE_NATIVE_DIR, '..') : join(root, 'build');
  const file = join(dir, 'build-info.json');
  if (!existsSync(file)) throw new Error(`no ${file}: build the addon first (npm run setup)`);
  return JSON.parse(readFileSync(file, 'utf8'));
}

/** argv and env for `mpiexec -n <n> node <args...>` with the right flags for the flavour. */
export function mpiexecArgv(n, nodeArgs, { timeoutS = 60 } = {}) {
  const info = buildInfo();
  const env = { ...process.env, NO_COLOR: '1' };
  let argv;
  if (info.mpiFlavor === 'openmpi') {
    Object.assign(env, { OMPI_ALLOW_RUN_AS_ROOT: '1', OMPI_ALLOW_RUN_AS_ROOT_CONFIRM: '1', OMPI_MCA_rmaps_base_oversubscribe: '1' });
    argv = [info.mpiexec, '--oversubscribe', '--timeout', String(timeoutS), '-x', 'NO_COLOR', '-n', String(n), process.execPath, ...nodeArgs];
  } else {
    Object.assign(env, { MPIEXEC_TIMEOUT: String(timeoutS), UCX_ERROR_SIGNALS: '' });
    argv = [info.mpiexec, '-n', String(n), process.execPath, ...nodeArgs];
  }
  return { argv, env };
}

/** Runs a command; resolves {code, signal, stdout, stderr, ms}. Kills it after hardTimeoutMs. */
export function run(argv, { env = process.env, cwd = root, hardTimeoutMs = 120_000 } = {}) {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const child = spawn(argv[0], argv.slice(1), { env, cwd, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const killer = setTimeout(() => {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {}
    }, hardTimeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(killer);
      resolve({ code, signal, stdout, stderr, ms: Date.now() - t0 });
    });
  });
}

export function mpirun(n, nodeArgs, opts = {}) {
  const { argv, env } = mpiexecArgv(n, nodeArgs, opts);
  return run(argv, { env: { ...env, ...(opts.env ?? {}) }, cwd: opts.cwd, hardTimeoutMs: (opts.timeoutS ?? 60) * 1000 + 30_000 });
}

/** A plain `node <args>` with no launcher in the environment. */
export function noLauncher(nodeArgs, opts = {}) {
  const env = { ...process.env, NO_COLOR: '1', ...(opts.env ?? {}) };
  for (const k of Object.keys(env)) if (/^(OMPI_|PMI_|PMIX_|SLURM_)/.test(k) && !(opts.env && k in opts.env)) delete env[k];
  return run([process.execPath, ...nodeArgs], { env, cwd: opts.cwd, hardTimeoutMs: opts.hardTimeoutMs });
}
