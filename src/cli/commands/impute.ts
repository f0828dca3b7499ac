// `hierimpute impute`: impute every missing cell of one table with one method (single process).
//   hierimpute impute --method NAME --input FILE --output FILE [--seed N] [--threads N] [--param key=value ...]
// The help lists every method and every parameter with its default, generated from the registry.
// The output is written atomically (writeMatrix); the input file is never modified.
import { realpathSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

import type { Argv, CommandModule } from 'yargs';

import { emptyColumnError, readImputable } from '../../engine/dataset.js';
import { engineAddon } from '../../engine/native.js';
import { isValidSeed, isValidThreads, SEED_RULE, THREADS_RULE } from '../../impute/context.js';
import { parseParams } from '../../impute/options.js';
import { type AnyImputer, getImputer, listMethods } from '../../impute/registry.js';
import { type OptionSchema, valueLabel } from '../../impute/schema.js';
import { tableFormat, writeMatrix } from '../../tables/io.js';
import { describeCommand } from './catalog.js';

export interface ImputeArgs {
  method: string;
  input: string;
  output: string;
  seed: number;
  threads: number;
  param?: string[];
}

export interface ImputeSummary {
  method: string;
  options: Record<string, unknown>;
  input: string;
  output: string;
  rows: number;
  columns: number;
  seconds: number;
}

/** Word-wraps `text` to `width` columns, each line prefixed by `indent`. */
function wrap(text: string, indent: string, width = 100): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && indent.length + line.length + 1 + word.length > width) {
      lines.push(indent + line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(indent + line);
  return lines;
}

/** The parameter list of every method, from the option schemas, for `--help` (lines of at most 100 columns). */
export function methodsHelp(): string {
  const lines = ['Methods (--method NAME) and their parameters (--param key=value, repeatable):'];
  for (const m of listMethods()) {
    lines.push('', ...wrap(`${m.name}: ${m.summary}`, '  '));
    const specs = Object.entries(m.options as OptionSchema);
    if (specs.length === 0) lines.push('    (no parameters)');
    for (const [key, spec] of specs)
      lines.push(`    ${key}=<${valueLabel(spec)}>  [default: ${String(spec.default)}]`, ...wrap(spec.description, '        '));
  }
  return lines.join('\n');
}

function samePath(a: string, b: string): boolean {
  const real = (p: string): string => {
    try {
      return realpathSync(p);
    } catch {
      try {
        return resolve(realpathSync(dirname(p)), p.split(/[\\/]/).pop() ?? p);
      } catch {
        return resolve(p);
      }
    }
  };
  return real(a) === real(b);
}

/** Runs one imputation; every argument is checked before the input is read. */
export async function runImpute(args: ImputeArgs): Promise<ImputeSummary> {
  const imputer: AnyImputer = getImputer(args.method);
  const options = parseParams(imputer, args.param ?? []) as Record<string, unknown>;
  if (!isValidSeed(args.seed)) throw new RangeError(`--seed must be ${SEED_RULE} (got ${String(args.seed)})`);
  if (!isValidThreads(args.threads)) throw new RangeError(`--threads must be ${THREADS_RULE} (got ${String(args.threads)})`);
  tableFormat(args.input);
  tableFormat(args.output);
  if (samePath(args.input, args.output))
    throw new Error(`--output ${args.output} is the input file; hierimpute never modifies its input, name another file`);

  const started = process.hrtime.bigint();
  // The input checks happen here, at load, as for `run`: an error names the file, the line and the
  // column, not a method's internal row index.
  const data = await readImputable(args.input);
  if (options.empty_columns !== 'zero' && data.nRows > 0) {
    const empty = emptyColumnError(
      args.input,
      data,
      engineAddon().columnStats(data.columns).observed,
      'drop the column, or fill it with 0: --param empty_columns=zero',
    );
    if (empty) throw empty;
  }
  const imputed = await imputer.impute(data, 0, options, { seed: args.seed, threads: args.threads });
  await writeMatrix(imputed, args.output);
  return {
    method: imputer.name,
    options,
    input: args.input,
    output: args.output,
    rows: imputed.nRows,
    columns: imputed.names.length,
    seconds: Number(process.hrtime.bigint() - started) / 1e9,
  };
}

export const imputeCommand: CommandModule<object, ImputeArgs> = {
  command: 'impute',
  describe: describeCommand('impute'),
  builder: (y: Argv<object>): Argv<ImputeArgs> =>
    y
      .usage('$0 impute --method NAME --input FILE --output FILE [--seed N] [--threads N] [--param key=value ...]')
      .option('method', {
        type: 'string',
        demandOption: true,
        describe: `imputation method: ${listMethods()
          .map((m) => m.name)
          .join(', ')}`,
      })
      .option('input', { type: 'string', demandOption: true, describe: 'table to impute (.csv with a header, or .arrow)' })
      .option('output', {
        type: 'string',
        demandOption: true,
        describe: 'where to write the imputed table (.csv or .arrow, by extension; written atomically)',
      })
      .option('seed', { type: 'number', default: 0, describe: 'random seed (methods with randomness), an integer in [0, 2^32)' })
      .option('threads', {
        type: 'number',
        default: 1,
        describe: 'kernel threads (default 1, as on MPI ranks); 0 = all cores; output never depends on it',
      })
      .option('param', {
        type: 'string',
        array: true,
        describe: 'method parameter key=value (repeatable; see the list below)',
      })
      .epilogue(
        methodsHelp() +
          '\n\nExample:\n  hierimpute impute --method knn --input data.csv --output imputed.csv \\\n    --param n_neighbors=3 --param weights=distance',
      ) as unknown as Argv<ImputeArgs>,
  handler: async (argv) => {
    const s = await runImpute(argv);
    const imputer = getImputer(s.method);
    const opts = Object.keys(imputer.options).length ? ` (${describeOptions(s.options)})` : '';
    process.stdout.write(
      `imputed ${s.input} (${s.rows} rows x ${s.columns} columns) with ${s.method}${opts} in ${s.seconds.toFixed(3)} s -> ${s.output}\n`,
    );
  },
};

function describeOptions(options: Record<string, unknown>): string {
  return Object.entries(options)
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(' ');
}
