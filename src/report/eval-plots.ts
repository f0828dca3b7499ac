// Vega-Lite specs of the evaluation (rendered to SVG by writeSvg in report/plots.ts).
import type * as vl from 'vega-lite';

import type { LeaderboardRow } from '../eval/leaderboard.js';

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v5.json';
const round = (x: number) => Math.round(x * 1e6) / 1e6;

/** One dataset: nRMSE of every sequence, best first (the best bar highlighted). */
export function leaderboardSpec(dataset: string, rows: readonly LeaderboardRow[]): vl.TopLevelSpec {
  const values = rows
    .filter((r) => Number.isFinite(r.nrmse))
    .map((r) => ({ label: r.label, rank: r.rank, nrmse: round(r.nrmse), rmse: round(r.rmse), best: r.rank === 1 ? 'best' : 'other' }));
  return {
    $schema: SCHEMA,
    title: `${dataset}: nRMSE on hidden cells per sequence (lower is better)`,
    width: 360,
    height: Math.max(60, 14 * values.length),
    data: { values },
    mark: 'bar',
    encoding: {
      y: { field: 'label', type: 'nominal', sort: { field: 'rank' }, title: null, axis: { labelLimit: 320 } },
      x: { field: 'nrmse', type: 'quantitative', title: 'nRMSE (RMSE / sd, mean over columns)' },
      color: { field: 'best', type: 'nominal', scale: { domain: ['best', 'other'], range: ['#2ca02c', '#9ecae1'] }, legend: null },
      tooltip: [{ field: 'label' }, { field: 'rank' }, { field: 'nrmse' }, { field: 'rmse' }],
    },
  };
}

export interface MethodBandCell {
  band: number;
  method: string;
  /** Mean band nRMSE over every (dataset, sequence) that used `method` in `band`. */
  nrmse: number;
  n: number;
}

/** Mean per-band nRMSE per (band, method), over datasets and sequences (finite values only). */
export function methodBandTable(rows: readonly LeaderboardRow[]): MethodBandCell[] {
  const acc = new Map<string, MethodBandCell>();
  for (const r of rows) {
    r.bandNrmse.forEach((v, b) => {
      if (!Number.isFinite(v)) return;
      const method = r.methods[b]!;
      const key = `${b}\u0000${method}`;
      const cell = acc.get(key) ?? { band: b, method, nrmse: 0, n: 0 };
      cell.nrmse += v;
      cell.n++;
      acc.set(key, cell);
    });
  }
  return [...acc.values()]
    .map((c) => ({ ...c, nrmse: c.nrmse / c.n }))
    .sort((a, b) => a.band - b.band || (a.method < b.method ? -1 : a.method > b.method ? 1 : 0));
}

/** Across datasets: which method in which band goes with low error (heat map of mean band nRMSE). */
export function methodBandSpec(cells: readonly MethodBandCell[]): vl.TopLevelSpec {
  const values = cells.map((c) => ({ band: c.band, method: c.method, nrmse: round(c.nrmse), n: c.n, text: c.nrmse.toFixed(3) }));
  const lo = Math.min(...values.map((v) => v.nrmse));
  const hi = Math.max(...values.map((v) => v.nrmse));
  const dark = { low: lo + 0.2 * (hi - lo), high: hi - 0.2 * (hi - lo) };
  return {
    $schema: SCHEMA,
    title: 'Mean nRMSE of hidden cells per band, by the method used in that band (all datasets)',
    width: Math.max(200, 40 * new Set(values.map((v) => v.band)).size),
    height: Math.max(60, 28 * new Set(values.map((v) => v.method)).size),
    data: { values },
    encoding: {
      x: { field: 'band', type: 'ordinal', title: 'band (row missingness, masked table)', axis: { labelAngle: 0 } },
      y: { field: 'method', type: 'nominal', title: 'method' },
    },
    layer: [
      {
        mark: 'rect',
        encoding: {
          color: { field: 'nrmse', type: 'quantitative', scale: { scheme: 'redyellowgreen', reverse: true }, title: 'mean nRMSE' },
          tooltip: [{ field: 'band' }, { field: 'method' }, { field: 'nrmse' }, { field: 'n', title: '(dataset, sequence) pairs' }],
        },
      },
      {
        mark: { type: 'text', fontSize: 10 },
        // Light text on the darkest (lowest and highest) cells of the colour scale.
        encoding: {
          text: { field: 'text' },
          color: { condition: { test: `datum.nrmse < ${dark.low} || datum.nrmse > ${dark.high}`, value: 'white' }, value: 'black' },
        },
      },
    ],
  };
}
