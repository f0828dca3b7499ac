// Missingness bands. A row's missing fraction is p = missing cells / columns. With cumulative
// edges c0 < c1 < ... (rounded to 12 decimals, the last forced to 1): band 0 takes 0 ≤ p ≤ c0
// (complete rows included), band i takes c(i-1) < p ≤ c(i). bandEdges is the one place edges are
// made from widths: everything else takes its edges from it (see docs/design.md).
import type { Matrix } from '../tables/matrix.js';
import { engineAddon } from './native.js';

/** Cumulative band edges from band widths (rounded to 12 decimals, the last forced to 1). */
export function bandEdges(widths: readonly number[]): number[] {
  let acc = 0;
  const edges = widths.map((w) => {
    acc += w;
    return Math.round(acc * 1e12) / 1e12;
  });
  if (edges.length) edges[edges.length - 1] = 1;
  return edges;
}

export interface BandAssignment {
  /** Missing fraction of each row. */
  readonly fraction: Float64Array;
  /** Band index of each row. */
  readonly band: Int32Array;
  /** For each band, its rows in ascending input order. */
  readonly rows: readonly Int32Array[];
}

/** The band of a missing fraction (binary search over the edges). */
export function bandOf(p: number, edges: readonly number[]): number {
  let lo = 0;
  let hi = edges.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (p <= edges[mid]!) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** The missing fraction and band of every row of `m`, and each band's rows, for the given edges. */
export function assignBands(m: Matrix, edges: readonly number[]): BandAssignment {
  const missing = engineAddon().rowMissingCounts(m.columns);
  const k = m.columns.length;
  const fraction = new Float64Array(m.nRows);
  const band = new Int32Array(m.nRows);
  const counts = new Int32Array(edges.length);
  for (let i = 0; i < m.nRows; i++) {
    const p = k === 0 ? 0 : missing[i]! / k;
    fraction[i] = p;
    const b = bandOf(p, edges);
    band[i] = b;
    counts[b]!++;
  }
  const rows = Array.from(counts, (c) => new Int32Array(c));
  const fill = new Int32Array(edges.length);
  for (let i = 0; i < m.nRows; i++) {
    const b = band[i]!;
    rows[b]![fill[b]!++] = i;
  }
  return { fraction, band, rows };
}
