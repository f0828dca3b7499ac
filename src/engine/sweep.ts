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

/** Largest sweep expandSweep lists; larger ones are searched band by band (search.beam). */
export const MAX_ENUMERATED_SEQUENCES = 1_000_000;

/** Number of sequences of the full product (exact: a sweep of 18 bands × 9 methods has 9^18). */
export function sweepSize(config: RunConfig): bigint {
  return config.bands.reduce((n, band) => n * BigInt(band.methods.length), 1n);
}

/**
 * Index of a sequence (one method per band, or a prefix of one: the index of its first completion)
 * in the Cartesian-product order of the full sweep, the last band varying fastest. Exact for any
 * size; for sweeps that expandSweep lists it equals the sequence's id.
 */
export function sequenceIndex(config: RunConfig, methods: readonly MethodRef[]): bigint {
  let index = 0n;
  config.bands.forEach((band, b) => {
    const at = b < methods.length ? band.methods.indexOf(methods[b]!) : 0;
    if (at < 0) throw new Error(`sequenceIndex: band ${b} has no method '${methods[b]}'`);
    index = index * BigInt(band.methods.length) + BigInt(at);
  });
  return index;
}

/**
 * `seq_<index>_<m1>_..._<mN>`: a sequence's name (its output folder), the same whether the sweep
 * enumerates the full product or searches it band by band.
 */
export function sequenceLabel(config: RunConfig, methods: readonly MethodRef[]): string {
  return `seq_${sequenceIndex(config, methods)}_${methods.join('_')}`;
}

/** Every sequence of a config's sweep, in id order. */
export function expandSweep(config: RunConfig): Sequence[] {
  const size = sweepSize(config);
  if (size > BigInt(MAX_ENUMERATED_SEQUENCES)) {
    throw new Error(
      `the sweep has ${size} sequences (the product of every band's alternatives), too many to list or run one by one; ` +
        'search it band by band with a beam instead (config "search: {beam: K}" or --beam K, with --evaluate)',
    );
  }
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
