// `hierimpute run --evaluate`: the evaluation around a sweep, on rank 0 (identical for one rank
// and for MPI: workers only ever read the masked tables).
//   before the sweep  prepareEvaluation: mask every dataset once per holdout repeat (OUT/holdout/);
//                     the sweep and the baselines then run on the masked copies (plan.ts)
//   after the sweep   finishEvaluation: score every (candidate, dataset) — the sweep's sequences
//                     and the baselines — from the output tables and the mask files, averaged over
//                     the repeats; OUT/leaderboard.csv; the recommended ensemble (ensemble.ts);
//                     OUT/best_sequences.csv, plots, optional refit of the ensemble on the
//                     unmasked tables (OUT/best/), OUT/report.html and OUT/evaluation.json.
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import type { RunConfig } from '../engine/config.js';
import type { RunSummary } from '../engine/outputs.js';
import { writeSvg } from '../report/plots.js';
import type { NodeStore } from '../engine/store.js';
import type { Sequence } from '../engine/sweep.js';
import { log } from '../log/logger.js';
import { writeReport } from '../report/html.js';
import type { Dataset } from '../tables/datasets.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { sequenceDir } from '../engine/outputs.js';
import { chooseEnsemble, splitHalves, type EnsembleChoice } from './ensemble.js';
import { checkHoldoutOptions, holdoutPaths, writeHoldout } from './holdout.js';
import { loadTruth, scoreCandidates, writeBestSequences, writeLeaderboard, type BestRow, type LeaderboardRow } from './leaderboard.js';
import type { EvaluationPlan } from './plan.js';
import { leaderboardSpec, methodBandSpec, methodBandTable } from '../report/eval-plots.js';
import { refitEnsemble, refitItems, type RefitResult } from './refit.js';
import type { DispatchStats, WorkItem } from '../farm/dispatcher.js';

export interface EvaluateOptions {
  /** Share of each column's observed cells hidden (--holdout, default 0.1). */
  readonly share: number;
  /** Holdout seed (--holdout-seed, default: the run seed). */
  readonly seed: number;
  /** Impute each unmasked table with its recommended ensemble (--refit-best). */
  readonly refitBest: boolean;
  /** Independent holdouts, scores averaged (--holdout-repeats, default DEFAULT_REPEATS). */
  readonly repeats?: number;
  /** Fixed ensemble size (--ensemble K; 1 = the best alone); undefined: K chosen on the holdout. */
  readonly ensemble?: number;
}

/**
 * Default --holdout-repeats. Measured on the accuracy harness (20 tables, docs/evaluation.md "How
 * many holdout repeats"): 3 repeats write a table 2.5 % better than 1 (13 of 20 tables) at 2.8×
 * the sweep's time; 5 add nothing over 3.
 */
export const DEFAULT_REPEATS = 3;

/** The holdout repeats of an evaluation (its option, or DEFAULT_REPEATS). */
export const holdoutRepeats = (opts: EvaluateOptions): number => opts.repeats ?? DEFAULT_REPEATS;

/** Largest --holdout-repeats and --ensemble accepted. */
export const MAX_REPEATS = 100;
export const MAX_ENSEMBLE = 100;

export function checkEvaluateOptions(opts: EvaluateOptions): void {
  checkHoldoutOptions(opts);
  const r = holdoutRepeats(opts);
  if (!Number.isSafeInteger(r) || r < 1 || r > MAX_REPEATS)
    throw new Error(`--holdout-repeats must be an integer in [1, ${MAX_REPEATS}] (got ${opts.repeats})`);
  const k = opts.ensemble;
  if (k !== undefined && (!Number.isSafeInteger(k) || k < 1 || k > MAX_ENSEMBLE))
    throw new Error(`--ensemble must be an integer in [1, ${MAX_ENSEMBLE}] (got ${k})`);
}

export interface EvaluationSummary {
  holdout: number;
  holdout_seed: number;
  holdout_repeats: number;
  /** Hidden cells per dataset, summed over the repeats. */
  hidden_cells: Record<string, number>;
  best: Record<string, string>;
  /** Baseline labels (methods without bands). */
  baselines: string[];
  /** The recommended ensemble per dataset. */
  ensemble: Record<
    string,
    { k: number; members: string[]; nrmse: number; rmse: number; scored_on: 'B' | 'all'; tried: { k: number; nrmseA: number }[] }
  >;
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
  checkEvaluateOptions(opts);
  const t0 = performance.now();
  const hidden: Record<string, number> = {};
  const repeats = holdoutRepeats(opts);
  for (const d of datasets) {
    let n = 0;
    for (let r = 0; r < repeats; r++) n += await writeHoldout(outDir, d, opts, threads, r);
    hidden[d.name] = n;
  }
  const seconds = (performance.now() - t0) / 1000;
  const times = repeats > 1 ? ` in each of ${repeats} repeats` : '';
  log.info(
    `holdout: ${Object.values(hidden).reduce((a, b) => a + b, 0)} observed cells hidden (share ${opts.share}${times}, seed ${opts.seed}) -> ${join(outDir, 'holdout')}`,
  );
  return { hidden, seconds };
}

