// `hierimpute plan`: predicts a run's wall time on several rank counts before submitting it.
// It calibrates a cost model on the real tables (each method timed on samples shaped like its
// dearest node of each table) and runs the real dispatcher over a virtual-time worker pool (src/farm/plan.ts), then
// recommends a rank count, an `sbatch --time` and a ranks × threads split. Nothing runs under MPI.
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

import type { Argv, CommandModule } from 'yargs';

import type { RunConfig } from '../../engine/config.js';
import { expandSweep } from '../../engine/sweep.js';
import type { CostFile, PlanTable } from '../../farm/plan.js';
import { describeCommand } from './catalog.js';
import { resolveConfig } from './run.js';

interface PlanArgs {
  config?: string;
  preset?: string;
  seed?: number;
  data: string;
  ranks: string;
  threads: number;
  json: boolean;
  'sample-rows': number;
  costs?: string;
  cores?: number;
  'same-host': boolean;
}

const DEFAULT_RANKS = '1,2,3,4,8,16,32,64';

export function parseRanks(text: string): number[] {
  const list = String(text)
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map(Number);
  if (!list.length || list.some((n) => !Number.isInteger(n) || n < 1 || n > 1_000_000))
    throw new Error(`--ranks ${text}: expected a comma-separated list of integers >= 1`);
  return [...new Set(list)].sort((a, b) => a - b);
}

/** How to split a node's cores between ranks and kernel threads, given the recommended rank count. */
export function threadsAdvice(recommended: number | null, cores: number, threads: number): string {
  if (recommended === null)
    return `ranks × threads: with ${cores} cores per node, prefer fewer ranks and --threads ${Math.max(1, cores)} on one rank (results never depend on --threads).`;
  const perNode = Math.max(1, Math.floor(cores / Math.max(1, threads)));
  if (recommended >= perNode) {
    const nodes = Math.ceil(recommended / perNode);
    return (
      `ranks × threads: ${recommended} ranks fill ${nodes} node(s) of ${cores} cores at --threads ${threads} ` +
      `(--ntasks-per-node=${perNode}${nodes > 1 ? ` --nodes=${nodes}` : ''}).`
    );
  }
  const t = Math.max(1, Math.floor(cores / recommended));
  return (
    `ranks × threads: ${recommended} ranks leave ${cores - recommended * threads} of ${cores} cores idle at --threads ${threads}; more ranks would idle too ` +
    `(efficiency < 0.8), so give the cores to kernel threads: --ntasks-per-node=${recommended} --threads ${t} (knn, xgboost, MICE and the neural ` +
    `kernels use them; results never depend on --threads). Run plan --threads ${t} to calibrate with them.`
  );
}

