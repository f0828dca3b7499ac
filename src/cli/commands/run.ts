// `hierimpute run` and `hierimpute sequences`.
//
// Precedence of every setting: CLI flag > HIERIMPUTE_* environment variable > config file > default.
//   setting     flag          environment             config file   default
//   config      --config      HIERIMPUTE_CONFIG       -             (or --preset)
//   preset      --preset      HIERIMPUTE_PRESET       -             -
//   data        --data        HIERIMPUTE_DATA         -             (required)
//   out         --out         HIERIMPUTE_OUT          -             (required)
//   seed        --seed        HIERIMPUTE_SEED         "seed"        0
//   threads     --threads     HIERIMPUTE_THREADS      -             1 (0 = all cores)
//   log level   --log-level   HIERIMPUTE_LOG_LEVEL    -             info
//   lock lease  --lock-lease  HIERIMPUTE_LOCK_LEASE   -             120 s (DEFAULT_LEASE_MS)
// Evaluation (flags only): --evaluate, --holdout (0.1), --holdout-seed (the run seed), --holdout-repeats (3),
// --refit-best, --ensemble (chosen on the holdout); --beam K (> the config's search.beam; none: the full product).
import { existsSync } from 'node:fs';
import { join } from 'node:path';

import type { Argv, CommandModule } from 'yargs';

import { ConfigError, presetConfig, PRESETS, readConfigFile, withBeamFlag, type RunConfig } from '../../engine/config.js';
import { expandSweep, prefixNodeCount } from '../../engine/sweep.js';
import { beamShape } from '../../eval/beam.js';
import { checkEvaluateOptions, DEFAULT_REPEATS, type EvaluateOptions } from '../../eval/evaluate.js';
import { DEFAULT_LEASE_MS } from '../../locks/index.js';
import { configureLogging, LOG_LEVELS, type LogLevel } from '../../log/logger.js';
import { withWorld } from '../lifecycle.js';
import { describeCommand } from './catalog.js';

export const PRECEDENCE_HELP = `Settings: CLI flag > HIERIMPUTE_* environment variable (e.g. HIERIMPUTE_SEED, HIERIMPUTE_THREADS,
HIERIMPUTE_DATA, HIERIMPUTE_OUT, HIERIMPUTE_CONFIG, HIERIMPUTE_PRESET, HIERIMPUTE_LOG_LEVEL, HIERIMPUTE_LOCK_LEASE) > config file > default.`;

interface ConfigArgs {
  config?: string;
  preset?: string;
  seed?: number;
}

export function resolveConfig(args: ConfigArgs): RunConfig {
  if (args.config && args.preset) throw new ConfigError('give either --config FILE or --preset NAME, not both');
  if (!args.config && !args.preset) throw new ConfigError(`give --config FILE (JSON or YAML) or --preset NAME (${Object.keys(PRESETS).join(', ')})`);
  const config = args.config ? readConfigFile(args.config) : presetConfig(args.preset!);
  if (args.seed === undefined) return config;
  if (!Number.isSafeInteger(args.seed) || args.seed < 0 || args.seed > 0xffffffff)
    throw new ConfigError(`--seed must be an integer in [0, 2^32), got ${args.seed}`);
  return { ...config, seed: args.seed };
}

function configOptions<T>(y: Argv<T>): Argv<T & ConfigArgs> {
  return y
    .option('config', {
      type: 'string',
      describe:
        'run configuration, JSON or YAML: {"bands": [{"width": 0.05, "methods": ["knn"]}, ...], "seed": 0, "params": {"knn": {"n_neighbors": 5}}, "band_all_missing": "impute"}',
    })
    .option('preset', {
      type: 'string',
      choices: Object.keys(PRESETS),
      describe:
        'a built-in configuration: seed = the full sweep (18 bands: knn, iterative_function, xgboost, lstm|rnn, gan|rnn; 64 sequences), quick = small tabular sweep',
    })
    .option('seed', { type: 'number', describe: 'run seed (overrides the config file; default 0)' }) as Argv<T & ConfigArgs>;
}

