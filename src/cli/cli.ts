// The `hierimpute` command line (yargs). Each command lives in its own module under commands/.
import yargs from 'yargs';

import { packageVersion } from '../bindings/paths.js';
import { TF_BACKEND_CHOICES, type TfBackendChoice } from '../tf/constants.js';
import { imputeCommand } from './commands/impute.js';
import { infoCommand } from './commands/info.js';
import { runCommand, sequencesCommand } from './commands/run.js';

/** Settings that HIERIMPUTE_<NAME> environment variables may give (a CLI flag wins over them). */
const ENV_SETTINGS: ReadonlyArray<[string, 'string' | 'number']> = [
  ['config', 'string'],
  ['preset', 'string'],
  ['data', 'string'],
  ['out', 'string'],
  ['seed', 'number'],
  ['threads', 'number'],
  ['log-level', 'string'],
];

function applyEnvironment(argv: Record<string, unknown>): void {
  for (const [name, type] of ENV_SETTINGS) {
    if (argv[name] !== undefined) continue;
    const text = process.env[`HIERIMPUTE_${name.toUpperCase().replace(/-/g, '_')}`];
    if (text === undefined || text === '') continue;
    const value = type === 'number' ? Number(text) : text;
    argv[name] = value;
    argv[name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase())] = value;
  }
}

export async function runCli(args: string[]): Promise<void> {
  await yargs(args)
    .scriptName('hierimpute')
    .usage(
      '$0 <command> [options]\n\n' +
        'Hierarchical imputation of numeric CSV tables: rows are banded by their share of missing cells and\n' +
        'each band is imputed by its own method, fitted on every row imputed so far plus the band.\n' +
        'Single rank:  hierimpute <command> ...\n' +
        'MPI:          mpiexec -n 64 node dist/main.js <command> ...   (rank 0 dispatches, ranks > 0 work)',
    )
    .command(runCommand)
    .command(sequencesCommand)
    .command(imputeCommand)
    .command(infoCommand)
    .middleware(applyEnvironment, true)
    .option('tf-backend', {
      type: 'string',
      choices: TF_BACKEND_CHOICES,
      global: true,
      describe: 'TensorFlow.js backend of lstm/rnn/gan: auto = tfjs-node if it loads, else wasm, else cpu; a named one fails loudly if it cannot load (env HIERIMPUTE_TF_BACKEND)',
    })
    .middleware(async (argv) => {
      // Applies in every rank's process; loads nothing until a neural method runs.
      if (argv['tf-backend']) (await import('../tf/backend.js')).setDefaultTfBackend(argv['tf-backend'] as TfBackendChoice);
    })
    .demandCommand(1, 'Name a command (see the list above).')
    .strict()
    .recommendCommands()
    .version(packageVersion())
    .help()
    .alias('h', 'help')
    .wrap(Math.min(110, process.stdout.columns || 110))
    .fail((msg, err, y) => {
      if (err) {
        process.stderr.write(`hierimpute: ${err.message}\n`);
        process.exit(1);
      }
      process.stderr.write(`${String(y.help())}\n\nhierimpute: ${msg}\n`);
      process.exit(2);
    })
    .parseAsync();
}
