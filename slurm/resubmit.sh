# Sourced by the sbatch scripts, before anything else they do.
#
# Slurm sends USR1 to the batch shell some time before the time limit (--signal=B:USR1@300: at
# least five minutes before). We then requeue this same job (#SBATCH --requeue): Slurm stops the
# running step and later starts the batch script again, with the same arguments and environment and
# SLURM_RESTART_COUNT one higher. Every finished band is checkpointed under --out, so the requeued
# run resumes where this one stopped (claims left by the stopped ranks are taken over). Without a
# requeue (HIERIMPUTE_MAX_RESTARTS reached, or scontrol failing) the step runs on until the time
# limit ends it; rerun the same command to resume.
#
# Why the step runs in the background (`srun ... &` then wait_and_resubmit $!): bash runs a trap
# only once the foreground command has ended, so with a foreground srun the handler would run after
# the time limit had already killed the job. `wait` returns as soon as a trapped signal arrives.
#
# HIERIMPUTE_MAX_RESTARTS (default 10) bounds the chain: requeue while SLURM_RESTART_COUNT is
# below it; 0 never requeues.

hierimpute_restarts=${SLURM_RESTART_COUNT:-0}
hierimpute_max_restarts=${HIERIMPUTE_MAX_RESTARTS:-10}
case $hierimpute_max_restarts in
  '' | *[!0-9]*)
    echo "hierimpute: HIERIMPUTE_MAX_RESTARTS must be a whole number (got '$hierimpute_max_restarts'); using 10" >&2
    hierimpute_max_restarts=10
    ;;
esac

hierimpute_on_time_limit() {
  if [ "$hierimpute_restarts" -lt "$hierimpute_max_restarts" ]; then
    echo "hierimpute: time limit near, requeueing job ${SLURM_JOB_ID} (restart $((hierimpute_restarts + 1)) of at most ${hierimpute_max_restarts})"
    scontrol requeue "${SLURM_JOB_ID}" ||
      echo "hierimpute: scontrol requeue failed; after the time limit, rerun the same command to resume" >&2
  else
    echo "hierimpute: time limit near and HIERIMPUTE_MAX_RESTARTS=${hierimpute_max_restarts} reached (SLURM_RESTART_COUNT=${hierimpute_restarts}): not requeueing; after the time limit, rerun the same command to resume"
  fi
}
# Set first: a USR1 that found no handler would kill the batch shell.
trap hierimpute_on_time_limit USR1

echo "hierimpute: job ${SLURM_JOB_ID:-?} on $(hostname), SLURM_RESTART_COUNT=${hierimpute_restarts}, $(date -u '+%Y-%m-%dT%H:%M:%SZ')"

# Waits for the step (pid $1) to end, however many times a trapped signal interrupts `wait`, and
# returns its exit status.
wait_and_resubmit() {
  local pid=$1 rc
  while :; do
    rc=0
    wait "$pid" || rc=$?
    # Above 128 with the step still running: `wait` was interrupted by the trap; wait again.
    if [ "$rc" -gt 128 ] && kill -0 "$pid" 2>/dev/null; then continue; fi
    return "$rc"
  done
}
