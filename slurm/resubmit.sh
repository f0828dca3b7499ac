# Sourced by the sbatch scripts. Slurm signals the batch shell (USR1) five minutes before the time
# limit (--signal=B:USR1@300); we then requeue this same job (#SBATCH --requeue) and let the
# running step end. Every finished band is checkpointed under --out, so the requeued job resumes
# where this one stopped (stale claims of the killed ranks are taken over). SLURM_RESTART_COUNT
# bounds the chain (HIERIMPUTE_MAX_RESTARTS, default 10).
wait_and_resubmit() {
  local pid=$1
  trap 'if [ "${SLURM_RESTART_COUNT:-0}" -lt "${HIERIMPUTE_MAX_RESTARTS:-10}" ]; then
          echo "hierimpute: time limit near, requeueing job $SLURM_JOB_ID (restart $(( ${SLURM_RESTART_COUNT:-0} + 1 )))";
          scontrol requeue "$SLURM_JOB_ID";
        else
          echo "hierimpute: time limit near and HIERIMPUTE_MAX_RESTARTS reached; rerun the same command to resume";
        fi' USR1
  # `wait` returns early when the trap fires; wait again for the step to finish or be killed.
  wait "$pid" || wait "$pid"
}
