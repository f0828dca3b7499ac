// The whole hierarchical imputation of one in-memory table for one sequence, in one call: the
// same band rule (runOneGroup) as sweeps and MPI workers, over an in-memory node store.
import type { Matrix } from '../tables/matrix.js';
import { bandEdges } from './bands.js';
import type { MethodRef, RunConfig } from './config.js';
import { datasetState, matrixHash } from './dataset.js';
import { runOneGroup, sequenceNodes, stitchTable } from './group.js';
import { MemoryStore } from './store.js';

/** The imputed table of `hierarchicalImpute`, with the band and missing fraction of each row. */
export interface HierarchicalResult {
  readonly matrix: Matrix;
  /** Band of each input row. */
  readonly band: Int32Array;
  /** Missing fraction of each input row. */
  readonly fraction: Float64Array;
}

/**
 * Imputes one in-memory table with one sequence (`methods[i]` for band i of `config`), in memory;
 * the result is the same as a sweep's output for that sequence. `threads`: kernel threads
 * (0 = all cores; the output never depends on it); `name` names the table in errors.
 */
export async function hierarchicalImpute(
  table: Matrix,
  config: RunConfig,
  methods: readonly MethodRef[],
  opts: { threads?: number; name?: string } = {},
): Promise<HierarchicalResult> {
  if (methods.length !== config.bands.length) {
    throw new Error(`hierarchicalImpute: ${methods.length} methods for ${config.bands.length} bands`);
  }
  const ds = datasetState(
    opts.name ?? 'table',
    opts.name ?? '<in-memory table>',
    matrixHash(table),
    table,
    bandEdges(config.bands.map((b) => b.width)),
  );
  const env = { config, store: new MemoryStore(), threads: opts.threads ?? 1 };
  for (;;) {
    const r = await runOneGroup(env, ds, methods);
    if (r.done) break;
  }
  const matrix = await stitchTable(ds, env.store, sequenceNodes(ds, config, methods));
  return { matrix, band: ds.bands.band, fraction: ds.bands.fraction };
}
