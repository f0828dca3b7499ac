#!/usr/bin/env bash
# Builds the addons against MPICH (Debian: mpich libmpich-dev) into build-mpich/ and runs the MPI
# tests with them, launched by MPICH's mpiexec (Hydra). OpenMPI stays the default build in build/.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v mpicc.mpich >/dev/null 2>&1; then
  if [ "$(id -u)" -eq 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends mpich libmpich-dev >/dev/null
  else
    echo "MPICH is not installed: apt-get install mpich libmpich-dev" >&2
    exit 1
  fi
fi
npx --no-install cmake-js compile --log-level warn -O build-mpich \
  --CDMPI_C_COMPILER=/usr/bin/mpicc.mpich --CDMPI_CXX_COMPILER=/usr/bin/mpicxx.mpich \
  --CDMPIEXEC_EXECUTABLE=/usr/bin/mpiexec.mpich >/dev/null
HIERIMPUTE_NATIVE_DIR="$PWD/build-mpich/Release" node --test --test-concurrency=1 test/mpi.test.js test/mpi-envs.test.js test/farm.test.js test/beam.test.js test/multihost.test.js
