#!/usr/bin/env bash
# Accuracy of hierimpute's recommended table against scikit-learn, on cells nobody saw.
#
#   bash scripts/accuracy/run.sh [WORK]        # default WORK = out/accuracy (wiped first)
#   JOBS=2 ONLY=iris,wine bash scripts/accuracy/run.sh out/acc-small
#
# 1. make_tables.py: real tables (bundled scikit-learn data + a generated one, MCAR and MAR 15 %),
#    10 % of their observed cells removed as TEST cells -> WORK/input/; truth -> WORK/truth/.
# 2. hierimpute, per table in its own folder with only that input table:
#    run --config sweep.yaml --evaluate --refit-best (defaults otherwise), and each plain method
#    through `impute`; one kernel thread per process, JOBS processes at a time.
# 3. peers.py: the scikit-learn peers on the same inputs (one BLAS thread).
# 4. score.py: nRMSE on the TEST cells -> WORK/results.csv, WORK/summary.{json,md}.
# Inputs are checksummed after step 1 and checked at the end (nothing may modify them).
# Uses a copy of the built dist/ and build/Release taken at the start (run `npm run build` first
# to measure new code).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
WORK=${1:-out/accuracy}
JOBS=${JOBS:-2}
ONLY=${ONLY:-}
METHODS=${METHODS:-mean knn iterative_simple xgboost iterative_linear}
PY=${PYTHON:-/usr/bin/python3}
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 NO_COLOR=1

source scripts/accuracy/lib.sh
WORK=$(fresh_work accuracy "$WORK")
start=$(date +%s)
echo "accuracy: tables -> $WORK" >&2
"$PY" scripts/accuracy/make_tables.py --work "$WORK" ${ONLY:+--only "$ONLY"}
(cd "$WORK" && sha256sum input/*.csv truth/*.csv > inputs.sha256)
cp scripts/accuracy/sweep.yaml "$WORK/sweep.yaml"
{ git -C "$ROOT" rev-parse HEAD; echo "modified files under src/ native/: $(git -C "$ROOT" status --porcelain src native | wc -l)"; echo "newest dist/ file: $(find dist -name "*.js" -printf "%TY-%Tm-%Td %TT\n" | sort | tail -1)"; } > "$WORK/code.txt" 2>/dev/null || true

# Snapshot of the built code: every table runs the same build even if dist/ or build/ is rebuilt
# while the harness runs (node_modules is shared through a link).
mkdir -p "$WORK/code/build"
cp -r dist package.json CMakeLists.txt "$WORK/code/"
cp -r build/Release "$WORK/code/build/"
cp build/build-info.json "$WORK/code/build/" 2>/dev/null || true
ln -s "$ROOT/node_modules" "$WORK/code/node_modules"
HIER="$WORK/code/dist/main.js"

now() { date +%s.%N; }
export -f now
export ROOT WORK HIER

# One job = one hierimpute process; its wall time goes to a .seconds file next to its output.
hier_job() {
  local kind=$1 name=$2 t0 t1
  t0=$(now)
  if [ "$kind" = run ]; then
    local d="$WORK/hier/$name"
    mkdir -p "$d/data"
    cp "$WORK/input/$name.csv" "$d/data/$name.csv"
    node "$HIER" run --config "$WORK/sweep.yaml" --data "$d/data" --out "$d/out" \
      --evaluate --refit-best --threads 1 --progress=false --log-level warn > "$d/log.txt" 2>&1 \
      || { echo "run failed: $name (see $d/log.txt)" >&2; return 1; }
    t1=$(now); echo "$t1 - $t0" | bc > "$d/seconds"
  else
    mkdir -p "$WORK/plain/$kind"
    node "$HIER" impute --method "$kind" --input "$WORK/input/$name.csv" \
      --output "$WORK/plain/$kind/$name.csv" --threads 1 > "$WORK/plain/$kind/$name.log" 2>&1 \
      || { echo "impute failed: $kind $name" >&2; return 1; }
    t1=$(now); echo "$t1 - $t0" | bc > "$WORK/plain/$kind/$name.seconds"
  fi
  echo "  done: $kind $name ($(printf %.1f "$(echo "$t1 - $t0" | bc)") s)" >&2
}
export -f hier_job

names=$(cd "$WORK/input" && ls *.csv | sed 's/\.csv$//')
echo "accuracy: hierimpute ($JOBS processes at a time) and the scikit-learn peers" >&2
# the sweeps first (largest first, so the tail is short), then the plain methods
{
  for n in $(for n in $names; do echo "$(wc -c < "$WORK/input/$n.csv") $n"; done | sort -rn | cut -d' ' -f2); do echo "run $n"; done
  for m in $METHODS; do for n in $names; do echo "$m $n"; done; done
} | xargs -P "$JOBS" -L 1 bash -c 'hier_job "$0" "$1"'
"$PY" scripts/accuracy/peers.py --work "$WORK"

(cd "$WORK" && sha256sum --quiet -c inputs.sha256) || { echo "accuracy: an input or truth file changed" >&2; exit 1; }
"$PY" scripts/accuracy/score.py --work "$WORK" --methods "$(echo $METHODS | tr ' ' ,)"
echo "accuracy: done in $(( $(date +%s) - start )) s; $WORK/summary.md" >&2