interface RunArgs extends ConfigArgs {
  data: string;
  out: string;
  threads?: number;
  'lock-lease'?: number;
  'log-level'?: LogLevel;
  progress: boolean;
  evaluate: boolean;
  holdout?: number;
  'holdout-seed'?: number;
  'holdout-repeats'?: number;
  'refit-best': boolean;
  ensemble?: number;
  beam?: number;
}

/** Longest accepted --lock-lease (a week): beyond it a lost host's nodes would in effect never be recomputed. */
const MAX_LEASE_S = 7 * 24 * 3600;

/**
 * --lock-lease in seconds -> the claim lease in ms (DEFAULT_LEASE_MS when not given). At least 1 s:
 * the heartbeat refreshes a claim every lease / 6, and shorter leases only trade safety for nothing.
 */
export function lockLeaseMs(seconds: number | undefined): number {
  if (seconds === undefined) return DEFAULT_LEASE_MS;
  if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds < 1 || seconds > MAX_LEASE_S)
    throw new ConfigError(`--lock-lease must be a number of seconds in [1, ${MAX_LEASE_S}] (got ${seconds})`);
  return Math.round(seconds * 1000);
}

/** The --evaluate options, or undefined; evaluation flags without --evaluate are an error. */
export function evaluateOptions(
  argv: Pick<RunArgs, 'evaluate' | 'holdout' | 'holdout-seed' | 'refit-best'> & Partial<Pick<RunArgs, 'holdout-repeats' | 'ensemble'>>,
  config: RunConfig,
): EvaluateOptions | undefined {
  if (!argv.evaluate) {
    const stray = (['holdout', 'holdout-seed', 'holdout-repeats', 'ensemble'] as const).filter((k) => argv[k] !== undefined).map((k) => `--${k}`);
    if (argv['refit-best']) stray.push('--refit-best');
    if (stray.length)
      throw new Error(
        `${stray.join(', ')} only appl${stray.length > 1 ? 'y' : 'ies'} with --evaluate (add --evaluate, or drop ${stray.length > 1 ? 'them' : 'it'})`,
      );
    return undefined;
  }
  const opts: EvaluateOptions = {
    share: argv.holdout ?? 0.1,
    seed: argv['holdout-seed'] ?? config.seed,
    refitBest: argv['refit-best'],
    repeats: argv['holdout-repeats'] ?? DEFAULT_REPEATS,
    ...(argv.ensemble !== undefined ? { ensemble: argv.ensemble } : {}),
  };
  checkEvaluateOptions(opts);
  return opts;
}

/**
 * An --evaluate run fills OUT/sequences with imputations of the MASKED tables; a plain run fills
 * it with the real ones. One output folder holds one kind, so a leaderboard never describes
 * tables that were since replaced.
 */
export function checkOutKind(out: string, evaluate: boolean): void {
  const evaluated = existsSync(join(out, 'holdout'));
  const swept = existsSync(join(out, 'sequences'));
  if (!evaluate && evaluated)
    throw new ConfigError(`--out ${out} holds an --evaluate run (imputations of masked tables): add --evaluate, or use another --out`);
  if (evaluate && swept && !evaluated)
    throw new ConfigError(
      `--out ${out} holds a plain run; an --evaluate run needs its own --out (it would replace those tables with imputations of masked ones)`,
    );
}

