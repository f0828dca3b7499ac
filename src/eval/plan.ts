// What an --evaluate run sweeps, computed the same way on every rank without touching a file:
//
//   holdout copies   one masked copy of each dataset per holdout repeat r (R = --holdout-repeats).
//                    Repeat 0 is swept under the dataset's own name (so one repeat is the single
//                    holdout of before, byte for byte); repeat r >= 1 as `<dataset>.holdout<r>`.
//   baselines        every distinct method (or variant) of the sweep run WITHOUT bands: one band
//                    of width 1 over the whole masked table. They run through the same farm as
//                    the sweep's items: a baseline is a Sequence (`baseline_<method>`, ids after the
//                    sweep's) whose every band names that method, on a dataset
//                    `<copy>.baseline` whose band edges are all 1, so every row falls in band 0
//                    and the later bands stay empty (never computed). Band 0's node key then hashes
//                    edges [1], the method and its parameters: exactly the node of a one-band
//                    configuration of width 1, and never a node of the banded sweep.
//   refit            --refit-best runs the recommended members on the UNMASKED tables, as
//                    `<dataset>.refit` (the sweep's edges) and `<dataset>.refit.baseline` (one band
//                    for baseline members), through the same farm once the scores are in.
// The sweep's own dispatcher, workers, node store and output writer do the work; rank 0 only
// dispatches, and the outputs do not depend on the rank count.
import type { RunConfig } from '../engine/config.js';
import type { Sequence } from '../engine/sweep.js';
import type { Dataset } from '../tables/datasets.js';
import { holdoutPaths } from './holdout.js';

export interface HoldoutCopy {
  /** The real dataset. */
  readonly dataset: Dataset;
  readonly repeat: number;
  /** The name the sweep runs this masked copy under. */
  readonly name: string;
  /** The name its baselines run under. */
  readonly baselineName: string;
  /** The masked table. */
  readonly path: string;
}

export interface EvaluationPlan {
  readonly repeats: number;
  readonly copies: readonly HoldoutCopy[];
  /** Baseline pseudo-sequences (sequence ids after the sweep's). */
  readonly baselines: readonly Sequence[];
  /** Every dataset name the farm sees -> the file it reads. */
  readonly paths: ReadonlyMap<string, string>;
  /** Band edges of the datasets that do not use the sweep's (the baselines': all 1). */
  readonly edges: ReadonlyMap<string, readonly number[]>;
  /** Dataset name the farm sees -> the real dataset's name. */
  readonly realName: ReadonlyMap<string, string>;
  /** Real dataset name -> the names its refit on the unmasked table runs under. */
  readonly refit: ReadonlyMap<string, { readonly name: string; readonly baselineName: string }>;
}

/** The distinct band methods (or variants) of a configuration, in order of first appearance. */
export function sweepMethods(config: RunConfig): string[] {
  return [...new Set(config.bands.flatMap((b) => b.methods))];
}

/** The baseline pseudo-sequences of a sweep (see the file comment). */
export function baselineSequences(config: RunConfig, firstId: number): Sequence[] {
  const nb = config.bands.length;
  return sweepMethods(config).map((m, i) => ({
    id: firstId + i,
    methods: Array.from({ length: nb }, () => m),
    label: `baseline_${m}`,
    baseline: true,
  }));
}

/** Band edges that put every row in band 0 (the later bands stay empty). */
export const oneBandEdges = (nBands: number): number[] => Array.from({ length: nBands }, () => 1);

export function evaluationPlan(outDir: string, datasets: readonly Dataset[], config: RunConfig, nSequences: number, repeats: number): EvaluationPlan {
  const copies: HoldoutCopy[] = [];
  const paths = new Map<string, string>();
  const edges = new Map<string, readonly number[]>();
  const realName = new Map<string, string>();
  const ones = oneBandEdges(config.bands.length);
  const add = (name: string, path: string, real: string): void => {
    const other = realName.get(name);
    if (other !== undefined) {
      throw new Error(
        `--evaluate: the dataset '${real}' needs the name '${name}' for a masked copy, but the dataset '${other}' already uses it; rename one of the input files`,
      );
    }
    realName.set(name, real);
    paths.set(name, path);
  };
  const refit = new Map<string, { name: string; baselineName: string }>();
  for (const d of datasets) realName.set(d.name, d.name);
  for (const d of datasets) {
    for (let r = 0; r < repeats; r++) {
      const path = holdoutPaths(outDir, d, r).masked;
      const name = r === 0 ? d.name : `${d.name}.holdout${r}`;
      const baselineName = `${name}.baseline`;
      if (r === 0) paths.set(name, path);
      else add(name, path, d.name);
      add(baselineName, path, d.name);
      edges.set(baselineName, ones);
      copies.push({ dataset: d, repeat: r, name, baselineName, path });
    }
    const names = { name: `${d.name}.refit`, baselineName: `${d.name}.refit.baseline` };
    add(names.name, d.path, d.name);
    add(names.baselineName, d.path, d.name);
    edges.set(names.baselineName, ones);
    refit.set(d.name, names);
  }
  return { repeats, copies, baselines: baselineSequences(config, nSequences), paths, edges, realName, refit };
}

/** The work items of an evaluated sweep: every sequence on every copy, then every baseline on every copy. */
export function evaluationItems(
  plan: EvaluationPlan,
  sequences: readonly Sequence[],
  config: RunConfig,
): { seq_idx: number; dataset: string; widths: number[]; methods: string[] }[] {
  const widths = config.bands.map((b) => b.width);
  return [
    ...sequences.flatMap((s) => plan.copies.map((c) => ({ seq_idx: s.id, dataset: c.name, widths, methods: [...s.methods] }))),
    ...plan.baselines.flatMap((s) => plan.copies.map((c) => ({ seq_idx: s.id, dataset: c.baselineName, widths, methods: [...s.methods] }))),
  ];
}
