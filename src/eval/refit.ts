// --refit-best: impute each dataset's UNMASKED table with its recommended ensemble's members (the
// best sequence alone when K = 1) and write their cell-wise mean, on rank 0 after the scoring,
// through the same band rule (runOneGroup) and node store as the sweep. The unmasked input
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

type RefitEnv = { config: RunConfig; edges: readonly number[]; store: NodeStore; threads: number };

/** Computes (or finds) every node of one member on the unmasked table; a baseline's dataset puts every row in band 0. */
async function refitMember(dataset: Dataset, seq: Sequence, env: RefitEnv) {
  const ds = await loadDataset(dataset.name, dataset.path, seq.baseline ? oneBandEdges(env.edges.length) : env.edges);
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
 */
export async function refitEnsemble(outDir: string, dataset: Dataset, members: readonly Sequence[], env: RefitEnv): Promise<RefitResult> {
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
    computed: done.reduce((a, m) => a + m.computed, 0),
    reused: done.reduce((a, m) => a + m.reused, 0),
    seconds: (performance.now() - t0) / 1000,
  };
}