export const runCommand: CommandModule<object, RunArgs> = {
  command: 'run',
  describe: describeCommand('run'),
  builder: (y) =>
    configOptions(y)
      .usage('$0 run --config FILE|--preset NAME --data DIR --out DIR [--seed N] [--threads N] [--lock-lease S] [--log-level L]')
      .option('data', {
        type: 'string',
        demandOption: true,
        describe: 'folder of input tables (*.csv, header row, NA/NaN/empty = missing); never modified',
      })
      .option('out', {
        type: 'string',
        demandOption: true,
        describe: 'output folder: sequences/, cache/ (checkpoints), logs/, plots/, run-summary.json',
      })
      .option('threads', {
        type: 'number',
        describe: 'kernel threads per rank (default 1); 0 = all cores (for single-rank runs; results never depend on it)',
      })
      .option('log-level', { type: 'string', choices: LOG_LEVELS, describe: 'console/log verbosity (default info)' })
      .option('lock-lease', {
        type: 'number',
        describe:
          `seconds after which a node claim that stopped being refreshed (its rank was killed, its host lost) is taken over by another rank or a rerun (default ${DEFAULT_LEASE_MS / 1000}). ` +
          "Shorter: a rerun after a lost host waits less for that host's nodes. Too short: a rank frozen longer than the lease (swapping, SIGSTOP) loses its claim and the node is computed twice (outputs stay identical). See docs/locks.md",
      })
      .option('progress', { type: 'boolean', default: true, describe: 'progress bar on a terminal (log lines otherwise)' })
      .option('evaluate', {
        type: 'boolean',
        default: false,
        describe:
          'hide a share of the observed cells first (OUT/holdout/), sweep the masked tables, score every sequence: OUT/leaderboard.csv, OUT/best_sequences.csv, OUT/report.html',
      })
      .option('holdout', {
        type: 'number',
        describe: "with --evaluate: share of each column's observed cells to hide, in (0, 1) (default 0.1; a column always keeps 2 observed cells)",
      })
      .option('holdout-seed', { type: 'number', describe: 'with --evaluate: seed of the holdout mask (default: the run seed)' })
      .option('holdout-repeats', {
        type: 'number',
        describe:
          `with --evaluate: independent holdouts (seeds derived from --holdout-seed), each a masked copy swept: R× the sweep; scores are means ± sd (default ${DEFAULT_REPEATS}: ` +
          'measured to pick better tables than 1 at 2.8× the time, and as good as 5; docs/evaluation.md)',
      })
      .option('refit-best', {
        type: 'boolean',
        default: false,
        describe:
          'with --evaluate: impute each unmasked table with its recommended ensemble (the cell-wise mean of the top K candidates) -> OUT/best/<dataset>.csv',
      })
      .option('beam', {
        type: 'number',
        describe:
          "with --evaluate: search the sweep band by band, keeping the K best prefixes by holdout score after each band, instead of running every sequence (overrides the config's search.beam; 0 = the full product; `hierimpute sequences --beam K` shows the plan)",
      })
      .option('ensemble', {
        type: 'number',
        describe:
          'with --evaluate: average the top K candidates (1 = the best alone); default: K in {1,2,3,5,8} chosen on half of the hidden cells, scored on the other half',
      })
      .epilogue(
        `${PRECEDENCE_HELP}\n\nOutputs: OUT/sequences/seq_<id>_<methods>/<dataset>.csv (+ .methods.csv, .bands.svg, methods_manifest.json),\n` +
          'OUT/imputation_sequence_index.csv, OUT/sequence_description.txt, OUT/run-summary.json, OUT/plots/*.svg, OUT/logs/.\n' +
          'With --evaluate: OUT/holdout/<dataset>.mask.csv (row,col,value, 0-based), OUT/holdout/masked/, OUT/leaderboard.csv, OUT/best_sequences.csv,\n' +
          'OUT/plots/leaderboard_<dataset>.svg, OUT/plots/method_band_nrmse.svg, OUT/report.html, OUT/evaluation.json (+ OUT/best/ with --refit-best).\n\n' +
          'Examples:\n  hierimpute run --preset quick --data examples/data --out out\n  mpiexec -n 64 node dist/main.js run --config sweep.yaml --data tables/ --out results/',
      ) as unknown as Argv<RunArgs>,
  handler: async (argv) => {
    const logLevel = argv['log-level'] ?? 'info';
    const threads = argv.threads ?? 1;
    await withWorld({ logLevel }, async (world) => {
      if (!Number.isInteger(threads) || threads < 0) throw new Error(`--threads must be an integer >= 0 (got ${threads})`);
      const leaseMs = lockLeaseMs(argv['lock-lease']);
      const config = withBeamFlag(resolveConfig(argv), argv.beam);
      const evaluate = evaluateOptions(argv, config);
      if (config.search && !evaluate)
        throw new ConfigError(
          argv.beam
            ? '--beam ranks prefixes by their holdout score: add --evaluate'
            : "the configuration's search.beam ranks prefixes by their holdout score: add --evaluate (or --beam 0 for the full product)",
        );
      // The sweep's modules (node store, Arrow, outputs, evaluation) load only when a sweep runs.
      const { checkDataDir, runSweep } = await import('../../farm/run.js');
      checkDataDir(argv.data);
      checkOutKind(argv.out, argv.evaluate);
      configureLogging({ rank: world.rank, dir: join(argv.out, 'logs'), level: logLevel });
      const mode = evaluate ? (await import('../../eval/evaluated-sweep.js')).evaluatedSweep(evaluate) : undefined;
      return runSweep(world, { config, dataDir: argv.data, outDir: argv.out, threads, leaseMs, progress: argv.progress, mode });
    });
  },
};

