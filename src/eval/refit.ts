// --refit-best: impute each dataset's UNMASKED table with its recommended ensemble's members (the
// best sequence alone when K = 1) and write their cell-wise mean, through the same band rule
// (runOneGroup) and node store as the sweep. The members' nodes are computed by the sweep's
// workers (refitItems, dispatched once the scores are in); rank 0 then only finds them, stitches
// each member's table and writes the mean (it computes a node itself only if one is missing,
// e.g. when called without a farm). The refit runs under the names of plan.ts (`<dataset>.refit`,
// `<dataset>.refit.baseline`), so its nodes live in their own cache folders. The unmasked input
// hashes differently from the masked one, so none of the sweep's nodes is reused; a rerun reuses
// the refit's own nodes (OUT/cache) and rewrites nothing that is current.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import type { RunConfig } from '../engine/config.js';
import { loadDataset } from '../engine/dataset.js';
import { runOneGroup, sequenceNodes, stitchTable } from '../engine/group.js';
import type { NodeStore } from '../engine/store.js';
import type { Sequence } from '../engine/sweep.js';
import type { Dataset } from '../tables/datasets.js';
import { writeMatrix } from '../tables/io.js';
import { makeMatrix, type Matrix } from '../tables/matrix.js';
import { cellMean } from './ensemble.js';
import { oneBandEdges } from './plan.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import type { WorkItem } from '../farm/dispatcher.js';

export interface RefitResult {
  /** OUT-relative path of the table: best/<dataset>.csv */
  readonly table: string;
  /** Labels of the members averaged (best first); one = the best sequence alone. */
  readonly members: readonly string[];
  readonly computed: number;
  readonly reused: number;
  readonly seconds: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type RefitEnv = {
  config: RunConfig;
  edges: readonly number[];
  store: NodeStore;
  threads: number;
  /** The names the refit of a dataset runs under (EvaluationPlan.refit). */
  names: { name: string; baselineName: string };
};

/** The work items of a dataset's refit: every member on the unmasked table, no output files (the mean is written by refitEnsemble). */
export function refitItems(members: readonly Sequence[], names: RefitEnv['names'], config: RunConfig): WorkItem[] {
  const widths = config.bands.map((b) => b.width);
  return members.map((m) => ({ seq_idx: m.id, dataset: m.baseline ? names.baselineName : names.name, widths, methods: m.methods, files: false }));
}

/** Computes (or finds) every node of one member on the unmasked table; a baseline's dataset puts every row in band 0. */
async function refitMember(dataset: Dataset, seq: Sequence, env: RefitEnv) {
  const name = seq.baseline ? env.names.baselineName : env.names.name;
  const ds = await loadDataset(name, dataset.path, seq.baseline ? oneBandEdges(env.edges.length) : env.edges);
  let computed = 0;
  let reused = 0;
  for (;;) {
    const r = await runOneGroup({ config: env.config, store: env.store, threads: env.threads }, ds, seq.methods);
    if (r.done) break;
    if (r.outcome === 'computed') computed++;
    else if (r.outcome === 'reused') reused++;
    else if (r.outcome === 'busy') await sleep(50); // another job sharing OUT holds the node
  }
  return { ds, nodes: sequenceNodes(ds, env.config, seq.methods), computed, reused };
}

/** The best sequence alone (an ensemble of one). */
export function refitBest(outDir: string, dataset: Dataset, seq: Sequence, env: RefitEnv): Promise<RefitResult> {
  return refitEnsemble(outDir, dataset, [seq], env);
}

/**
 * Imputes the unmasked table with every member and writes the cell-wise mean of their tables
 * (observed cells kept as they are) to OUT/best/<dataset>.csv; one member: its table as is.
 * `farmed`: nodes the workers computed for this refit (refitItems), counted as computed.
 */
export async function refitEnsemble(outDir: string, dataset: Dataset, members: readonly Sequence[], env: RefitEnv, farmed = 0): Promise<RefitResult> {
  const t0 = performance.now();
  if (members.length === 0) throw new Error(`refit of ${dataset.name}: no members`);
  const done: Awaited<ReturnType<typeof refitMember>>[] = [];
  for (const seq of members) done.push(await refitMember(dataset, seq, env));
  const dir = join(outDir, 'best');
  mkdirSync(dir, { recursive: true });
  const table = join(dir, `${dataset.name}.csv`);
  // The table's provenance: rewritten only when the members' nodes (input, sequences, configuration) change.
  const stamp = join(dir, `.${dataset.name}.nodes`);
  const key = members.map((seq, i) => `${seq.label}\n${done[i]!.nodes.map((n) => n.key).join('\n')}\n`).join('');
  if (!(existsSync(table) && existsSync(stamp) && readFileSync(stamp, 'utf8') === key)) {
    const tables: Matrix[] = [];
    for (const m of done) tables.push(await stitchTable(m.ds, env.store, m.nodes));
    const input = done[0]!.ds.matrix;
    const out =
      tables.length === 1
        ? tables[0]!
        : makeMatrix(
            input.names,
            input.columns.map((c, j) =>
              cellMean(
                tables.map((t) => t.columns[j]!),
                c,
              ),
            ),
          );
    await writeMatrix(out, table, { threads: env.threads });
    await writeFileAtomic(stamp, key);
  }
  return {
    table: `best/${dataset.name}.csv`,
    members: members.map((m) => m.label),
    computed: farmed + done.reduce((a, m) => a + m.computed, 0),
    reused: done.reduce((a, m) => a + m.reused, 0),
    seconds: (performance.now() - t0) / 1000,
  };
}
