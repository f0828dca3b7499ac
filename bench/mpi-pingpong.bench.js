// Ping-pong between 2 ranks: 8-byte half-round-trip latency and the bandwidth of 1, 4 and 16 MiB
// messages, of the Node binding vs the plain-C program built by the same CMake and vs mpi4py
// (buffer path: Send/Recv on numpy arrays; pickle path: send/recv of bytes objects), all in the
// same run, with the same mpiexec flags. Repeats are interleaved (C, mpi4py, binding, C, ...) so
// that load from other processes hits every contender alike; the table shows medians. Each run
// reports the median over 20 blocks of rounds (block_half_rtt_us: blocks in which a rank was
// descheduled by other work on a shared machine drop out), and the table takes the median of those
// over the repeats.
// The binding runs twice: with recvSync() (what a ping-pong should use) and with `await recv()`
// (the promise path the task farm uses).
// The C program is not part of the default build (consumers never need it): it is built here, in
// the build folder the addons came from, before the first measurement. mpi4py is optional: without
// an importable mpi4py + numpy (HIERIMPUTE_PYTHON, python3, /usr/bin/python3 are tried) its
// columns are skipped with a message. BENCH_CASES=latency (or bandwidth, or 16 MiB: any part of a
// case's name, comma-separated) runs only the matching cases.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

import { buildInfo, root, run, mpiexecArgv } from '../test/helpers/mpirun.js';
import { median, printTable } from './util.js';

const REPEATS = Number(process.env.BENCH_REPEATS ?? 5);
// Bandwidth = message size / half round trip of the median block (as for the latency). The large
// sizes take the binding's large-message path (header message + body straight from and into the
// caller's buffers); at 16 MiB a block is 3 rounds. The goal compares the binding with C on the same
// kind of memory (malloc'd, 4 KiB pages, like a Node Buffer). "C huge pages" runs the C program on
// MADV_HUGEPAGE memory, as numpy allocates arrays of 4 MiB and more: on one host a large message is
// one kernel copy (CMA) that pins the sender's pages one at a time, so the page size shows directly
// (and is why mpi4py can beat plain C from 4 MiB up); see docs/mpi.md.
const allCases = [
  { name: 'latency 8 B', bytes: 8, iters: 20000, metric: 'half_rtt_us' },
  { name: 'bandwidth 1 MiB', bytes: 1 << 20, iters: 400, metric: 'bandwidth_Bps' },
  { name: 'bandwidth 4 MiB', bytes: 4 << 20, iters: 200, metric: 'bandwidth_Bps' },
  { name: 'bandwidth 16 MiB', bytes: 16 << 20, iters: 60, metric: 'bandwidth_Bps' },
];
const wantedCases = (process.env.BENCH_CASES ?? '')
  .split(',')
  .map((w) => w.trim())
  .filter(Boolean);
const cases = wantedCases.length ? allCases.filter((c) => wantedCases.some((w) => c.name.includes(w))) : allCases;

function commandFor(kind, c, python) {
  const sizeArgs = [String(c.bytes), String(c.iters)];
  switch (kind) {
    case 'c':
      return [buildInfo().pingpong, ...sizeArgs];
    case 'c-huge':
      return [buildInfo().pingpong, ...sizeArgs, 'hugepages'];
    case 'node':
      return [process.execPath, join(root, 'bench', 'pingpong-node.js'), ...sizeArgs, 'sync'];
    case 'node-promise':
      return [process.execPath, join(root, 'bench', 'pingpong-node.js'), ...sizeArgs, 'promise'];
    case 'mpi4py-buffer':
      return [python, join(root, 'bench', 'pingpong_mpi4py.py'), ...sizeArgs, 'buffer'];
    case 'mpi4py-pickle':
      return [python, join(root, 'bench', 'pingpong_mpi4py.py'), ...sizeArgs, 'pickle'];
    default:
      throw new Error(`unknown contender ${kind}`);
  }
}

async function once(kind, c, python) {
  const { argv, env } = mpiexecArgv(2, [], { timeoutS: 120 });
  argv.splice(argv.indexOf(process.execPath), 1, ...commandFor(kind, c, python));
  const r = await run(argv, { env, hardTimeoutMs: 180_000 });
  if (r.code !== 0) throw new Error(`${kind} ping-pong failed (${r.code}): ${r.stderr}`);
  const line = JSON.parse(r.stdout.trim().split('\n').pop());
  const half = line.block_half_rtt_us ?? line.half_rtt_us; // µs
  return c.metric === 'half_rtt_us' ? half : c.bytes / (half * 1e-6);
}

