// --refit-best: impute each dataset's UNMASKED table with its best sequence, on rank 0 after the
// scoring, through the same band rule (runOneGroup) and node store as the sweep. The unmasked input
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
import { writeFileAtomic } from '../util/atomic-write.js';

export interface RefitResult {
  /** OUT-relative path of the table: best/<dataset>.csv */
  readonly table: string;
  readonly computed: number;
  readonly reused: number;
  readonly seconds: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function refitBest(
  outDir: string,
  dataset: Dataset,
  seq: Sequence,
  env: { config: RunConfig; edges: readonly number[]; store: NodeStore; threads: number },
): Promise<RefitResult> {
  const t0 = performance.now();
  const ds = await loadDataset(dataset.name, dataset.path, env.edges);
  let computed = 0;
  let reused = 0;
  for (;;) {
    const r = await runOneGroup({ config: env.config, store: env.store, threads: env.threads }, ds, seq.methods);
    if (r.done) break;
    if (r.outcome === 'computed') computed++;
    else if (r.outcome === 'reused') reused++;
    else if (r.outcome === 'busy') await sleep(50); // another job sharing OUT holds the node
  }
  const nodes = sequenceNodes(ds, env.config, seq.methods);
  const dir = join(outDir, 'best');
  mkdirSync(dir, { recursive: true });
  const table = join(dir, `${dataset.name}.csv`);
  // The table's provenance: rewritten only when the nodes (input, sequence, configuration) change.
  const stamp = join(dir, `.${dataset.name}.nodes`);
  const key = `${seq.label}\n${nodes.map((n) => n.key).join('\n')}\n`;
  if (!(existsSync(table) && existsSync(stamp) && readFileSync(stamp, 'utf8') === key)) {
    await writeMatrix(await stitchTable(ds, env.store, nodes), table, { threads: env.threads });
    await writeFileAtomic(stamp, key);
  }
  return { table: `best/${dataset.name}.csv`, computed, reused, seconds: (performance.now() - t0) / 1000 };
}
