// `hierimpute run --evaluate`: the evaluation around a sweep, on rank 0 (identical for one rank
// and for MPI: workers only ever read the masked tables).
//   before the sweep  prepareEvaluation: mask every dataset (OUT/holdout/), the sweep then runs on
//                     OUT/holdout/masked/ (see holdout.ts)
//   after the sweep   finishEvaluation: score every (sequence, dataset) from the output tables and
//                     the mask files, OUT/leaderboard.csv, OUT/best_sequences.csv, plots, optional
//                     refit of the best sequence on the unmasked tables (OUT/best/), OUT/report.html
//                     and OUT/evaluation.json (options, hidden cells, timings).
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import type { RunConfig } from '../engine/config.js';
import type { RunSummary } from '../engine/outputs.js';
import { writeSvg } from '../engine/plots.js';
import type { NodeStore } from '../engine/store.js';
import type { Sequence } from '../engine/sweep.js';
import { log } from '../log/logger.js';
import { writeReport } from '../report/html.js';
import type { Dataset } from '../tables/datasets.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { checkHoldoutOptions, holdoutPaths, writeHoldout } from './holdout.js';
import { loadTruth, scoreDataset, writeBestSequences, writeLeaderboard, type BestRow, type LeaderboardRow } from './leaderboard.js';
import { leaderboardSpec, methodBandSpec, methodBandTable } from './plots.js';
import { refitBest, type RefitResult } from './refit.js';

export interface EvaluateOptions {
  /** Share of each column's observed cells hidden (--holdout, default 0.1). */
  readonly share: number;
  /** Holdout seed (--holdout-seed, default: the run seed). */
  readonly seed: number;
  /** Impute each unmasked table with its best sequence (--refit-best). */
  readonly refitBest: boolean;
}

export interface EvaluationSummary {
  holdout: number;
  holdout_seed: number;
  hidden_cells: Record<string, number>;
  best: Record<string, string>;
  refit: Record<string, RefitResult>;
  seconds: { masking: number; scoring: number; plots: number; refit: number; report: number };
  /** The sweep's own wall time (run-summary.json wall_s). */
  sweep_s: number;
}

/** Dataset name -> the masked table the sweep reads (same on every rank, no file access). */
export function maskedPaths(outDir: string, datasets: readonly Dataset[]): Map<string, string> {
  return new Map(datasets.map((d) => [d.name, holdoutPaths(outDir, d).masked]));
}

/** Rank 0, before the sweep: masks every dataset. */
export async function prepareEvaluation(
  outDir: string,
  datasets: readonly Dataset[],
  opts: EvaluateOptions,
  threads: number,
): Promise<{ hidden: Record<string, number>; seconds: number }> {
  checkHoldoutOptions(opts);
  const t0 = performance.now();
  const hidden: Record<string, number> = {};
  for (const d of datasets) hidden[d.name] = await writeHoldout(outDir, d, opts, threads);
  const seconds = (performance.now() - t0) / 1000;
  log.info(`holdout: ${Object.values(hidden).reduce((a, b) => a + b, 0)} observed cells hidden (share ${opts.share}, seed ${opts.seed}) -> ${join(outDir, 'holdout')}`);
  return { hidden, seconds };
}

const plotName = (dataset: string) => `leaderboard_${dataset}.svg`;

export interface FinishArgs {
  outDir: string;
  datasets: readonly Dataset[];
  sequences: readonly Sequence[];
  config: RunConfig;
  edges: readonly number[];
  summary: RunSummary;
  store: NodeStore;
  threads: number;
  opts: EvaluateOptions;
  prepared: { hidden: Record<string, number>; seconds: number };
}

/** Rank 0, after the sweep: scores, leaderboard, best sequences, plots, refit, report. */
export async function finishEvaluation(a: FinishArgs): Promise<EvaluationSummary> {
  const { outDir, config, edges } = a;
  const failed = new Set(Object.keys(a.summary.failed_datasets));
  const scored = a.datasets.filter((d) => !failed.has(d.name));
  let t = performance.now();
  const perDataset = new Map<string, LeaderboardRow[]>();
  for (const d of scored) {
    const truth = await loadTruth(outDir, d, edges, a.threads);
    perDataset.set(d.name, await scoreDataset(outDir, d, a.sequences, truth, a.threads));
  }
  const rows = [...perDataset.values()].flat();
  await writeLeaderboard(outDir, rows, edges.length);
  const scoring = (performance.now() - t) / 1000;

  t = performance.now();
  mkdirSync(join(outDir, 'plots'), { recursive: true });
  for (const [name, r] of perDataset) await writeSvg(join(outDir, 'plots', plotName(name)), leaderboardSpec(name, r));
  await writeSvg(join(outDir, 'plots', 'method_band_nrmse.svg'), methodBandSpec(methodBandTable(rows)));
  const plots = (performance.now() - t) / 1000;

  t = performance.now();
  const refit: Record<string, RefitResult> = {};
  const best: BestRow[] = [];
  for (const d of scored) {
    const top = perDataset.get(d.name)![0];
    if (!top) continue;
    if (a.opts.refitBest) {
      refit[d.name] = await refitBest(outDir, d, a.sequences[top.sequence]!, { config, edges, store: a.store, threads: a.threads });
    }
    best.push({ row: top, refit: refit[d.name]?.table ?? '' });
  }
  await writeBestSequences(outDir, best);
  const refitS = (performance.now() - t) / 1000;

  t = performance.now();
  const svg = (f: string) => readFileSync(join(outDir, 'plots', f), 'utf8');
  await writeReport(join(outDir, 'report.html'), {
    config,
    evaluation: { share: a.opts.share, seed: a.opts.seed, refitBest: a.opts.refitBest },
    datasets: a.datasets.map((d) => ({ name: d.name, source: d.path, hidden: a.prepared.hidden[d.name] ?? 0, failed: a.summary.failed_datasets[d.name] })),
    sequences: a.sequences,
    summary: a.summary,
    leaderboard: rows,
    best,
    refit,
    plots: [
      ...[...perDataset.keys()].map((n) => ({ title: `Leaderboard: ${n}`, svg: svg(plotName(n)) })),
      { title: 'Method × band', svg: svg('method_band_nrmse.svg') },
      { title: 'Time per method', svg: svg('time_per_method.svg') },
      { title: 'Computed vs reused work', svg: svg('groups.svg') },
    ],
  });
  const report = (performance.now() - t) / 1000;

  const result: EvaluationSummary = {
    holdout: a.opts.share,
    holdout_seed: a.opts.seed,
    hidden_cells: a.prepared.hidden,
    best: Object.fromEntries(best.map((b) => [b.row.dataset, b.row.label])),
    refit,
    seconds: { masking: a.prepared.seconds, scoring, plots, refit: refitS, report },
    sweep_s: a.summary.wall_s,
  };
  await writeFileAtomic(join(outDir, 'evaluation.json'), JSON.stringify(result, null, 2) + '\n');
  for (const b of best) log.info(`best for ${b.row.dataset}: ${b.row.label} (nRMSE ${b.row.nrmse.toPrecision(4)}, RMSE ${b.row.rmse.toPrecision(4)})`);
  log.info(`evaluation: scored ${rows.length} (sequence, dataset) pairs in ${scoring.toFixed(2)} s -> ${join(outDir, 'leaderboard.csv')}, report ${join(outDir, 'report.html')}`);
  return result;
}
