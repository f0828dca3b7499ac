// The `hierimpute` command line (yargs). Each command lives in its own module under commands/.
import yargs from 'yargs';

import { packageVersion } from '../bindings/paths.js';
import { imputeCommand } from './commands/impute.js';
import { infoCommand } from './commands/info.js';
import { runCommand, sequencesCommand } from './commands/run.js';

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
    .env('HIERIMPUTE')
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