const plotName = (dataset: string) => `leaderboard_${dataset}.svg`;

export interface FinishArgs {
  outDir: string;
  datasets: readonly Dataset[];
  sequences: readonly Sequence[];
  /** What was swept (holdout copies, baselines): plan.ts. */
  plan: EvaluationPlan;
  config: RunConfig;
  edges: readonly number[];
  summary: RunSummary;
  store: NodeStore;
  threads: number;
  opts: EvaluateOptions;
  prepared: { hidden: Record<string, number>; seconds: number };
  /** The sequences swept on a dataset (a beam search's finalists); default: all of `sequences`. */
  candidatesOf?: (dataset: string) => readonly Sequence[];
  /** Runs work items on the sweep's workers (the refit's nodes); without it rank 0 computes them. */
  farm?: (items: readonly WorkItem[]) => Promise<DispatchStats>;
}

/** Rank 0, after the sweep: scores, leaderboard, ensemble, best sequences, plots, refit, report. */
export async function finishEvaluation(a: FinishArgs): Promise<EvaluationSummary> {
  const { outDir, config, edges, plan } = a;
  // A dataset fails with any of its masked copies (they are the same table, masked).
  const failed = new Set(Object.keys(a.summary.failed_datasets).map((n) => plan.realName.get(n) ?? n));
  const scored = a.datasets.filter((d) => !failed.has(d.name));
  const candidates = [...a.sequences, ...plan.baselines];
  let t = performance.now();
  const perDataset = new Map<string, LeaderboardRow[]>();
  const choices = new Map<string, EnsembleChoice>();
  for (const d of scored) {
    const copies = plan.copies.filter((c) => c.dataset.name === d.name);
    const truths = [];
    for (const c of copies) truths.push(await loadTruth(outDir, d, edges, a.threads, c.repeat));
    const table = (seq: Sequence, r: number) => join(sequenceDir(outDir, seq), `${seq.baseline ? copies[r]!.baselineName : copies[r]!.name}.csv`);
    const mine = a.candidatesOf ? [...a.candidatesOf(d.name), ...plan.baselines] : candidates;
    const { rows, candidates: ranked } = await scoreCandidates(d.name, mine, truths, table, a.threads);
    perDataset.set(d.name, rows);
    const halves = truths.map((tr, r) => splitHalves(tr.hidden.rows.length, a.opts.seed, d.name, r));
    choices.set(d.name, chooseEnsemble(ranked, truths, halves, a.opts.ensemble));
  }
  const rows = [...perDataset.values()].flat();
  await writeLeaderboard(outDir, rows, edges.length);
  const scoring = (performance.now() - t) / 1000;

  // --refit-best: the members' nodes on the unmasked tables go to the workers now; rank 0 draws
  // the plots meanwhile, then stitches and writes each mean.
  const members = new Map<string, Sequence[]>();
  if (a.opts.refitBest) {
    for (const d of scored) {
      const choice = choices.get(d.name);
      if (choice && perDataset.get(d.name)!.length > 0)
        members.set(
          d.name,
          choice.members.map((m) => candidates[m.sequence]!),
        );
    }
  }
  const farmed = a.farm?.([...members].flatMap(([name, m]) => refitItems(m, plan.refit.get(name)!, config)));

  t = performance.now();
  mkdirSync(join(outDir, 'plots'), { recursive: true });
  for (const [name, r] of perDataset) await writeSvg(join(outDir, 'plots', plotName(name)), leaderboardSpec(name, r));
  // Which method in which band: the banded sequences only.
  await writeSvg(join(outDir, 'plots', 'method_band_nrmse.svg'), methodBandSpec(methodBandTable(rows.filter((r) => !r.baseline))));
  const plots = (performance.now() - t) / 1000;

  t = performance.now();
  const farmStats = await farmed;
  const refit: Record<string, RefitResult> = {};
  const best: BestRow[] = [];
  for (const d of scored) {
    const ranked = perDataset.get(d.name)!;
    const top = ranked[0];
    if (!top) continue;
    const choice = choices.get(d.name)!;
    const mine = members.get(d.name);
    if (mine) {
      const names = plan.refit.get(d.name)!;
      const computed = (n: string) => farmStats?.computedByDataset.get(n) ?? 0;
      refit[d.name] = await refitEnsemble(
        outDir,
        d,
        mine,
        { config, edges, store: a.store, threads: a.threads, names },
        computed(names.name) + computed(names.baselineName),
      );
    }
    const within = ranked.filter((r) => r.withinNoise).map((r) => r.label);
    best.push({
      row: top,
      refit: refit[d.name]?.table ?? '',
      ensemble: { k: choice.k, members: choice.members.map((m) => m.label), nrmse: choice.nrmse, rmse: choice.rmse, scoredOn: choice.scoredOn },
      withinNoise: within,
      recommendation: recommendation(ranked, choice, within, top.repeats),
    });
  }
  await writeBestSequences(outDir, best);
  const refitS = (performance.now() - t) / 1000;

  t = performance.now();
  const svg = (f: string) => readFileSync(join(outDir, 'plots', f), 'utf8');
  await writeReport(join(outDir, 'report.html'), {
    config,
    evaluation: {
      share: a.opts.share,
      seed: a.opts.seed,
      refitBest: a.opts.refitBest,
      repeats: holdoutRepeats(a.opts),
      ensemble: a.opts.ensemble ?? 'auto',
    },
    datasets: a.datasets.map((d) => ({
      name: d.name,
      source: d.path,
      hidden: a.prepared.hidden[d.name] ?? 0,
      failed: a.summary.failed_datasets[d.name],
    })),
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
    holdout_repeats: holdoutRepeats(a.opts),
    hidden_cells: a.prepared.hidden,
    best: Object.fromEntries(best.map((b) => [b.row.dataset, b.row.label])),
    baselines: plan.baselines.map((b) => b.label),
    ensemble: Object.fromEntries(
      [...choices].map(([n, c]) => [
        n,
        { k: c.k, members: c.members.map((m) => m.label), nrmse: c.nrmse, rmse: c.rmse, scored_on: c.scoredOn, tried: c.tried },
      ]),
    ),
    refit,
    seconds: { masking: a.prepared.seconds, scoring, plots, refit: refitS, report },
    sweep_s: a.summary.wall_s,
  };
  await writeFileAtomic(join(outDir, 'evaluation.json'), JSON.stringify(result, null, 2) + '\n');
  for (const b of best)
    log.info(
      `best for ${b.row.dataset}: ${b.row.label} (nRMSE ${b.row.nrmse.toPrecision(4)}, RMSE ${b.row.rmse.toPrecision(4)}); ${b.recommendation}`,
    );
  log.info(
    `evaluation: scored ${rows.length} (sequence, dataset) pairs in ${scoring.toFixed(2)} s -> ${join(outDir, 'leaderboard.csv')}, report ${join(outDir, 'report.html')}`,
  );
  return result;
}

const p4 = (x: number): string => (Number.isFinite(x) ? x.toPrecision(4) : 'n/a');

/** The recommendation of one dataset in plain words (best_sequences.csv and the report). */
export function recommendation(ranked: readonly LeaderboardRow[], choice: EnsembleChoice, withinNoise: readonly string[], repeats: number): string {
  const top = ranked[0]!;
  const bestSeq = ranked.find((r) => !r.baseline);
  const parts: string[] = [];
  if (top.baseline) {
    parts.push(
      `A plain method wins: ${top.methods[0]} without bands (nRMSE ${p4(top.nrmse)}) beats every banded sequence` +
        (bestSeq ? ` (best: ${bestSeq.label}, nRMSE ${p4(bestSeq.nrmse)})` : '') +
        '.',
    );
  } else parts.push(`Best single candidate: ${top.label} (nRMSE ${p4(top.nrmse)}).`);
  if (repeats > 1) {
    parts.push(
      withinNoise.length
        ? `${withinNoise.length} other candidate(s) are within noise of it over ${repeats} holdouts: ${withinNoise.join(' ')}.`
        : `No other candidate is within noise of it over ${repeats} holdouts.`,
    );
  }
  const on = choice.scoredOn === 'B' ? 'on the half of the hidden cells not used to choose it' : 'on all hidden cells';
  if (choice.k === 1) parts.push(`Recommended table: ${choice.members[0]!.label} alone (nRMSE ${p4(choice.nrmse)} ${on}).`);
  else {
    parts.push(
      `Recommended table: the cell-wise mean of the top ${choice.k} (${choice.members.map((m) => m.label).join(', ')}), nRMSE ${p4(choice.nrmse)} ${on}, ` +
        `vs ${p4(choice.single.nrmse)} for ${choice.single.label} alone on the same cells.`,
    );
  }
  return parts.join(' ');
}
