#!/usr/bin/env bash
# `npm run demo`: the main job on the bundled example data (examples/data, made by
# scripts/gen-example-data.mjs) with the `quick` preset, under mpiexec -n 4 (rank 0 dispatches,
# ranks 1-3 work). Rerunning it resumes from the checkpoints and computes nothing new.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${HIERIMPUTE_DEMO_OUT:-out/demo}
bash scripts/mpirun.sh 4 run --preset quick --data examples/data --out "$out" --progress=false
echo
echo "Outputs:  $out/sequences/<sequence>/<dataset>.csv   (+ .methods.csv, .bands.svg, methods_manifest.json)"
echo "Summary:  $out/run-summary.json    Index: $out/imputation_sequence_index.csv"
echo "Plots:    $out/plots/time_per_method.svg  $out/plots/groups.svg  and one .bands.svg per sequence and dataset"
echo "Logs:     $out/logs/"
