#!/usr/bin/env bash
# Runs `node dist/main.js ARGS...` under the mpiexec of the MPI the addon was built with, with the
# flags this needs: OpenMPI as root, more ranks than cores, no colour codes, and a time limit.
# Usage: scripts/mpirun.sh N [hierimpute args...]      (HIERIMPUTE_MPI_TIMEOUT, default 600 s)
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -lt 1 ] || ! [[ $1 =~ ^[0-9]+$ ]]; then
  echo "usage: scripts/mpirun.sh N [hierimpute args...]   e.g. scripts/mpirun.sh 4 run --preset quick --data examples/data --out out" >&2
  exit 2
fi
n=$1; shift
info=build/build-info.json
if [ "$(node -p "require('./$info').mpi")" = false ]; then
  echo "scripts/mpirun.sh: $info says the native build has no MPI addon ($(node -p "require('./$info').mpiNote"))." >&2
  echo "  Install an MPI (Debian: apt-get install openmpi-bin libopenmpi-dev), then rebuild:" >&2
  echo "  HIERIMPUTE_BUILD_MPI=ON npx cmake-js rebuild --log-level warn" >&2
  exit 1
fi
flavor=$(node -p "require('./$info').mpiFlavor")
mpiexec=$(node -p "require('./$info').mpiexec")
limit=${HIERIMPUTE_MPI_TIMEOUT:-600}
export NO_COLOR=1
if [ "$flavor" = openmpi ]; then
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
  exec "$mpiexec" --oversubscribe --timeout "$limit" -x NO_COLOR -n "$n" node dist/main.js "$@"
else
  export MPIEXEC_TIMEOUT=$limit UCX_ERROR_SIGNALS=
  exec "$mpiexec" -n "$n" node dist/main.js "$@"
fi
