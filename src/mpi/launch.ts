// Launch detection: was this process started by an MPI launcher, and how many tasks does the
// launcher say there are? Pure function of the environment, so it is unit-testable.

export type LaunchMode = 'single' | 'openmpi' | 'hydra' | 'pmix' | 'srun' | 'forced';

export interface Launch {
  mode: LaunchMode;
  /** Task count the launcher announced (1 when unknown or single). */
  expectedSize: number;
  /** Rank the launcher announced, when it says. */
  expectedRank: number | null;
  /** Human description for `hierimpute info` and error messages. */
  describe: string;
}

type Env = Record<string, string | undefined>;

function int(v: string | undefined): number | null {
  if (v === undefined || v.trim() === '') return null;
  const n = Number(v);
  return Number.isInteger(n) && n >= 0 ? n : null;
}

/**
 * OpenMPI mpiexec: OMPI_COMM_WORLD_SIZE/RANK. MPICH/Hydra (and Intel MPI): PMI_SIZE/PMI_RANK.
 * PMIx (OpenMPI 5 prte, Slurm --mpi=pmix): PMIX_RANK, size from OMPI_/SLURM_ variables.
 * Slurm srun step: SLURM_STEP_ID with SLURM_STEP_NUM_TASKS and SLURM_PROCID (a plain sbatch
 * batch script sets SLURM_NTASKS too, but is not a launcher: it has no SLURM_PROCID step).
 * HIERIMPUTE_MPI=1 forces MPI (e.g. a singleton `-n 1` world without mpiexec); =0 forces single.
 */
export function detectLaunch(env: Env = process.env): Launch {
  const force = env.HIERIMPUTE_MPI?.trim().toLowerCase();
  if (force === '0' || force === 'false' || force === 'off') {
    return { mode: 'single', expectedSize: 1, expectedRank: null, describe: 'single rank (HIERIMPUTE_MPI=0)' };
  }
  const ompiSize = int(env.OMPI_COMM_WORLD_SIZE);
  if (ompiSize !== null) {
    return { mode: 'openmpi', expectedSize: ompiSize, expectedRank: int(env.OMPI_COMM_WORLD_RANK), describe: `OpenMPI mpiexec, ${ompiSize} tasks` };
  }
  const pmiSize = int(env.PMI_SIZE);
  if (pmiSize !== null) {
    const srun = env.SLURM_STEP_ID !== undefined && env.SLURM_PROCID !== undefined;
    return {
      mode: srun ? 'srun' : 'hydra',
      expectedSize: pmiSize,
      expectedRank: int(env.PMI_RANK),
      describe: `${srun ? 'Slurm srun (PMI)' : 'MPICH/Hydra mpiexec'}, ${pmiSize} tasks`,
    };
  }
  if (env.PMIX_RANK !== undefined) {
    const size = int(env.SLURM_STEP_NUM_TASKS) ?? int(env.PMIX_SIZE) ?? 1;
    return { mode: 'pmix', expectedSize: size, expectedRank: int(env.PMIX_RANK), describe: `PMIx launcher, ${size} tasks` };
  }
  const stepTasks = int(env.SLURM_STEP_NUM_TASKS);
  if (env.SLURM_STEP_ID !== undefined && env.SLURM_PROCID !== undefined && stepTasks !== null) {
    return { mode: 'srun', expectedSize: stepTasks, expectedRank: int(env.SLURM_PROCID), describe: `Slurm srun, ${stepTasks} tasks` };
  }
  if (force === '1' || force === 'true' || force === 'on') {
    return { mode: 'forced', expectedSize: 1, expectedRank: null, describe: 'MPI forced by HIERIMPUTE_MPI=1 (no launcher seen)' };
  }
  return { mode: 'single', expectedSize: 1, expectedRank: null, describe: 'single rank, no MPI launcher' };
}
