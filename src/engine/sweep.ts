// The sweep: the Cartesian product of the bands' alternative methods, in order.
import type { MethodRef, RunConfig } from './config.js';

export interface Sequence {
  /** 0-based, in Cartesian-product order (the last band varies fastest). */
  readonly id: number;
  readonly methods: readonly MethodRef[];
  /** `seq_<id>_<m1>_..._<mN>`: the folder name of its outputs. */
  readonly label: string;
  /**
   * An --evaluate baseline (src/eval/plan.ts): its one method over the whole table as one band;
   * its datasets put every row in band 0, so only band 0 is ever computed.
   */
  readonly baseline?: boolean;
}

/** Every sequence of a config's sweep, in id order. */
export function expandSweep(config: RunConfig): Sequence[] {
  let prefixes: MethodRef[][] = [[]];
  for (const band of config.bands) prefixes = prefixes.flatMap((p) => band.methods.map((m) => [...p, m]));
  return prefixes.map((methods, id) => ({ id, methods, label: `seq_${id}_${methods.join('_')}` }));
}

/**
 * Number of distinct method prefixes of length b+1 for each band b (the prefix-tree nodes of band
 * b per dataset): the product of the alternatives of bands 0..b.
 */
export function prefixesPerBand(config: RunConfig): number[] {
  let width = 1;
  return config.bands.map((band) => (width *= band.methods.length));
}

/** Number of distinct method prefixes of length b+1, summed over bands: the prefix-tree nodes per dataset. */
export function prefixNodeCount(config: RunConfig): number {
  return prefixesPerBand(config).reduce((a, n) => a + n, 0);
}
