#!/usr/bin/env bash
# How many holdout repeats: `run --evaluate --refit-best --holdout-repeats R` for several R on the
# accuracy harness's tables, scored on the TEST cells that hierimpute never sees.
#
#   bash scripts/accuracy/repeats.sh [WORK]                 # default WORK = out/acc-repeats (wiped first)
#   REPEATS="1 2 3 5" JOBS=2 ONLY=iris,wine SEED=1 bash scripts/accuracy/repeats.sh out/rep-small
#
# 1. make_tables.py: the same tables, TEST cells and truth as run.sh (same seed, same files);
#    SEED=n draws other missingness and TEST cells (make_tables.py --seed n, default 0).
# 2. Per table, ONE output folder and the runs chained: R = 1 (fresh: nothing cached), then the
#    largest R (computes repeats 1 .. R-1 only: repeat r's masked copy, hence its node keys, do not
#    depend on R), then the other R from the cache (scoring, ensemble choice and refit only). A
#    chained run writes byte-identical leaderboard, best_sequences.csv and best table to a fresh
#    run with the same R (checked on iris_mcar for R = 2 after R = 1 and after R = 5). After each run
#    its results are copied to WORK/hier/<table>/R<R>/ with its wall seconds.
#    Cost: a fresh run with R repeats sweeps R masked copies in full, so its time is measured as
#    t(R = 1, fresh) + (R - 1) x t(one more repeat), the latter = the largest R's chained run / (R - 1).
# 3. peers.py and repeats.py: the scikit-learn peers, then per R the TEST-cell scores ->
#    WORK/repeats.md, WORK/repeats.json.
# Code: a snapshot of dist/ and of the native build (HIERIMPUTE_NATIVE_DIR, else build/Release)
# taken at the start, like run.sh; CODE=<an earlier WORK>/code reuses that run's snapshot instead. Default settings otherwise (sweep.yaml, --holdout 0.1, the run
# seed), one kernel thread per process, JOBS processes at a time, under nice.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
WORK=${1:-out/acc-repeats}
JOBS=${JOBS:-2}
ONLY=${ONLY:-}
SEED=${SEED:-0}
REPEATS=${REPEATS:-1 2 3 5}
PY=${PYTHON:-/usr/bin/python3}
NATIVE=${HIERIMPUTE_NATIVE_DIR:-build/Release}
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 NO_COLOR=1

# the order of the chain: 1 first (fresh), the largest next, then the rest ascending
read -r -a RS <<< "$(echo "$REPEATS" | tr ' ' '\n' | sort -n | uniq | tr '\n' ' ')"
[ "${RS[0]}" = 1 ] || { echo "repeats: REPEATS must include 1 (got '$REPEATS')" >&2; exit 2; }
MAXR=${RS[${#RS[@]}-1]}
ORDER="1"
[ "$MAXR" != 1 ] && ORDER="$ORDER $MAXR"
for r in "${RS[@]}"; do [ "$r" != 1 ] && [ "$r" != "$MAXR" ] && ORDER="$ORDER $r"; done

source scripts/accuracy/lib.sh
WORK=$(fresh_work repeats "$WORK")
start=$(date +%s)
"$PY" scripts/accuracy/make_tables.py --work "$WORK" --seed "$SEED" ${ONLY:+--only "$ONLY"}
(cd "$WORK" && sha256sum input/*.csv truth/*.csv > inputs.sha256)
cp scripts/accuracy/sweep.yaml "$WORK/sweep.yaml"
{ git -C "$ROOT" rev-parse HEAD; echo "modified files under src/ native/: $(git -C "$ROOT" status --porcelain src native | wc -l)"; echo "newest dist/ file: $(find dist -name "*.js" -printf "%TY-%Tm-%Td %TT\n" | sort | tail -1)"; echo "native: $NATIVE"; echo "chain: $ORDER"; echo "table seed: $SEED"; } > "$WORK/code.txt" 2>/dev/null || true

mkdir -p "$WORK/code/build"
if [ -n "${CODE:-}" ]; then
  # the snapshot of an earlier run (its WORK/code), so that several runs measure the same code
  cp -r "$CODE/dist" "$CODE/package.json" "$CODE/CMakeLists.txt" "$WORK/code/"
  cp -r "$CODE/build/." "$WORK/code/build/"
  echo "code: snapshot copied from $CODE" >> "$WORK/code.txt"
else
  cp -r dist package.json CMakeLists.txt "$WORK/code/"
  cp -r "$NATIVE" "$WORK/code/build/Release"
  cp "$NATIVE/../build-info.json" "$WORK/code/build/" 2>/dev/null || true
fi
ln -s "$ROOT/node_modules" "$WORK/code/node_modules"
HIER="$WORK/code/dist/main.js"
export ROOT WORK HIER ORDER
unset HIERIMPUTE_NATIVE_DIR  # the snapshot's build/Release is the one used

now() { date +%s.%N; }
export -f now

# All R of one table, chained in one output folder.
table_job() {
  local name=$1 d="$WORK/hier/$1" t0 t1 r
  mkdir -p "$d/data"
  cp "$WORK/input/$name.csv" "$d/data/$name.csv"
  for r in $ORDER; do
    t0=$(now)
    nice node "$HIER" run --config "$WORK/sweep.yaml" --data "$d/data" --out "$d/out" \
      --evaluate --refit-best --holdout-repeats "$r" --threads 1 --progress=false --log-level warn > "$d/log_R$r.txt" 2>&1 \
      || { echo "run failed: $name R=$r (see $d/log_R$r.txt)" >&2; return 1; }
    t1=$(now)
    mkdir -p "$d/R$r"
    cp "$d/out/best_sequences.csv" "$d/out/leaderboard.csv" "$d/out/evaluation.json" "$d/out/run-summary.json" "$d/R$r/"
    cp "$d/out/best/$name.csv" "$d/R$r/best.csv"
    echo "$t1 - $t0" | bc > "$d/R$r/seconds"
    echo "  done: $name R=$r ($(printf %.1f "$(echo "$t1 - $t0" | bc)") s)" >&2
  done
}
export -f table_job

names=$(cd "$WORK/input" && ls *.csv | sed 's/\.csv$//')
echo "repeats: chain $ORDER on $(echo $names | wc -w) tables, $JOBS at a time" >&2
for n in $(for n in $names; do echo "$(wc -c < "$WORK/input/$n.csv") $n"; done | sort -rn | cut -d' ' -f2); do echo "$n"; done \
  | xargs -P "$JOBS" -L 1 bash -c 'table_job "$0"'
nice "$PY" scripts/accuracy/peers.py --work "$WORK"

(cd "$WORK" && sha256sum --quiet -c inputs.sha256) || { echo "repeats: an input or truth file changed" >&2; exit 1; }
"$PY" scripts/accuracy/repeats.py --work "$WORK" --repeats "$(echo "${RS[@]}" | tr ' ' ,)"
echo "repeats: done in $(( $(date +%s) - start )) s; $WORK/repeats.md" >&2
