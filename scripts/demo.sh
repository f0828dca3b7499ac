#!/usr/bin/env bash
# `npm run demo`: the main job on the bundled example data, under mpiexec -n 4.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/mpirun.sh 4 info
