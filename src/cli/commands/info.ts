// `hierimpute info`: versions, MPI library and launch, and one line per rank gathered over MPI.
import { hostname } from 'node:os';

import type { CommandModule } from 'yargs';

import { coreAddon } from '../../bindings/core.js';
import { buildInfo, mpiBuildHowTo, mpiBuilt, packageVersion } from '../../bindings/paths.js';
import { TAG_DONE } from '../../mpi/tags.js';
import type { Communicator } from '../../mpi/world.js';
import { describeTfBackend } from '../../tf/detect.js';
import { withWorld } from '../lifecycle.js';
import { describeCommand } from './catalog.js';

export interface RankLine {
  rank: number;
  host: string;
  pid: number;
}

export interface InfoReport {
  version: string;
  launch: string;
  launchMode: string;
  mpiLibrary: string;
  /** False when the native build has no MPI addon (single-rank runs only). */
  mpiBuilt: boolean;
  mpiBuiltWith: string;
  /** How to build the MPI addon; only when it is not built. */
  mpiHowToBuild?: string;
  threadLevel: string;
  xgboost: string;
  tfBackend: string;
  size: number;
  ranks: RankLine[];
}

/** Every rank calls this; rank 0 returns the full report, other ranks undefined. */
export async function gatherInfo(world: Communicator): Promise<InfoReport | undefined> {
  const me: RankLine = { rank: world.rank, host: hostname(), pid: process.pid };
  if (world.rank !== 0) {
    await world.send(0, TAG_DONE, { ...me });
    return undefined;
  }
  const ranks: RankLine[] = [me];
  for (let i = 1; i < world.size; i++) {
    const msg = await world.recv({ tag: TAG_DONE });
    if (msg.kind !== 'json') throw new Error(`info: rank ${msg.source} sent bytes, expected its rank line`);
    ranks.push(msg.payload as unknown as RankLine);
  }
  ranks.sort((a, b) => a.rank - b.rank);
  const core = coreAddon();
  const built = buildInfo();
  const hasMpi = mpiBuilt(built);
  let mpiBuiltWith = 'unknown';
  if (built && hasMpi) mpiBuiltWith = `${built.mpiFlavor} (MPI ${built.mpiCVersion}, ${built.mpiexec})`;
  else if (built) mpiBuiltWith = `not built${built.mpiNote ? ` (${built.mpiNote})` : ''}: single-rank runs only`;
  return {
    version: packageVersion(),
    launch: world.launch.describe,
    launchMode: world.launch.mode,
    mpiLibrary: world.libraryVersion(),
    mpiBuilt: hasMpi,
    mpiBuiltWith,
    ...(hasMpi
      ? {}
      : {
          mpiHowToBuild: mpiBuildHowTo()
            .map((l) => l.trim())
            .join(' '),
        }),
    threadLevel: world.threadLevel(),
    xgboost: core.xgboostVersion(),
    tfBackend: describeTfBackend(),
    size: world.size,
    ranks,
  };
}

export function formatInfo(r: InfoReport): string {
  const lines = [
    `hierimpute ${r.version}`,
    `launch:        ${r.launch} (mode ${r.launchMode})`,
    `MPI library:   ${r.mpiLibrary.split('\n')[0]}`,
    `MPI build:     ${r.mpiBuiltWith}`,
    ...(r.mpiHowToBuild ? [`  to build it:  ${r.mpiHowToBuild}`] : []),
    `thread level:  ${r.threadLevel}`,
    `XGBoost:       ${r.xgboost} (C API)`,
    `TensorFlow.js: ${r.tfBackend}`,
    `ranks:         ${r.size}`,
    ...r.ranks.map((x) => `  rank ${x.rank}  host ${x.host}  pid ${x.pid}`),
  ];
  return lines.join('\n');
}

export const infoCommand: CommandModule<object, { json: boolean }> = {
  command: 'info',
  describe: describeCommand('info'),
  builder: (y) => y.option('json', { type: 'boolean', default: false, describe: 'print the report as JSON' }),
  handler: async (argv) => {
    await withWorld({}, async (world) => {
      const report = await gatherInfo(world);
      if (report) process.stdout.write((argv.json ? JSON.stringify(report) : formatInfo(report)) + '\n');
    });
  },
};
