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
  mpiFlavor: 'openmpi' | 'mpich' | 'unknown';
  mpiexec: string;
  mpiCVersion: string;
  xgboostLibrary: string;
  xgboostInclude: string;
  pingpong: string;
}

/** What CMake recorded about the build (which MPI, which mpiexec, which libxgboost). */
export function buildInfo(): BuildInfo | undefined {
  const file = join(nativeDir(), '..', 'build-info.json');
  if (!existsSync(file)) return undefined;
  return JSON.parse(readFileSync(file, 'utf8')) as BuildInfo;
}

export function packageVersion(): string {
  return (JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as { version: string }).version;
}
