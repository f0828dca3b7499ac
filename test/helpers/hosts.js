// Several "hosts" on one machine for multi-host MPI tests: one network namespace per host, all
// linked by veth pairs to a bridge that lives in a switch namespace of its own (so nothing is routed
// to or from the machine's real network), and an rsh/ssh stand-in that mpiexec uses to start its
// daemons "on" a host. Every process of a host runs in that host's network namespace, under the
// host's own name (UTS namespace) and in a PID namespace of its own, so:
//   - ranks on different hosts talk over TCP across the bridge, one MPI daemon per host;
//   - a lock left by a rank of a dead host names that host and a foreign PID namespace, so it is
//     recovered by its lease, never by a PID check (see docs/locks.md, "Stale claims");
//   - "losing a host" is SIGKILLing every process in its network namespace (killHost).
// The file system stays shared, like a cluster's shared file system.
//
// Needs root (CAP_SYS_ADMIN, CAP_NET_ADMIN) and iproute2 + util-linux (ip, unshare).
// canUseNamespaces() says why not, so tests can skip with that reason. Names include this
// process's pid, so parallel test runs never collide; each run's namespaces are isolated from every
// other run's, so all runs can use the same subnet. Every namespace made here is deleted at
// teardown, which always runs: call it from after(), and it also runs on process exit and on
// SIGINT/SIGTERM/SIGHUP. Namespaces left behind by a test process that was SIGKILLed are removed by
// the next createHosts() (their pid is gone).
import { execFileSync } from 'node:child_process';
import { accessSync, chmodSync, constants, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

import { buildInfo, run } from './mpirun.js';

/** 198.18.0.0/15 is set aside for benchmark tests (RFC 2544): never a real network here. */
export const SUBNET = '198.18.0.0/24';
const PREFIX = 'himh';
const OWN = `${PREFIX}${process.pid}`;

/** Absolute path of a tool (PATH, then the sbin folders a non-login PATH may lack), or null. */
function findBinary(name) {
  for (const d of [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/sbin', '/usr/bin', '/bin']) {
    if (!d) continue;
    try {
      accessSync(join(d, name), constants.X_OK);
      return join(d, name);
    } catch {}
  }
  return null;
}

const bin = (name) => findBinary(name) ?? name;

function ip(...args) {
  return execFileSync(bin('ip'), args, { stdio: ['ignore', 'pipe', 'pipe'] }).toString();
}

let probed;
/**
 * null when this process can make network namespaces (and run the tools the hosts need); else the
 * reason it cannot, for test(..., { skip: reason }).
 */
export function canUseNamespaces() {
  if (probed !== undefined) return probed;
  probed = (() => {
    if (process.platform !== 'linux') return `network namespaces need Linux (this is ${process.platform})`;
    if (typeof process.getuid === 'function' && process.getuid() !== 0) return 'network namespaces need root (run the tests as root)';
    for (const cmd of ['ip', 'unshare', 'hostname'])
      if (!findBinary(cmd)) return `'${cmd}' is not installed (packages iproute2, util-linux, hostname; scripts/setup.sh installs iproute2)`;
    const probe = `${OWN}-probe`;
    try {
      ip('netns', 'add', probe);
    } catch (e) {
      return `'ip netns add' is not permitted here: ${String(e.stderr || e.message).trim()}`;
    }
    try {
      // The host entry the agent uses: new UTS and PID namespaces inside the network namespace.
      ip('netns', 'exec', probe, bin('unshare'), '--uts', '--pid', '--fork', '--mount-proc', 'sh', '-c', `${bin('hostname')} probe-host`);
    } catch (e) {
      return `'unshare --uts --pid --fork --mount-proc' inside a network namespace failed: ${String(e.stderr || e.message).trim()}`;
    } finally {
      try {
        ip('netns', 'del', probe);
      } catch {}
    }
    return null;
  })();
  return probed;
}

/** Every Hosts not torn down yet, for the exit/signal handlers. */
const live = new Set();
let handlersInstalled = false;
function installHandlers() {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on('exit', () => {
    for (const h of live) h.teardown();
  });
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.once(sig, () => {
      for (const h of live) h.teardown();
      process.kill(process.pid, sig);
    });
  }
}

/**
 * True when `name` (a namespace, a temp folder, or an OpenMPI session folder `ompi.<host>.<uid>`)
 * was made by a test process (its pid is in the name) that no longer exists.
 */
function orphaned(name) {
  const m = new RegExp(`^(?:ompi\\.)?${PREFIX}(\\d+)-`).exec(name);
  if (!m || Number(m[1]) === process.pid) return false;
  try {
    process.kill(Number(m[1]), 0);
    return false; // alive (or its pid was reused): not ours to remove
  } catch (e) {
    return e.code === 'ESRCH';
  }
}

/** Removes what earlier test processes left when they died without their teardown (SIGKILL). */
function removeOrphans() {
  let list = '';
  try {
    list = ip('netns', 'list');
  } catch {}
  for (const name of list.split('\n').map((l) => l.split(' ')[0])) {
    if (!orphaned(name)) continue;
    killNamespace(name);
    try {
      ip('netns', 'del', name);
    } catch {}
  }
  for (const name of readdirSync(tmpdir())) if (orphaned(name)) rmSync(join(tmpdir(), name), { recursive: true, force: true });
}

function nsPids(ns) {
  try {
    return ip('netns', 'pids', ns).split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/**
 * SIGKILLs every process of a network namespace until none is left; returns how many there were
 * (some die without our signal: killing the first process of a PID namespace ends all the others).
 */
function killNamespace(ns) {
  const killed = new Set();
  // Processes may still be forking while we kill: go round until the namespace is empty.
  for (let round = 0; round < 100; round++) {
    const pids = nsPids(ns);
    if (pids.length === 0) break;
    for (const pid of pids) {
      killed.add(pid);
      try {
        process.kill(pid, 'SIGKILL');
      } catch {}
    }
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
  }
  return killed.size;
}

export class Hosts {
  /**
   * Makes `n` hosts (numbered 1..n) on a bridge: host i has address 198.18.0.i on its eth0, host
   * name `himh<pid>-h<i>`. Call canUseNamespaces() first.
   */
  constructor(n) {
    installHandlers();
    removeOrphans();
    this.n = n;
    this.id = `${OWN}-${Hosts.count++}`;
    this.switchNs = `${this.id}-sw`;
    this.dir = mkdtempSync(join(tmpdir(), `${this.id}-`));
    this.agent = join(this.dir, 'agent.sh');
    this.made = [];
    live.add(this);
    try {
      ip('netns', 'add', this.switchNs);
      this.made.push(this.switchNs);
      ip('-n', this.switchNs, 'link', 'add', 'br0', 'type', 'bridge');
      ip('-n', this.switchNs, 'link', 'set', 'br0', 'up');
      for (let i = 1; i <= n; i++) {
        const ns = this.ns(i);
        ip('netns', 'add', ns);
        this.made.push(ns);
        // Both ends are created directly inside their namespaces: no name ever appears in the
        // machine's own namespace, so every host can call its interface eth0.
        ip('link', 'add', `v${i}`, 'netns', this.switchNs, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns);
        ip('-n', this.switchNs, 'link', 'set', `v${i}`, 'master', 'br0');
        ip('-n', this.switchNs, 'link', 'set', `v${i}`, 'up');
        ip('-n', ns, 'addr', 'add', `${this.addr(i)}/24`, 'dev', 'eth0');
        ip('-n', ns, 'link', 'set', 'eth0', 'up');
        ip('-n', ns, 'link', 'set', 'lo', 'up');
      }
    } catch (e) {
      this.teardown();
      throw e;
    }
    this.writeAgent();
  }

  /** Network namespace of host i. */
  ns(i) {
    return `${this.id}-h${i}`;
  }
  /** Host name (UTS) of host i: what its processes' hostname() and lock records say. */
  name(i) {
    return `${this.id}-h${i}`;
  }
  addr(i) {
    return `198.18.0.${i}`;
  }

  /**
   * The rsh/ssh stand-in: `agent.sh [ssh options] HOST COMMAND...` runs COMMAND (joined and run by
   * a shell, as ssh does) on HOST, given as address or host name. mpiexec starts it in the
   * launching host's namespaces and it enters the target host's: network namespace, new UTS
   * namespace with the host's name, new PID namespace (with its own /proc).
   */
  writeAgent() {
    const cases = [];
    for (let i = 1; i <= this.n; i++) cases.push(`  ${this.addr(i)}|${this.name(i)}) ns=${this.ns(i)}; hn=${this.name(i)} ;;`);
    const script = `#!/bin/sh
# ssh stand-in for mpiexec (written by test/helpers/hosts.js): AGENT [ssh options] HOST COMMAND...
while [ $# -gt 0 ]; do
  case "$1" in
    -[oplFiJ]) shift 2 ;;   # ssh options that take a value
    -*) shift ;;
    *) break ;;
  esac
done
host="$1"; shift
case "$host" in
${cases.join('\n')}
  *) echo "agent.sh: unknown host '$host'" >&2; exit 255 ;;
esac
exec ${bin('ip')} netns exec "$ns" ${bin('unshare')} --uts --pid --fork --mount-proc sh -c "${bin('hostname')} $hn; $*"
`;
    writeFileSync(this.agent, script);
    chmodSync(this.agent, 0o755);
  }

  /** Pids (in this machine's namespace) of every process of host i. */
  pids(i) {
    return nsPids(this.ns(i));
  }

  /** Loses host i: SIGKILLs every process whose network namespace is host i's. Returns the count. */
  killHost(i) {
    return killNamespace(this.ns(i));
  }

  /** argv that runs `argv` on host i, as its own host (network, UTS and PID namespaces). */
  onHost(i, argv) {
    return [
      bin('ip'),
      'netns',
      'exec',
      this.ns(i),
      bin('unshare'),
      '--uts',
      '--pid',
      '--fork',
      '--mount-proc',
      'sh',
      '-c',
      `${bin('hostname')} ${this.name(i)} && "$@"`,
      'sh',
      ...argv,
    ];
  }

  /** Runs a plain command on host i; resolves like run() in mpirun.js. */
  exec(i, argv, { env = process.env, hardTimeoutMs = 60_000 } = {}) {
    return run(this.onHost(i, argv), { env, hardTimeoutMs });
  }

  /**
   * Runs `mpiexec -n <ranks> node <nodeArgs...>` from host `from`, with `slots` ranks on each host
   * of `on` (rank 0 on the first). The flavour's own flags route every rank's traffic over the
   * bridge (TCP) and start each host's daemon through the agent. `timeoutS` is the launcher's own
   * time limit (mpiexec --timeout / MPIEXEC_TIMEOUT); the test's hard kill comes 30 s later.
   * Resolves with run()'s result {code, signal, stdout, stderr, ms, hardKilled}.
   */
  launch(from, nodeArgs, { on = [from], slots = 2, env = {}, timeoutS = 120 } = {}) {
    const { argv, env: mpiEnv } = this.mpiexecArgv(nodeArgs, { on, slots, timeoutS });
    const job = run(this.onHost(from, argv), { env: { ...mpiEnv, ...env }, hardTimeoutMs: timeoutS * 1000 + 30_000 });
    // The hard kill only reaches the launcher's process group: take the hosts' processes with it.
    return job.then((r) => {
      if (r.hardKilled) for (const h of new Set([from, ...on])) this.killHost(h);
      return r;
    });
  }

  mpiexecArgv(nodeArgs, { on, slots, timeoutS }) {
    const info = buildInfo();
    const env = { ...process.env, NO_COLOR: '1' };
    const n = on.length * slots;
    const node = [process.execPath, ...nodeArgs];
    if (info.mpiFlavor === 'openmpi') {
      Object.assign(env, { OMPI_ALLOW_RUN_AS_ROOT: '1', OMPI_ALLOW_RUN_AS_ROOT_CONFIRM: '1' });
      const argv = [info.mpiexec, '--timeout', String(timeoutS), '--mca', 'plm_rsh_agent', this.agent];
      // ob1 + tcp: ranks talk over the bridge (not UCX, not shared memory); the daemons too.
      argv.push('--mca', 'pml', 'ob1', '--mca', 'btl', 'tcp,self', '--mca', 'btl_tcp_if_include', SUBNET, '--mca', 'oob_tcp_if_include', SUBNET);
      argv.push('-H', on.map((h) => `${this.addr(h)}:${slots}`).join(','), '-n', String(n), ...node);
      return { argv, env };
    }
    // MPICH/Hydra: the ssh launcher with our agent; every host's interface is eth0.
    Object.assign(env, {
      MPIEXEC_TIMEOUT: String(timeoutS),
      UCX_ERROR_SIGNALS: '',
      FI_PROVIDER: 'tcp',
      FI_TCP_IFACE: 'eth0',
      FI_SOCKETS_IFACE: 'eth0',
    });
    const argv = [info.mpiexec, '-launcher', 'ssh', '-launcher-exec', this.agent, '-iface', 'eth0'];
    argv.push('-hosts', on.map((h) => `${this.addr(h)}:${slots}`).join(','), '-n', String(n), ...node);
    return { argv, env };
  }

  /** Kills every process of every host and deletes every namespace made here. Idempotent. */
  teardown() {
    if (!live.has(this)) return;
    live.delete(this);
    for (const ns of this.made) killNamespace(ns);
    for (const ns of this.made.reverse()) {
      try {
        ip('netns', 'del', ns);
      } catch {}
    }
    this.made = [];
    // The temp folder (agent) and OpenMPI's session folders, one per host name: /tmp/ompi.<host>.<uid>.
    const hostNames = Array.from({ length: this.n }, (_, k) => `ompi.${this.name(k + 1)}.`);
    for (const name of readdirSync(tmpdir())) {
      if (hostNames.some((h) => name.startsWith(h))) rmSync(join(tmpdir(), name), { recursive: true, force: true });
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
Hosts.count = 0;

/** Makes n hosts (see Hosts); the caller tears them down (after()). */
export function createHosts(n) {
  return new Hosts(n);
}