export const planCommand: CommandModule<object, PlanArgs> = {
  command: 'plan',
  describe: describeCommand('plan'),
  builder: (y) =>
    y
      .usage('$0 plan --config FILE|--preset NAME --data DIR [--ranks 1,2,4,...] [--threads T] [--json]')
      .option('config', { type: 'string', describe: 'run configuration, JSON or YAML (as for run)' })
      .option('preset', { type: 'string', describe: 'a built-in configuration (as for run: seed, quick)' })
      .option('seed', { type: 'number', describe: 'run seed (overrides the config file; default 0)' })
      .option('data', { type: 'string', demandOption: true, describe: 'folder of input tables (*.csv), as for run' })
      .option('ranks', {
        type: 'string',
        default: DEFAULT_RANKS,
        describe: 'rank counts to predict (mpiexec -n N: rank 0 dispatches, N-1 work; 1 = one process)',
      })
      .option('threads', {
        type: 'number',
        default: 1,
        describe: 'kernel threads per rank the run will use (the calibration times methods with them)',
      })
      .option('sample-rows', {
        type: 'number',
        default: 2000,
        describe:
          'most fit rows of a calibration sample (each method is timed on its dearest node of each table, scaled to at most this many rows, and on half of that)',
      })
      .option('costs', {
        type: 'string',
        describe:
          'JSON cost model instead of calibrating: {"methods": {"knn": {"fixed_s": 0, "per_unit_s": 1e-9}}, "load_s": 0, "output_s": 0, "task_s": 0, ' +
          '"tables": {"<dataset>": {... per table}}} (plan --json prints the calibrated one as "costs")',
      })
      .option('cores', { type: 'number', describe: "cores per cluster node, for the ranks × threads advice (default: this machine's)" })
      .option('same-host', {
        type: 'boolean',
        default: false,
        describe:
          'the run will use this machine (mpiexec -n N here): measure how much of its cores concurrent workers get now (other jobs included) ' +
          'and let busy workers share them, instead of giving each worker a core of its own',
      })
      .option('json', { type: 'boolean', default: false, describe: 'print JSON' })
      .epilogue(
        'How: each table is loaded as a run loads it (per band: its rows, its rows with a missing cell, its columns with a missing cell, and the\n' +
          'load time); every method of the configuration is timed on its dearest node of each table (the band with the most fit rows), scaled\n' +
          "to at most --sample-rows fit rows and to half of that; one item's outputs and one node's storage are timed. Each prefix-tree node then\n" +
          'costs fixed_s + per_model_s × models + per_unit_s × units by this law:\n' +
          '  knn: units R×F×k (receivers × fit rows); mean, median: F×k; iterative_*, xgboost: models C, units C×F×k (a model per column with a\n' +
          '  missing cell); lstm, rnn: F×k (epochs × rows); gan: min(F, batch_size)×k (fixed iterations); F = fit rows (the band and every band\n' +
          "  before it), R = the band's rows with a missing cell, C = its columns with a missing cell, k = columns; no missing cell: fixed_s only.\n" +
          'The real dispatcher then runs over virtual workers whose tasks last that long (plus a load when the worker does not hold the\n' +
          'dataset, and the outputs when the task finishes an item). Per rank count: predicted wall seconds, efficiency = busy ÷ (workers × wall),\n' +
          'critical path (the longest chain of dependent nodes: no rank count beats it), idle share = 1 − busy ÷ (ranks × wall).\n' +
          'Recommended: the largest rank count with efficiency ≥ 0.8; sbatch --time = 1.5 × its wall + calibration + 60 s start-up + 300 s\n' +
          '(the requeue signal offset of slurm/*.sbatch). Details and measured accuracy: docs/plan.md.\n\n' +
          'Examples:\n  hierimpute plan --preset seed --data tables --ranks 1,2,4,8,16,32,64\n  hierimpute plan --config sweep.yaml --data tables --json',
      ) as unknown as Argv<PlanArgs>,
  handler: async (argv) => {
    const config = resolveConfig(argv);
    // The planner models the full product of a plain run; a beam search's nodes depend on scores
    // known only while it runs.
    if (config.search)
      throw new Error(
        "plan models the full product of a plain run; this configuration's search.beam searches it band by band with --evaluate " +
          '(`hierimpute sequences --config ... --beam K` prints its node count per table); plan it without "search" for an upper bound',
      );
    const ranks = parseRanks(argv.ranks);
    const threads = argv.threads;
    if (!Number.isInteger(threads) || threads < 0) throw new Error(`--threads must be an integer >= 0 (got ${threads})`);
    const sampleRows = argv['sample-rows'];
    if (!Number.isInteger(sampleRows) || sampleRows < 4) throw new Error(`--sample-rows must be an integer >= 4 (got ${sampleRows})`);
    const { checkDataDir } = await import('../../farm/run.js');
    const { discoverDatasets } = await import('../../tables/datasets.js');
    const { planRun, COST_LAW, TIME_FACTOR, STARTUP_S, SIGNAL_OFFSET_S } = await import('../../farm/plan.js');
    checkDataDir(argv.data);
    const datasets = discoverDatasets(argv.data);
    if (datasets.length === 0) throw new Error(`--data ${argv.data}: no *.csv files in this folder`);
    let costs: CostFile;
    let tables: PlanTable[];
    let calibrationSeconds = 0;
    if (argv.costs) {
      costs = JSON.parse(readFileSync(argv.costs, 'utf8')) as CostFile;
      tables = await bandRowsOnly(config, datasets);
    } else {
      const { calibrate } = await import('../../farm/calibrate.js');
      const cal = await calibrate(config, datasets, { sampleRows, threads });
      ({ costs, tables } = cal);
      calibrationSeconds = cal.seconds;
    }
    if (argv['same-host']) {
      const { hostParallelism } = await import('../../farm/calibrate.js');
      costs = { ...costs, host_parallelism: await hostParallelism(Math.max(1, ranks.at(-1)! - 1), Math.max(1, threads)) };
    }
    const plan = await planRun(config, tables, costs, ranks, { calibrationSeconds });
    const cores = argv.cores ?? availableParallelism();
    const advice = threadsAdvice(plan.recommended_ranks, cores, Math.max(1, threads));
    if (argv.json) {
      process.stdout.write(
        JSON.stringify({
          ...plan,
          sequences: expandSweep(config).length,
          tables: tables.map((t) => ({
            name: t.name,
            cols: t.cols,
            band_rows: t.bandRows,
            band_receivers: t.bandReceivers,
            band_missing_columns: t.bandColumns,
          })),
          calibration_seconds: calibrationSeconds,
          threads,
          cost_law: COST_LAW,
          costs,
          advice,
        }) + '\n',
      );
      return;
    }
    const out: string[] = [];
    out.push(
      `plan: ${expandSweep(config).length} sequences × ${tables.length} table(s), ${config.bands.length} bands: ${plan.nodes} nodes, ${plan.items} items; ` +
        `node work ${plan.node_seconds.toFixed(1)} s, critical path ${plan.critical_path_seconds.toFixed(1)} s`,
    );
    out.push(
      argv.costs
        ? `costs from ${argv.costs}`
        : `calibrated in ${calibrationSeconds.toFixed(1)} s on samples of ≤ ${sampleRows} rows (--threads ${threads})`,
    );
    out.push(`cost law: ${COST_LAW}`);
    if (costs.host_parallelism)
      out.push(`same host: ${costs.host_parallelism.map((v, i) => `${i + 1} busy worker(s) get ${v.toFixed(2)}× one's throughput`).join(', ')}`);
    const header = ['ranks', 'workers', 'wall (s)', 'efficiency', 'critical path (s)', 'idle share', 'dataset loads'];
    const rows = plan.ranks.map((r) => [
      r.ranks,
      r.workers,
      r.seconds.toFixed(1),
      r.efficiency.toFixed(2),
      plan.critical_path_seconds.toFixed(1),
      r.idle_share.toFixed(2),
      r.dataset_loads,
    ]);
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
    const line = (r: (string | number)[]): string => r.map((v, i) => String(v).padStart(widths[i]!)).join('  ');
    out.push('', line(header), ...rows.map(line), '');
    if (plan.recommended_ranks !== null) {
      const r = plan.ranks.find((x) => x.ranks === plan.recommended_ranks)!;
      out.push(
        `recommended: ${r.ranks} rank(s) (the largest given with efficiency ≥ 0.8), predicted ${r.seconds.toFixed(1)} s; ` +
          `sbatch --ntasks=${r.ranks} --time=${plan.sbatch_time_minutes} ` +
          `(${TIME_FACTOR} × ${r.seconds.toFixed(0)} s + ${calibrationSeconds.toFixed(0)} s calibration + ${STARTUP_S} s start-up + ${SIGNAL_OFFSET_S} s requeue signal offset, in minutes)`,
      );
    } else out.push(`no recommendation: ${plan.no_recommendation}`);
    out.push(advice);
    process.stdout.write(out.join('\n') + '\n');
  },
};

/** Each table as the planner sees it (width, band rows, their missing cells), read as a run reads it (for a given cost model). */
async function bandRowsOnly(config: RunConfig, datasets: readonly { name: string; path: string }[]): Promise<PlanTable[]> {
  const { loadDataset } = await import('../../engine/dataset.js');
  const { planEdges } = await import('../../farm/plan.js');
  const { planTable } = await import('../../farm/calibrate.js');
  const edges = planEdges(config);
  const tables = [];
  for (const d of datasets) tables.push(planTable(await loadDataset(d.name, d.path, edges)));
  return tables;
}