type SequencesArgs = ConfigArgs & { json: boolean; beam?: number };

export const sequencesCommand: CommandModule<object, SequencesArgs> = {
  command: 'sequences',
  describe: describeCommand('sequences'),
  builder: (y) =>
    configOptions(y)
      .usage('$0 sequences --config FILE|--preset NAME [--seed N] [--beam K] [--json]')
      .option('json', { type: 'boolean', default: false, describe: 'print JSON' })
      .option('beam', {
        type: 'number',
        describe:
          "explain the beam search of width K (default: the config's search.beam; 0 = list the full product) instead of listing the sequences",
      })
      .epilogue(
        'Settings: CLI flag > HIERIMPUTE_CONFIG / HIERIMPUTE_PRESET / HIERIMPUTE_SEED > config file > default.',
      ) as unknown as Argv<SequencesArgs>,
  handler: (argv) => {
    const config = withBeamFlag(resolveConfig(argv), argv.beam);
    const width = config.search?.beam;
    if (width !== undefined) {
      process.stdout.write(explainBeam(config, width, argv.json));
      return;
    }
    const seqs = expandSweep(config);
    if (argv.json) {
      process.stdout.write(JSON.stringify({ sequences: seqs, prefixNodes: prefixNodeCount(config), bands: config.bands }) + '\n');
      return;
    }
    process.stdout.write(`${seqs.length} sequences, ${config.bands.length} bands, ${prefixNodeCount(config)} prefix-tree nodes per dataset\n`);
    for (const s of seqs) process.stdout.write(`${s.label}\n`);
  },
};

/** `sequences --beam K`: what a beam search of width K does with a configuration, before any data. */
export function explainBeam(config: RunConfig, width: number, json: boolean): string {
  const shape = beamShape(config, width);
  if (json) {
    return (
      JSON.stringify({
        beam: width,
        bands: shape.bands,
        nodes: shape.nodes,
        sequences: shape.sequences,
        full_sequences: String(shape.fullSequences),
        full_nodes: String(shape.fullNodes),
      }) + '\n'
    );
  }
  const lines = [
    `beam search of width ${width} over ${shape.fullSequences} sequences (${config.bands.length} bands), per dataset and holdout copy:`,
    ...shape.bands.map(
      (b) =>
        `  band ${b.band}: ${b.candidates} candidate prefix(es) = ${b.band === 0 ? '' : `${shape.bands[b.band - 1]!.kept} kept × `}${b.alternatives} alternative(s)` +
        (b.band === shape.bands.length - 1
          ? ': complete sequences, all scored in the leaderboard'
          : b.candidates <= width
            ? '; all kept (no more than the beam keeps: nothing to decide, not scored)'
            : `; keep the ${b.kept} best by holdout nRMSE of bands 0..${b.band}`),
    ),
    `at most ${shape.nodes} nodes (the full product: ${shape.fullNodes}); ${shape.sequences} complete sequences reach the leaderboard (of ${shape.fullSequences}).`,
    'Each band waits for the scores of its candidates on the dataset; datasets advance independently. Needs run --evaluate.',
  ];
  return lines.join('\n') + '\n';
}
