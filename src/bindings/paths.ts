// Where the package and its native build live.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Package root (the folder holding package.json), found from this compiled file's location. */
export const packageRoot: string = (() => {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'CMakeLists.txt'))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error('hierimpute: cannot find the package root above ' + fileURLToPath(import.meta.url));
    dir = up;
  }
})();

/** Folder holding the built `.node` files; HIERIMPUTE_NATIVE_DIR overrides (e.g. a second build). */
export function nativeDir(): string {
  const override = process.env.HIERIMPUTE_NATIVE_DIR;
  return override ? resolve(override) : join(packageRoot, 'build', 'Release');
}

export interface BuildInfo {
  /** Whether hierimpute_mpi.node was built (absent in folders built before MPI became optional: true). */
  mpi?: boolean;
  /** Why it was not: "HIERIMPUTE_BUILD_MPI=OFF" or "no MPI found" ("" when built). */
  mpiNote?: string;
  mpiFlavor: 'openmpi' | 'mpich' | 'unknown' | 'none';
  mpiexec: string;
  mpiCVersion: string;
  xgboostLibrary: string;
  xgboostInclude: string;
  /** The C ping-pong baseline; built by `npm run bench` only ("" without MPI). */
  pingpong: string;
  /** The CMake build folder and the cmake that configured it (to build extra targets). */
  buildDir?: string;
  cmake?: string;
}

/** The build-info.json of the native build in use. */
export function buildInfoPath(): string {
  return join(nativeDir(), '..', 'build-info.json');
}

/** What CMake recorded about the build (which MPI, which mpiexec, which libxgboost). */
export function buildInfo(): BuildInfo | undefined {
  const file = buildInfoPath();
  if (!existsSync(file)) return undefined;
  return JSON.parse(readFileSync(file, 'utf8')) as BuildInfo;
}

/** False when the build recorded that it has no MPI addon (true for builds that predate the flag). */
export function mpiBuilt(info: BuildInfo | undefined = buildInfo()): boolean {
  return info?.mpi !== false;
}

/**
 * True in a development checkout (a clone of the repository, where `npm run setup` exists); false in
 * a package installed from npm, which ships neither scripts/ nor tests, so its messages must not
 * send anyone there.
 */
export function isDevCheckout(): boolean {
  return existsSync(join(packageRoot, 'scripts', 'setup.sh'));
}

/**
 * The command that rebuilds the native addons from scratch in this package's folder, with optional
 * environment settings in front (`HIERIMPUTE_BUILD_MPI=ON`). From scratch, because cmake-js re-runs
 * CMake's configure step (which finds MPI, XGBoost and Node's headers) only in a fresh build folder.
 */
export function rebuildCommand(env = ''): string {
  return `cd ${packageRoot} && ${env ? `${env} ` : ''}npx cmake-js rebuild --log-level warn`;
}

/** How to get the MPI addon into a build that lacks it, as lines for error messages and `info`. */
export function mpiBuildHowTo(): string[] {
  const setup = isDevCheckout() ? ', or `npm run setup` in this development checkout' : '';
  return [
    `install an MPI with its compiler wrappers (Debian/Ubuntu: \`apt-get install openmpi-bin libopenmpi-dev\`${setup};`,
    '    a cluster: `module load openmpi`, or MPI_HOME=/path/to/mpi), then rebuild the native addons from scratch',
    `    with MPI: \`${rebuildCommand('HIERIMPUTE_BUILD_MPI=ON')}\``,
  ];
}

export function packageVersion(): string {
  return (JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as { version: string }).version;
}
