// Launches a Node script under the mpiexec of the MPI the addon was built with (OpenMPI or
// MPICH/Hydra), always with a launcher time limit so a bug fails the test instead of hanging CI.
import assert from 'node:assert/strict';
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

/**
 * Runs a command; resolves {code, signal, stdout, stderr, ms, hardKilled}. Kills its process group
 * after hardTimeoutMs (a safety net against hangs, far above any normal run; hardKilled says it fired).
 */
export function run(argv, { env = process.env, cwd = root, hardTimeoutMs = 120_000 } = {}) {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const child = spawn(argv[0], argv.slice(1), { env, cwd, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    let hardKilled = false;
    const killer = setTimeout(() => {
      hardKilled = true;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {}
    }, hardTimeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(killer);
      resolve({ code, signal, stdout, stderr, ms: Date.now() - t0, hardKilled, pid: child.pid });
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

/**
 * Asserts that a job ended through MPI_Abort called by the failing rank (whose log file is
 * `rankLog`), not through the launcher's time limit or the test's hard kill: the property "the job
 * did not hang", without a guess at how fast this machine is. (mpiexec's own MPI_ABORT banner is
 * not always printed before it exits, so the rank's log is the witness.)
 */
export function assertAborted(r, rankLog) {
  assert.notEqual(r.code, 0, 'the job must exit non-zero');
  assert.equal(r.hardKilled, false, 'the job hung until the test killed it');
  assert.doesNotMatch(
    r.stdout + r.stderr,
    /time limit for job execution has been reached|APPLICATION TIMED OUT/i,
    'the job hung until the launcher time limit',
  );
  assert.match(readFileSync(rankLog, 'utf8'), /aborting every rank of the job \(MPI_Abort\)/, `${rankLog} must record the abort`);
}

/**
 * Polls `check` (every 20 ms) until it returns a truthy value, which it resolves with. Rejects if
 * `job` (a promise of a run() result) settles first: the event can no longer happen.
 */
export async function waitFor(check, what, job) {
  let settled = null;
  job?.then(
    (r) => (settled = r),
    (e) => (settled = { error: e }),
  );
  for (;;) {
    const v = check();
    if (v) return v;
    if (settled) throw new Error(`the job ended before ${what}: ${JSON.stringify(settled).slice(-2000)}`);
    await new Promise((res) => setTimeout(res, 20));
  }
}

/** Lines of a text file that match `re` (0 when the file does not exist yet). */
export function countLines(path, re) {
  if (!existsSync(path)) return 0;
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => re.test(l)).length;
}
