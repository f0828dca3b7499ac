// The `hierimpute` command line (yargs). Each command lives in its own module under commands/,
// loaded only when that command runs (or its --help is asked for); the others are registered by
// name and description alone (commands/catalog.ts), so start-up stays light.
import yargs, { type CommandModule } from 'yargs';

import { packageVersion } from '../bindings/paths.js';
import { TF_BACKEND_CHOICES, type TfBackendChoice } from '../tf/constants.js';
import { COMMANDS } from './commands/catalog.js';

/**
 * Settings that HIERIMPUTE_<NAME> environment variables may give, per command (a CLI flag wins;
 * a variable for a setting the command does not have is ignored). --config and --preset are one
 * setting: either flag overrides both variables.
 */
const ENV_SETTINGS: Readonly<Record<string, ReadonlyArray<[string, 'string' | 'number']>>> = {
  run: [
    ['config', 'string'],
    ['preset', 'string'],
    ['data', 'string'],
    ['out', 'string'],
    ['seed', 'number'],
    ['threads', 'number'],
    ['lock-lease', 'number'],
    ['log-level', 'string'],
  ],
  sequences: [
    ['config', 'string'],
    ['preset', 'string'],
    ['seed', 'number'],
  ],
  impute: [
    ['seed', 'number'],
    ['threads', 'number'],
  ],
};

function applyEnvironment(argv: Record<string, unknown>): void {
  const command = String((argv._ as unknown[] | undefined)?.[0] ?? '');
  const configGiven = argv.config !== undefined || argv.preset !== undefined;
  for (const [name, type] of ENV_SETTINGS[command] ?? []) {
    if (argv[name] !== undefined) continue;
    if ((name === 'config' || name === 'preset') && configGiven) continue;
    const variable = `HIERIMPUTE_${name.toUpperCase().replace(/-/g, '_')}`;
    const text = process.env[variable];
    if (text === undefined || text === '') continue;
    const value = type === 'number' ? Number(text) : text;
    if (typeof value === 'number' && !Number.isFinite(value)) throw new Error(`${variable}=${text}: expected a number`);
    argv[name] = value;
    argv[name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase())] = value;
  }
}

/** Global options that take a value (their value is not a command name). */
const VALUE_OPTIONS = new Set(['--tf-backend']);

/** The command the arguments name (the first positional argument), if any. */
export function selectedCommand(args: readonly string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') return undefined;
    if (a.startsWith('-')) {
      if (VALUE_OPTIONS.has(a)) i++;
      continue;
    }
    return a;
  }
  return undefined;
}

/** The full module of the command being run; a light stand-in (name, description) for the others. */
async function commandModules(args: readonly string[]): Promise<CommandModule<object, object>[]> {
  const selected = selectedCommand(args);
  return Promise.all(
    COMMANDS.map(async (c) =>
      c.name === selected ? ((await c.load()) as CommandModule<object, object>) : { command: c.name, describe: c.describe, handler: () => undefined },
    ),
  );
}

export async function runCli(args: string[]): Promise<void> {
  const commands = await commandModules(args);
  let y = yargs(args);
  for (const c of commands) y = y.command(c);
  await y
    .scriptName('hierimpute')
    .usage(
      '$0 <command> [options]\n\n' +
        'Hierarchical imputation of numeric CSV tables. Rows are banded by their share of missing cells;\n' +
        'each band is imputed by its own method, fitted on every row imputed so far plus the band.\n\n' +
        'Single rank:  hierimpute <command> ...\n' +
        'MPI:          mpiexec -n 64 node dist/main.js <command> ...\n' +
        '              (rank 0 dispatches, ranks > 0 work)',
    )
    .middleware(applyEnvironment, true)
    .option('tf-backend', {
      type: 'string',
      choices: TF_BACKEND_CHOICES,
      global: true,
      describe:
        'engine of lstm/rnn/gan: auto = the native C++ kernels (TensorFlow.js if the addon lacks them); native; or a TensorFlow.js backend ' +
        '(tensorflow = tfjs-node, wasm, cpu); a named one fails loudly if it cannot load (env HIERIMPUTE_TF_BACKEND)',
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
