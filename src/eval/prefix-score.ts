// The worker's side of a beam search (beam.ts): the holdout score of a finished prefix item,
// computed by the rank that has just read or computed its nodes and holds the masked copy.
import type { DatasetState } from '../engine/dataset.js';
import { stitchBands } from '../engine/group.js';
import type { NodeRef, NodeStore } from '../engine/store.js';
import { loadTruth } from './leaderboard.js';
import type { EvaluationPlan } from './plan.js';
import { prefixNrmse, type Truth } from './score.js';

/**
 * A TaskRunner scorer for the masked copies of `plan`: nRMSE of the bands done (the task's nodes)
 * on the copy's hidden cells in their rows; null when those rows hold no hidden cell. The truth
 * (mask, column sd of the unmasked input) of the last few copies scored is kept; the dispatcher's
 * affinity sends a rank items of the tables it holds, so they are rarely read twice.
 */
/** Truths kept per rank (most recently used). */
const KEEP_TRUTHS = 4;

export function prefixScorer(
  outDir: string,
  plan: EvaluationPlan,
  edges: readonly number[],
  store: NodeStore,
  threads: number,
): (ds: DatasetState, nodes: readonly NodeRef[]) => Promise<number | null> {
  const truths = new Map<string, Promise<Truth>>();
  return async (ds, nodes) => {
    const copy = plan.copies.find((c) => c.name === ds.name);
    if (!copy) throw new Error(`dataset '${ds.name}' is not a holdout copy of this run: nothing to score it on`);
    let truth = truths.get(ds.name);
    if (truth) truths.delete(ds.name);
    else truth = loadTruth(outDir, copy.dataset, edges, threads, copy.repeat);
    truths.set(ds.name, truth);
    while (truths.size > KEEP_TRUTHS) truths.delete(truths.keys().next().value as string);
    const columns = await stitchBands(ds, store, nodes);
    const v = prefixNrmse(columns, await truth, nodes.length - 1);
    return Number.isFinite(v) ? v : null;
  };
}
