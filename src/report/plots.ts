// SVG plots rendered headless with Vega-Lite (no browser, no canvas). Vega and Vega-Lite are
// loaded on the first plot only: they are large, and most processes (workers that never draw,
// `--help`, `info`) never need them.
import type * as vl from 'vega-lite';

import { writeFileAtomic } from '../util/atomic-write.js';

type Row = Record<string, string | number>;

async function renderSvg(spec: vl.TopLevelSpec): Promise<string> {
  const [vega, vegaLite] = await Promise.all([import('vega'), import('vega-lite')]);
  const view = new vega.View(vega.parse(vegaLite.compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

export async function writeSvg(path: string, spec: vl.TopLevelSpec): Promise<void> {
  await writeFileAtomic(path, await renderSvg(spec));
}

/** The `<dataset>.bands.svg` figure: cumulative rows per band, coloured by the band's method. */
export function bandRowsSpec(title: string, bands: { band: number; rows: number; method: string; upper: number }[]): vl.TopLevelSpec {
  let cumulative = 0;
  const values: Row[] = bands.map((b) => {
    cumulative += b.rows;
    return { band: `${b.band} (≤${Math.round(b.upper * 1000) / 10}%)`, order: b.band, rows: b.rows, cumulative, method: b.method };
  });
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title,
    width: Math.max(240, 22 * values.length),
    height: 200,
    data: { values },
    mark: 'bar',
    encoding: {
      x: { field: 'band', type: 'ordinal', sort: { field: 'order' }, title: 'band (upper missing fraction)' },
      y: { field: 'cumulative', type: 'quantitative', title: 'rows imputed so far' },
      color: { field: 'method', type: 'nominal', title: 'method' },
      tooltip: [{ field: 'rows' }, { field: 'cumulative' }, { field: 'method' }],
    },
  };
}

/** Per run: seconds spent per method. */
export function timePerMethodSpec(seconds: Record<string, number>): vl.TopLevelSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: Object.keys(seconds).length ? 'Imputation time per method (this run)' : 'Nothing was computed in this run (all results reused)',
    width: 300,
    height: 180,
    data: { values: Object.entries(seconds).map(([method, s]) => ({ method, seconds: Math.round(s * 1000) / 1000 })) },
    mark: 'bar',
    encoding: {
      y: { field: 'method', type: 'nominal', sort: '-x' },
      x: { field: 'seconds', type: 'quantitative', title: 'seconds (sum over computed groups)' },
    },
  };
}

/** Per run: groups computed vs reused vs empty. */
export function groupsSpec(counts: { computed: number; reused: number; empty: number }): vl.TopLevelSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: 'Band groups: computed vs reused',
    width: 300,
    height: 120,
    data: { values: Object.entries(counts).map(([kind, n]) => ({ kind, groups: n })) },
    mark: 'bar',
    encoding: {
      y: { field: 'kind', type: 'nominal', sort: ['computed', 'reused', 'empty'] },
      x: { field: 'groups', type: 'quantitative' },
      color: { field: 'kind', type: 'nominal', legend: null },
    },
  };
}