/** A Python that imports mpi4py and numpy, or null (with the reason printed). */
function findPython() {
  const candidates = [process.env.HIERIMPUTE_PYTHON, 'python3', '/usr/bin/python3'].filter(Boolean);
  const why = [];
  for (const py of candidates) {
    const r = spawnSync(py, ['-c', 'import mpi4py, numpy; from mpi4py import MPI'], { encoding: 'utf8', timeout: 60_000 });
    if (r.status === 0) return py;
    why.push(`${py}: ${(r.error?.message ?? r.stderr.trim().split('\n').pop()) || `exit ${r.status}`}`);
  }
  console.log(`mpi4py skipped: no Python with mpi4py and numpy (${why.join('; ')}); set HIERIMPUTE_PYTHON to one`);
  return null;
}

/**
 * Builds mpi_pingpong_c (an EXCLUDE_FROM_ALL target) with the cmake that configured the build;
 * a no-op when it is up to date. Returns false when the build has no MPI (nothing to compare).
 */
async function ensurePingpong() {
  const info = buildInfo();
  if (info.mpi === false) return false;
  if (!info.buildDir || !info.cmake) {
    // build-info.json from before the C program left the default build: it was built with the addons.
    if (existsSync(info.pingpong)) return true;
    throw new Error(`${info.pingpong} is missing and build-info.json does not name its build folder: rebuild the addons (npm run build:native)`);
  }
  const r = await run([info.cmake, '--build', info.buildDir, '--target', 'mpi_pingpong_c'], { hardTimeoutMs: 600_000 });
  if (r.code !== 0)
    throw new Error(
      `building the C ping-pong baseline failed (${info.cmake} --build ${info.buildDir} --target mpi_pingpong_c):\n${r.stdout}${r.stderr}`,
    );
  if (!existsSync(info.pingpong)) throw new Error(`the C ping-pong baseline was built but is not at ${info.pingpong}`);
  return true;
}

const fmt = (c, v) => (c.metric === 'half_rtt_us' ? `${v.toFixed(2)} µs` : `${(v / 1e9).toFixed(2)} GB/s`);
/** binding relative to a baseline, as "how many times slower" (>1 = binding worse) for both metrics. */
const slower = (c, node, base) => (c.metric === 'half_rtt_us' ? node / base : base / node);

export async function main() {
  if (!(await ensurePingpong())) {
    console.log(`skipped: the native build has no MPI addon (${buildInfo().mpiNote}); nothing to measure`);
    return;
  }
  const python = findPython();
  const rows = [];
  for (const c of cases) {
    const huge = c.metric === 'bandwidth_Bps' ? ['c-huge'] : [];
    const kinds = ['c', ...huge, ...(python ? ['mpi4py-buffer', 'mpi4py-pickle'] : []), 'node', 'node-promise'];
    const samples = Object.fromEntries(kinds.map((k) => [k, []]));
    for (let i = 0; i < REPEATS; i++) for (const k of kinds) samples[k].push(await once(k, c, python));
    const m = Object.fromEntries(kinds.map((k) => [k, median(samples[k])]));
    const goal = c.metric === 'half_rtt_us' ? 'binding ≤ mpi4py buffer' : 'binding ≥ 0.9× C';
    const met = c.metric === 'half_rtt_us' ? (python ? m.node <= m['mpi4py-buffer'] : null) : m.node >= 0.9 * m.c;
    rows.push([
      c.name,
      fmt(c, m.c),
      huge.length ? fmt(c, m['c-huge']) : 'n/a',
      python ? fmt(c, m['mpi4py-buffer']) : 'n/a',
      python ? fmt(c, m['mpi4py-pickle']) : 'n/a',
      fmt(c, m.node),
      fmt(c, m['node-promise']),
      `${slower(c, m.node, m.c).toFixed(2)}×`,
      python ? `${slower(c, m.node, m['mpi4py-buffer']).toFixed(2)}×` : 'n/a',
      `${goal}${met === null ? '' : met ? ' (met)' : ' (missed)'}`,
    ]);
    if (process.env.BENCH_VERBOSE) console.log(c.name, JSON.stringify(samples));
  }
  printTable(
    `MPI ping-pong, 2 ranks (${buildInfo().mpiFlavor}), medians of ${REPEATS} interleaved runs; ratios: binding (recvSync) time / baseline time`,
    [
      'case',
      'C',
      'C huge pages',
      'mpi4py buffer',
      'mpi4py pickle',
      'binding recvSync',
      'binding await recv',
      'recvSync/C',
      'recvSync/mpi4py buf',
      'goal',
    ],
    rows,
  );
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
