// The sweep of `hierimpute run --evaluate` (a SweepMode of src/farm/run.ts):
//   every rank   the masked copies and baselines (plan.ts), and with a beam search the scorer of
//                prefixes (prefix-score.ts); all derived without reading a file;
//   rank 0       before: masks every dataset (prepareEvaluation); during: the full product on
//                the masked copies, or a beam search (beam.ts) that extends as scores arrive;
//                after: scores, leaderboard, ensemble, the refit through the same workers, report
//                (finishEvaluation).
import { join } from 'node:path';

import type { RunSummary } from '../engine/outputs.js';
import { expandSweep, type Sequence } from '../engine/sweep.js';
import type { SweepContext, SweepMode } from '../farm/run.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { beamShape, BeamSearch, finalSequences } from './beam.js';
import { finishEvaluation, holdoutRepeats, prepareEvaluation, type EvaluateOptions } from './evaluate.js';
import { evaluationItems, evaluationPlan, type EvaluationPlan } from './plan.js';
import { prefixScorer } from './prefix-score.js';

/**
 * The --evaluate mode; the configuration's search.beam (withBeamFlag applies --beam) makes it a
 * beam search instead of the full product.
 */
export function evaluatedSweep(opts: EvaluateOptions): (ctx: SweepContext) => SweepMode {
  return (ctx) => {
    const { config, datasets, outDir, edges, store, threads } = ctx;
    const width = config.search?.beam;
    // A beam search's sequences are known once it is over; the full product's from the start.
    const sequences = width === undefined ? expandSweep(config) : [];
    const plan = evaluationPlan(outDir, datasets, config, sequences.length, holdoutRepeats(opts));
    const beam = width === undefined ? undefined : new BeamSearch(config, plan.copies, width);
    const shape = beam ? beamShape(config, beam.width) : undefined;
    let prepared: { hidden: Record<string, number>; seconds: number } | undefined;
    // After a beam search: its sequences with their ids, and the baselines' ids after them.
    let swept: readonly Sequence[] = sequences;
    let settledPlan: EvaluationPlan = plan;
    return {
      paths: plan.paths,
      datasetEdges: plan.edges,
      sequences: [...sequences, ...plan.baselines],
      scorer: beam ? prefixScorer(outDir, plan, edges, store, threads) : undefined,
      describe: () =>
        shape
          ? `sweep: beam search of width ${shape.width} over ${shape.fullSequences} sequences × ${datasets.length} datasets, ${config.bands.length} bands: ` +
            `at most ${shape.nodes} nodes per dataset and holdout copy (full product: ${shape.fullNodes}), ${ctx.ranks} rank(s) -> ${outDir}`
          : `sweep: ${sequences.length} sequences × ${datasets.length} datasets, ${config.bands.length} bands, ${ctx.ranks} rank(s) -> ${outDir}`,
      prepare: async () => {
        prepared = await prepareEvaluation(outDir, datasets, opts, threads);
      },
      items: () => [...(beam?.initialItems() ?? []), ...evaluationItems(plan, sequences, config)],
      ...(beam ? { extend: (item, reply) => beam.onDone(item, reply) } : {}),
      known: () => (beam ? undefined : sequences),
      settle: async () => {
        if (beam) {
          swept = finalSequences(
            config,
            beam,
            datasets.map((d) => d.name),
          );
          settledPlan = { ...plan, baselines: plan.baselines.map((b, i) => ({ ...b, id: swept.length + i })) };
          await writeFileAtomic(
            join(outDir, 'beam.json'),
            JSON.stringify({ width: beam.width, sequences: swept.length, datasets: beam.trace() }, null, 2) + '\n',
          );
        }
        return { swept, outputs: [...swept, ...settledPlan.baselines] };
      },
      oneBand: (name) => plan.edges.has(name),
      summarize: (summary: RunSummary) => {
        if (beam) summary.beam = { width: beam.width, sequences: swept.length };
      },
      finish: async ({ summary, farm }) => {
        if (!prepared) throw new Error('evaluation: finish before prepare');
        const finalists = beam ? (dataset: string) => new Set(beam.finalists(dataset).map((m) => m.join('\u0000'))) : undefined;
        await finishEvaluation({
          outDir,
          datasets,
          sequences: swept,
          plan: settledPlan,
          ...(finalists
            ? {
                candidatesOf: (dataset: string) => {
                  const mine = finalists(dataset);
                  return swept.filter((s) => mine.has(s.methods.join('\u0000')));
                },
              }
            : {}),
          config,
          edges,
          summary,
          store,
          threads,
          opts,
          prepared,
          farm,
        });
      },
    };
  };
}
