// Ping-pong between 2 ranks: 8-byte half-round-trip latency and 4 MiB bandwidth, the Node
// binding vs the plain-C program built by the same CMake, in the same run. Medians of N runs.
// The C program is not part of the default build (consumers never need it): it is built here, in
// the build folder the addons came from, before the first measurement.
import { existsSync } from 'node:fs';
import { join } from 'node:path';

import { buildInfo, mpirun, root, run, mpiexecArgv } from '../test/helpers/mpirun.js';
import { median, printTable } from './util.js';

const REPEATS = Number(process.env.BENCH_REPEATS ?? 5);
const cases = [
  { name: 'latency 8 B', bytes: 8, iters: 20000, metric: 'half_rtt_us' },
  { name: 'bandwidth 4 MiB', bytes: 4 << 20, iters: 200, metric: 'bandwidth_Bps' },
];

async function once(kind, c) {
  const args = kind === 'c' ? [buildInfo().pingpong, String(c.bytes), String(c.iters)] : [process.execPath, join(root, 'bench', 'pingpong-node.js'), String(c.bytes), String(c.iters)];
  const { argv, env } = mpiexecArgv(2, [], { timeoutS: 120 });
  argv.splice(argv.indexOf(process.execPath), 1, ...args);
  const r = await run(argv, { env, hardTimeoutMs: 180_000 });
  if (r.code !== 0) throw new Error(`${kind} ping-pong failed (${r.code}): ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop())[c.metric];
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
  if (r.code !== 0) throw new Error(`building the C ping-pong baseline failed (${info.cmake} --build ${info.buildDir} --target mpi_pingpong_c):\n${r.stdout}${r.stderr}`);
  if (!existsSync(info.pingpong)) throw new Error(`the C ping-pong baseline was built but is not at ${info.pingpong}`);
  return true;
}

export async function main() {
  if (!(await ensurePingpong())) {
    console.log(`skipped: the native build has no MPI addon (${buildInfo().mpiNote}); nothing to measure`);
    return;
  }
  const rows = [];
  for (const c of cases) {
    const cv = [];
    const nv = [];
    for (let i = 0; i < REPEATS; i++) {
      cv.push(await once('c', c));
      nv.push(await once('node', c));
    }
    const cm = median(cv);
    const nm = median(nv);
    if (c.metric === 'half_rtt_us') {
      rows.push([c.name, `${cm.toFixed(2)} µs`, `${nm.toFixed(2)} µs`, `${(nm / cm).toFixed(2)}× C time`, 'goal ≤ 2.0×']);
    } else {
      rows.push([c.name, `${(cm / 1e9).toFixed(2)} GB/s`, `${(nm / 1e9).toFixed(2)} GB/s`, `${((100 * nm) / cm).toFixed(0)} % of C`, 'goal ≥ 80 %']);
    }
  }
  printTable(`MPI ping-pong, 2 ranks (${buildInfo().mpiFlavor}), medians of ${REPEATS} runs`, ['case', 'C', 'Node binding', 'ratio', 'goal'], rows);
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
