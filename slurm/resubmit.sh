# Sourced by the sbatch scripts. Slurm sends USR1 five minutes before the time limit
# (--signal=B:USR1@300); we then resubmit the same script with the same arguments and let this
# job end. Every finished band is checkpointed, so the next job resumes where this one stopped.
# HIERIMPUTE_MAX_RESUBMITS (default 10) bounds the chain.
wait_and_resubmit() {
  local pid=$1
  local count=${HIERIMPUTE_RESUBMITS:-0}
  trap 'if [ "$count" -lt "${HIERIMPUTE_MAX_RESUBMITS:-10}" ]; then
          echo "time limit near: resubmitting (resubmit $((count + 1)))";
          HIERIMPUTE_RESUBMITS=$((count + 1)) sbatch --export=ALL,HIERIMPUTE_RESUBMITS=$((count + 1)) "$0" "${SCRIPT_ARGS[@]}";
        fi' USR1
  wait "$pid" || wait "$pid"
}
SCRIPT_ARGS=("$@")
