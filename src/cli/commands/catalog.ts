// The commands of `hierimpute`: name, one-line description and where the full command lives.
// The command line registers every command by this light entry and loads only the module of the
// command being run (or asked for with `<command> --help`), so `--help`, `--version` and `info`
// never load the sweep's dependencies (Arrow, Vega, the method registry).
import type { CommandModule } from 'yargs';

export interface CommandEntry {
  readonly name: string;
  readonly describe: string;
  // Each command has its own argv shape; the catalog holds them all, so their types are erased here.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly load: () => Promise<CommandModule<any, any>>;
}

export const COMMANDS: readonly CommandEntry[] = [
  {
    name: 'run',
    describe: 'Run the sweep on every *.csv of a folder (checkpointed: rerun the same command to resume)',
    load: async () => (await import('./run.js')).runCommand,
  },
  {
    name: 'sequences',
    describe: 'List the sequences (one method per band) a configuration sweeps',
    load: async () => (await import('./run.js')).sequencesCommand,
  },
  {
    name: 'plan',
    describe: "Predict a run's wall time, efficiency and critical path on several rank counts (real dispatcher, calibrated costs, virtual time)",
    load: async () => (await import('./plan.js')).planCommand,
  },
  {
    name: 'impute',
    describe: 'Impute every missing cell of one table (.csv or .arrow) with one method',
    load: async () => (await import('./impute.js')).imputeCommand,
  },
  {
    name: 'info',
    describe: 'Print versions (package, MPI library, XGBoost, TensorFlow.js backend), the launch mode and one line per rank',
    load: async () => (await import('./info.js')).infoCommand,
  },
];

/** The description of a command, by name (the command modules use the same text). */
export function describeCommand(name: string): string {
  const entry = COMMANDS.find((c) => c.name === name);
  if (!entry) throw new Error(`no command '${name}' in the catalog`);
  return entry.describe;
}
