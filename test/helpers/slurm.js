// A real SLURM cluster for tests: munged, slurmctld and slurmd (Debian's slurm-wlm + munge) started
// as children of the test process, with every state, spool, pid, log and socket file in one scratch
// folder. One node on this machine, or several "hosts" in network namespaces (one slurmd each).
// The daemons are always stopped by pid (after() hook and process 'exit'), the scratch folder
// removed. When the cluster cannot run here (not root, binaries missing, daemons not coming up)
// startSlurm() returns { skip: reason } and the tests skip with that reason.
import { execFile, spawn, spawnSync } from 'node:child_process';
import {
  accessSync,
  chmodSync,
  constants,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { hostname, tmpdir } from 'node:os';
import { randomBytes } from 'node:crypto';
import { delimiter, dirname, join } from 'node:path';

import { root } from './mpirun.js';

/** Safety bound: munged, slurmctld and slurmd up and every node idle (normally a few seconds). */
export const DAEMONS_UP_BOUND_MS = 90_000;
/** Safety bound for one waitJob() (a hang guard, far above any job of these tests). */
export const JOB_WAIT_BOUND_MS = 300_000;
/** Safety bound for one SLURM client command (sbatch, scontrol, ...). */
const COMMAND_BOUND_MS = 30_000;
/** Safety bound for jobs to leave the queue after scancel, and for a daemon to exit after SIGTERM. */
const STOP_BOUND_MS = 20_000;
const POLL_MS = 500;

/** Job states after which a job never runs again. */
export const TERMINAL_STATES = new Set([
  'COMPLETED',
  'FAILED',
  'CANCELLED',
  'TIMEOUT',
  'NODE_FAIL',
  'OUT_OF_MEMORY',
  'PREEMPTED',
  'BOOT_FAIL',
  'DEADLINE',
]);

const BINARIES = ['munged', 'munge', 'unmunge', 'slurmctld', 'slurmd', 'sbatch', 'srun', 'sinfo', 'squeue', 'scontrol', 'scancel'];

function findBinary(name) {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/sbin', '/usr/local/sbin'];
  for (const d of dirs) {
    if (!d) continue;
    const p = join(d, name);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {}
  }
  return null;
}

/** Why a SLURM cluster cannot be started here (not root, binaries missing), or null. */
export function slurmUnavailable({ netns = false } = {}) {
  if (process.getuid?.() !== 0) return 'not root: slurmctld/slurmd/munged of a throwaway cluster need root (CI runs as root)';
  const missing = BINARIES.filter((b) => !findBinary(b));
  if (netns) for (const b of ['ip', 'nsenter', 'unshare']) if (!findBinary(b)) missing.push(b);
  if (missing.length) return `missing ${missing.join(', ')} (scripts/setup.sh installs slurm-wlm and munge on Debian)`;
  return null;
}

/** A TCP port that was free a moment ago (the kernel's pick). */
function freePort() {
  return new Promise((res, rej) => {
    const s = createServer();
    s.unref();
    s.on('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });
}

function shortHostname() {
  return hostname().split('.')[0];
}

function sleepSync(ms) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Alive and not a zombie (our own dead children stay zombies while the event loop is blocked). */
function alive(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

function tail(path, lines = 15) {
  try {
    return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** The environment of the launcher-free test process, without SLURM/MPI variables of any outer job. */
function cleanEnv() {
  const env = { ...process.env, NO_COLOR: '1' };
  for (const k of Object.keys(env)) if (/^(OMPI_|PMI_|PMIX_|SLURM_|PRTE_)/.test(k) || k === 'NODE_TEST_CONTEXT') delete env[k];
  // The batch scripts call `node`: the one running these tests.
  env.PATH = [dirname(process.execPath), env.PATH ?? '', '/usr/sbin', '/sbin'].join(delimiter);
  return env;
}

export class SlurmCluster {
  /**
   * @param {object} o
   * @param {number} o.hosts  0: one node on this machine, in its network; n > 0: n nodes, each a
   *   network namespace with its own address and host name (slurmctld in the first one).
   */
  constructor({ hosts = 0, cpus = 16 } = {}) {
    this.hosts = hosts;
    this.cpus = cpus;
    this.dir = mkdtempSync(join(tmpdir(), 'hi-slurm-'));
    // munged refuses a socket below a folder that is not searchable by all.
    chmodSync(this.dir, 0o755);
    this.conf = join(this.dir, 'slurm.conf');
    this.env = { ...cleanEnv(), SLURM_CONF: this.conf };
    this.daemons = []; // { name, pid, log, exit (promise), exited, stderr() }
    this.namespaces = [];
    this.tag = `hi${randomBytes(3).toString('hex')}`;
    this.stopped = false;
    this.onExit = () => this.stop();
    this.onSignal = (sig) => {
      this.stop();
      process.kill(process.pid, sig);
    };
    process.on('exit', this.onExit);
    process.once('SIGINT', this.onSignal);
    process.once('SIGTERM', this.onSignal);
  }

  /** Node names of this cluster. */
  get nodeNames() {
    return this.hosts === 0 ? [shortHostname()] : Array.from({ length: this.hosts }, (_, i) => `${this.tag}n${i + 1}`);
  }

  /** argv run inside the controller's network (a namespace for multi-host clusters). */
  wrap(argv, ns = this.namespaces[0]) {
    // nsenter switches only the network namespace (`ip netns exec` would also remount /sys,
    // hiding the cgroup filesystem slurmd needs).
    return this.hosts === 0 ? argv : [findBinary('nsenter'), `--net=/run/netns/${ns}`, ...argv];
  }

  #spawnDaemon(name, argv, log) {
    const child = spawn(argv[0], argv.slice(1), { env: this.env, cwd: this.dir, stdio: ['ignore', 'ignore', 'pipe'], detached: true });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr = (stderr + d).slice(-4000)));
    child.unref();
    child.stderr.unref?.();
    const d = { name, pid: child.pid, log, exited: null, stderr: () => stderr };
    d.exit = new Promise((res) => child.on('exit', (code, signal) => res((d.exited = { code, signal }))));
    child.on('error', (e) => (d.exited = { error: e.message }));
    this.daemons.push(d);
    return d;
  }

  /** Last lines of every daemon's log (for skip reasons and failures). */
  logTails() {
    return this.daemons
      .map(
        (d) =>
          `--- ${d.name} (pid ${d.pid}${d.exited ? `, exited ${JSON.stringify(d.exited)}` : ''}) ${d.log}:\n${tail(d.log)}${d.stderr() ? `\nstderr: ${d.stderr().trim()}` : ''}`,
      )
      .join('\n');
  }

  async #until(check, what, boundMs) {
    const t0 = Date.now();
    for (;;) {
      const dead = this.daemons.find((d) => d.exited);
      if (dead) throw new Error(`${dead.name} exited (${JSON.stringify(dead.exited)}) before ${what}`);
      const v = await check();
      if (v) return v;
      if (Date.now() - t0 > boundMs) throw new Error(`no ${what} within ${boundMs / 1000} s`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  #makeNamespaces() {
    const ip = (...a) => {
      const r = spawnSync(findBinary('ip'), a, { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`ip ${a.join(' ')}: ${(r.stderr || r.error?.message || '').trim()}`);
    };
    const sw = `${this.tag}sw`;
    ip('netns', 'add', sw);
    this.namespaces.push(sw);
    ip('-n', sw, 'link', 'add', 'br0', 'type', 'bridge');
    ip('-n', sw, 'link', 'set', 'br0', 'up');
    for (let i = 1; i <= this.hosts; i++) {
      const ns = `${this.tag}h${i}`;
      ip('netns', 'add', ns);
      this.namespaces.push(ns);
      // The veth pair is created with its ends already in the two namespaces: nothing is ever
      // added to this machine's own network.
      ip('-n', sw, 'link', 'add', `p${i}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns);
      ip('-n', sw, 'link', 'set', `p${i}`, 'master', 'br0');
      ip('-n', sw, 'link', 'set', `p${i}`, 'up');
      // 198.18.0.0/15 is set aside for network tests; the bridge namespace routes nowhere else.
      ip('-n', ns, 'addr', 'add', `198.18.0.${i}/24`, 'dev', 'eth0');
      ip('-n', ns, 'link', 'set', 'eth0', 'up');
      ip('-n', ns, 'link', 'set', 'lo', 'up');
    }
    // namespaces[0] is host 1 (controller and client commands), the switch last.
    this.namespaces = [...this.namespaces.slice(1), sw];
  }

  async start() {
    const d = this.dir;
    for (const sub of ['munge', 'state', 'spool', 'log', 'tmp']) mkdirSync(join(d, sub));
    chmodSync(join(d, 'tmp'), 0o1777);
    if (this.hosts > 0) this.#makeNamespaces();

    // munged with its own socket, pid, log and seed files; the installed key (copied, so that it
    // is owned by the root munged) or a fresh one.
    const key = join(d, 'munge', 'munge.key');
    let keySource = 'generated';
    try {
      copyFileSync('/etc/munge/munge.key', key);
      keySource = '/etc/munge/munge.key';
    } catch {
      writeFileSync(key, randomBytes(1024));
    }
    chmodSync(key, 0o600);
    this.mungeSocket = join(d, 'munge', 'munge.socket');
    const mungeLog = join(d, 'munge', 'munged.log');
    this.#spawnDaemon(
      'munged',
      [
        findBinary('munged'),
        '--foreground',
        `--socket=${this.mungeSocket}`,
        `--pid-file=${join(d, 'munge', 'munged.pid')}`,
        `--log-file=${mungeLog}`,
        `--seed-file=${join(d, 'munge', 'munged.seed')}`,
        `--key-file=${key}`,
      ],
      mungeLog,
    );
    await this.#until(
      () => {
        if (!existsSync(this.mungeSocket)) return false;
        const enc = spawnSync(findBinary('munge'), ['-S', this.mungeSocket, '-n'], { encoding: 'utf8' });
        if (enc.status !== 0) return false;
        return spawnSync(findBinary('unmunge'), ['-S', this.mungeSocket], { input: enc.stdout, encoding: 'utf8' }).status === 0;
      },
      `a munge credential round trip (key: ${keySource})`,
      DAEMONS_UP_BOUND_MS,
    );

    const ctldPort = await freePort();
    const dPort = await freePort();
    const multi = this.hosts > 0;
    // Addresses given, so nothing depends on this machine's name resolving (slurmctld checks only
    // that its own short host name is the one named here).
    const ctldHost = multi ? `${shortHostname()}(198.18.0.1)` : `${shortHostname()}(127.0.0.1)`;
    const nodeLines = multi
      ? this.nodeNames.map((n, i) => `NodeName=${n} NodeHostname=${n} NodeAddr=198.18.0.${i + 1} CPUs=${this.cpus} RealMemory=4000 State=UNKNOWN`)
      : [`NodeName=${shortHostname()} NodeAddr=127.0.0.1 CPUs=${this.cpus} RealMemory=4000 State=UNKNOWN`];
    // %n: one spool/pid/log per slurmd when several run on this machine.
    const conf = [
      `ClusterName=${this.tag}`,
      `SlurmctldHost=${ctldHost}`,
      'SlurmUser=root',
      'SlurmdUser=root',
      'AuthType=auth/munge',
      'CredType=cred/munge',
      // cred_expire is also how long a requeued job waits before it may start again (default 120 s; minimum 5).
      `AuthInfo=socket=${this.mungeSocket},cred_expire=10`,
      `StateSaveLocation=${join(d, 'state')}`,
      `SlurmdSpoolDir=${join(d, 'spool', '%n')}`,
      `SlurmctldPidFile=${join(d, 'slurmctld.pid')}`,
      `SlurmdPidFile=${join(d, 'slurmd-%n.pid')}`,
      `SlurmctldLogFile=${join(d, 'log', 'slurmctld.log')}`,
      `SlurmdLogFile=${join(d, 'log', 'slurmd-%n.log')}`,
      `TmpFS=${join(d, 'tmp')}`,
      `SlurmctldPort=${ctldPort}`,
      `SlurmdPort=${dPort}`,
      'ProctrackType=proctrack/linuxproc',
      'TaskPlugin=task/none',
      'JobAcctGatherType=jobacct_gather/none',
      'AccountingStorageType=accounting_storage/none',
      'JobCompType=jobcomp/none',
      'SchedulerType=sched/backfill',
      // Schedule pending jobs (a requeued one) within seconds instead of the default minute.
      'SchedulerParameters=bf_interval=2,sched_interval=2',
      'SelectType=select/cons_tres',
      'SelectTypeParameters=CR_Core',
      // Trust the CPU count below (more task slots than this machine's cores; tests oversubscribe).
      'SlurmdParameters=config_overrides',
      'MpiDefault=pmix',
      'ReturnToService=2',
      'JobRequeue=1',
      // SIGTERM -> SIGKILL grace at a time limit, cancel or requeue (default 30 s).
      'KillWait=5',
      // Keep finished jobs visible to `scontrol show job` for the whole test file.
      'MinJobAge=900',
      'SlurmctldTimeout=30',
      'SlurmdTimeout=60',
      ...nodeLines,
      `PartitionName=debug Nodes=${this.nodeNames.join(',')} Default=YES MaxTime=INFINITE State=UP OverSubscribe=FORCE:4`,
      '',
    ].join('\n');
    writeFileSync(this.conf, conf);
    for (const n of this.nodeNames) mkdirSync(join(d, 'spool', n));
    // Nothing else is read from /etc/slurm: an empty plugin stack next to our slurm.conf.
    writeFileSync(join(d, 'plugstack.conf'), '');

    this.#spawnDaemon('slurmctld', this.wrap([findBinary('slurmctld'), '-D', '-c']), join(d, 'log', 'slurmctld.log'));
    if (multi) {
      this.namespaces.slice(0, this.hosts).forEach((ns, i) => {
        const name = this.nodeNames[i];
        // Its own UTS namespace: the host name of every process of that "host" is its node name.
        // Its own mount namespace with a private TmpFS (SLURM's PMIx plugin and OpenMPI keep
        // per-step folders there, named by job and step, which would collide on a shared one).
        const tmp = join(d, 'tmp', name);
        mkdirSync(tmp, { mode: 0o1777 });
        chmodSync(tmp, 0o1777);
        const script = `mount --bind ${tmp} ${join(d, 'tmp')} && hostname ${name} && exec ${findBinary('slurmd')} -D -N ${name}`;
        this.#spawnDaemon(
          `slurmd ${name}`,
          [...this.wrap([findBinary('unshare')], ns), '--uts', '--mount', 'sh', '-c', script],
          join(d, 'log', `slurmd-${name}.log`),
        );
      });
    } else {
      this.#spawnDaemon('slurmd', [findBinary('slurmd'), '-D', '-N', shortHostname()], join(d, 'log', `slurmd-${shortHostname()}.log`));
    }
    await this.#until(
      async () => {
        const r = await this.cmd(['sinfo', '-h', '-N', '-o', '%N %T'], { check: false });
        if (r.code !== 0) return false;
        const states = new Map(
          r.stdout
            .trim()
            .split('\n')
            .filter(Boolean)
            .map((l) => l.split(/\s+/)),
        );
        return this.nodeNames.every((n) => states.get(n) === 'idle');
      },
      `every node idle in sinfo (${this.nodeNames.join(', ')})`,
      DAEMONS_UP_BOUND_MS,
    );
    return this;
  }

  /** Runs a SLURM client command in the cluster's network; resolves {code, stdout, stderr}. */
  cmd(argv, { env = {}, check = true, cwd = root } = {}) {
    const full = this.wrap(argv);
    return new Promise((res, rej) => {
      execFile(
        full[0],
        full.slice(1),
        { env: { ...this.env, ...env }, cwd, timeout: COMMAND_BOUND_MS, maxBuffer: 1 << 24 },
        (err, stdout, stderr) => {
          const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
          const r = { code, stdout, stderr };
          if (check && code !== 0)
            rej(new Error(`${argv.join(' ')} exited ${code}: ${stderr.trim()}${err?.killed ? ' (killed: over the command bound)' : ''}`));
          else res(r);
        },
      );
    });
  }

  /** sbatch --parsable ARGS (from the repository root); resolves the job id. */
  async sbatch(args, { env = {} } = {}) {
    const r = await this.cmd(['sbatch', '--parsable', ...args], { env });
    const id = r.stdout.trim().split(';')[0];
    if (!/^\d+$/.test(id)) throw new Error(`sbatch printed no job id: ${r.stdout} ${r.stderr}`);
    return id;
  }

  /** `scontrol show job -o ID` as {state, restarts, exitCode, reason, line}. */
  async job(id) {
    const r = await this.cmd(['scontrol', 'show', 'job', '-o', String(id)]);
    const line = r.stdout.trim();
    const field = (name) => new RegExp(`(?:^|\\s)${name}=(\\S*)`).exec(line)?.[1];
    return {
      id: String(id),
      state: field('JobState'),
      restarts: Number(field('Restarts')),
      exitCode: field('ExitCode'),
      reason: field('Reason'),
      line,
    };
  }

  /**
   * Polls the job until `pred(info)` holds, resolving info. Rejects when the job ends (terminal
   * state) without it, or after `boundMs` (a hang guard); the message carries `context()` (e.g. the
   * job's output).
   */
  async waitJob(id, pred, what, { boundMs = JOB_WAIT_BOUND_MS, context = () => '' } = {}) {
    const t0 = Date.now();
    for (;;) {
      const info = await this.job(id);
      if (pred(info)) return info;
      const why = TERMINAL_STATES.has(info.state)
        ? `job ${id} ended (${info.state}) before ${what}`
        : Date.now() - t0 > boundMs
          ? `job ${id}: no ${what} within ${boundMs / 1000} s`
          : null;
      if (why) throw new Error(`${why}\n${info.line}\n${context()}`);
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  }

  /** Waits for the job to end; resolves its final info. */
  waitEnd(id, opts) {
    return this.waitJob(id, (j) => TERMINAL_STATES.has(j.state), 'its end', opts);
  }

  /** scancel the jobs (ignoring ones already gone). */
  async cancel(...ids) {
    if (ids.length) await this.cmd(['scancel', ...ids.map(String)], { check: false });
  }

  #sync(argv) {
    const full = this.wrap(argv);
    return spawnSync(full[0], full.slice(1), { env: this.env, encoding: 'utf8', timeout: COMMAND_BOUND_MS });
  }

  /** Pids of processes that carry this cluster's SLURM_CONF (job steps, their tasks, stragglers). */
  #ourProcesses() {
    const marker = `SLURM_CONF=${this.conf}\0`;
    const pids = [];
    for (const p of readdirSync('/proc')) {
      if (!/^\d+$/.test(p) || Number(p) === process.pid) continue;
      try {
        if (readFileSync(`/proc/${p}/environ`, 'latin1').includes(marker)) pids.push(Number(p));
      } catch {}
    }
    return pids;
  }

  /**
   * Cancels every job, stops the daemons by pid (SIGTERM, SIGKILL past a bound), kills any
   * process still carrying this cluster's SLURM_CONF, deletes the namespaces and the scratch
   * folder. Synchronous (it also runs from process 'exit'); idempotent.
   */
  stop() {
    if (this.stopped) return;
    this.stopped = true;
    process.off('exit', this.onExit);
    process.off('SIGINT', this.onSignal);
    process.off('SIGTERM', this.onSignal);
    const ctld = this.daemons.find((d) => d.name === 'slurmctld');
    if (ctld && alive(ctld.pid)) {
      const ids = (this.#sync(['squeue', '-h', '-o', '%i']).stdout ?? '').split('\n').filter(Boolean);
      if (ids.length) {
        this.#sync(['scancel', ...ids]);
        const t0 = Date.now();
        while (Date.now() - t0 < STOP_BOUND_MS && (this.#sync(['squeue', '-h', '-o', '%i']).stdout ?? '').trim()) sleepSync(POLL_MS);
      }
    }
    // slurmd before slurmctld, munged last.
    for (const d of [...this.daemons].reverse().sort((a, b) => (a.name.startsWith('slurmd') ? -1 : b.name.startsWith('slurmd') ? 1 : 0))) {
      try {
        process.kill(d.pid, 'SIGTERM');
      } catch {}
      const t0 = Date.now();
      while (alive(d.pid) && Date.now() - t0 < STOP_BOUND_MS) sleepSync(100);
      try {
        if (alive(d.pid)) process.kill(d.pid, 'SIGKILL');
      } catch {}
    }
    for (const pid of this.#ourProcesses()) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {}
    }
    for (const ns of this.namespaces) {
      for (const pid of (spawnSync(findBinary('ip'), ['netns', 'pids', ns], { encoding: 'utf8' }).stdout ?? '').split('\n').filter(Boolean)) {
        try {
          process.kill(Number(pid), 'SIGKILL');
        } catch {}
      }
      spawnSync(findBinary('ip'), ['netns', 'del', ns]);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** stop(), then lets Node reap the daemons it started (for after() hooks). */
  async close() {
    this.stop();
    let timer;
    await Promise.race([Promise.all(this.daemons.map((d) => d.exit)), new Promise((r) => (timer = setTimeout(r, STOP_BOUND_MS)))]);
    clearTimeout(timer);
  }
}

/**
 * Starts a cluster (see SlurmCluster) and resolves it, or resolves { skip: reason } when it
 * cannot run here: not root, binaries missing, namespaces not permitted, or the daemons did not
 * come up (their log tails are in the reason).
 */
export async function startSlurm(opts = {}) {
  const why = slurmUnavailable({ netns: (opts.hosts ?? 0) > 0 });
  if (why) return { skip: why };
  const c = new SlurmCluster(opts);
  try {
    return await c.start();
  } catch (e) {
    const reason = `SLURM did not come up: ${e.message}\n${c.logTails()}`;
    c.stop();
    return { skip: reason };
  }
}
