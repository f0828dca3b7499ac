// OUT/report.html: one self-contained page (inline CSS, inline SVG, a few lines of inline script
// for sorting the leaderboard; no network, no external file) with the run's configuration, the
// leaderboard per dataset, the best sequences, the plots, time per method and computed-vs-reused work.
import type { RunConfig } from '../engine/config.js';
import type { RunSummary } from '../engine/outputs.js';
import type { Sequence } from '../engine/sweep.js';
import type { BestRow, LeaderboardRow } from '../eval/leaderboard.js';
import type { RefitResult } from '../eval/refit.js';
import { writeFileAtomic } from '../util/atomic-write.js';

export interface ReportData {
  config: RunConfig;
  evaluation: { share: number; seed: number; refitBest: boolean; repeats?: number; ensemble?: number | 'auto' };
  datasets: { name: string; source: string; hidden: number; failed?: string }[];
  sequences: readonly Sequence[];
  summary: RunSummary;
  leaderboard: readonly LeaderboardRow[];
  best: readonly BestRow[];
  refit: Record<string, RefitResult>;
  plots: { title: string; svg: string }[];
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const fmt = (x: number, digits = 4): string => (Number.isFinite(x) ? x.toPrecision(digits) : '–');

/** An SVG ready to inline: no XML prolog, and its ids prefixed so several SVGs on one page never clash. */
export function inlineSvg(svg: string, prefix: string): string {
  return svg
    .replace(/^<\?xml[^>]*>\s*/, '')
    .replace(/\bid="([^"]+)"/g, `id="${prefix}-$1"`)
    .replace(/url\(#([^)]+)\)/g, `url(#${prefix}-$1)`)
    .replace(/href="#([^"]+)"/g, `href="#${prefix}-$1"`);
}

function table(header: string[], rows: string[][], attrs = ''): string {
  const th = header.map((h) => `<th>${h}</th>`).join('');
  const body = rows.map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`).join('\n');
  return `<table${attrs}><thead><tr>${th}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

const CSS = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px auto;max-width:1100px;padding:0 16px;color:#222}
h1{font-size:22px}h2{font-size:18px;margin-top:32px;border-bottom:1px solid #ddd}h3{font-size:15px}
table{border-collapse:collapse;margin:8px 0;font-size:13px}th,td{border:1px solid #ddd;padding:3px 8px;text-align:right}
th{background:#f4f4f4;cursor:pointer}td:nth-child(-n+3){text-align:left}tr.best td{background:#e8f6e8;font-weight:600}
pre{background:#f7f7f7;padding:8px;overflow:auto;font-size:12px}.plots{display:flex;flex-wrap:wrap;gap:16px}
figure{margin:0;border:1px solid #eee;padding:8px}figcaption{font-size:12px;color:#555}.note{color:#555;font-size:13px}
`;

// Click a header to sort its table; marks the page as rendered (data-rendered, counts) for checks.
const SCRIPT = `
for (const t of document.querySelectorAll('table.sortable')) {
  t.querySelectorAll('th').forEach((th, i) => th.addEventListener('click', () => {
    const rows = [...t.tBodies[0].rows];
    const key = (r) => { const s = r.cells[i].textContent; const n = Number(s); return s !== '' && !Number.isNaN(n) ? n : s; };
    const dir = th.dataset.dir === 'asc' ? -1 : 1; th.dataset.dir = dir === 1 ? 'asc' : 'desc';
    rows.sort((a, b) => { const x = key(a), y = key(b); return (x < y ? -1 : x > y ? 1 : 0) * dir; });
    rows.forEach((r) => t.tBodies[0].appendChild(r));
  }));
}
const shown = [...document.querySelectorAll('figure svg')].filter((s) => s.getBoundingClientRect().width > 0).length;
document.body.dataset.rendered = 'yes';
document.body.dataset.svgsRendered = String(shown);
document.body.dataset.leaderboardRows = String(document.querySelectorAll('table.leaderboard tbody tr').length);
`;

export function renderReport(d: ReportData): string {
  const nb = d.config.bands.length;
  const s = d.summary;
  const repeats = d.evaluation.repeats ?? 1;
  const parts: string[] = [];
  parts.push(`<h1>hierimpute sweep report</h1>`);
  parts.push(
    `<p class="note">${d.sequences.length} sequences × ${d.datasets.length} datasets, ${nb} bands, ${s.ranks} rank(s), sweep wall time ${fmt(s.wall_s, 3)} s. ` +
      `Scores are on ${escapeHtml(String(Math.round(d.evaluation.share * 1e4) / 100))} % of each column's observed cells, hidden before imputing (holdout seed ${d.evaluation.seed}). ` +
      `nRMSE = per column RMSE / sd of the column's observed values in the unmasked input, averaged over columns with hidden cells; ` +
      `band columns use the band of the row in the masked table. Lower is better. ` +
      `Baselines (<code>baseline_&lt;method&gt;</code>) are each method alone over the whole table, without bands.` +
      (repeats > 1
        ? ` Scores are means over ${repeats} independent holdouts (± the sample sd); a candidate is <em>within noise</em> of the best when its mean paired nRMSE difference to the best is below that difference's sd.`
        : ' One holdout: differences between close scores may be holdout noise (<code>--holdout-repeats R</code> measures it).') +
      `</p>`,
  );

  parts.push(`<h2>Recommendation per dataset</h2>`);
  parts.push(
    table(
      [
        'dataset',
        'best candidate',
        'methods (band 0 → last)',
        'nRMSE',
        'RMSE',
        'hidden cells',
        'recommended table (members, best first)',
        'its holdout nRMSE',
        'refit table',
      ],
      d.best.map(({ row, refit, ensemble }) => [
        escapeHtml(row.dataset),
        escapeHtml(row.label) + (row.baseline ? ' <strong>(baseline: no bands)</strong>' : ''),
        escapeHtml(row.methods.join(' → ')),
        fmt(row.nrmse) + (repeats > 1 ? ` ± ${fmt(row.nrmseSd, 2)}` : ''),
        fmt(row.rmse),
        String(row.cells),
        ensemble ? `${ensemble.k === 1 ? 'alone: ' : `mean of ${ensemble.k}: `}${escapeHtml(ensemble.members.join(', '))}` : '–',
        ensemble ? `${fmt(ensemble.nrmse)} (${ensemble.scoredOn === 'B' ? 'half B: cells not used to choose it' : 'all hidden cells'})` : '–',
        refit ? `<code>${escapeHtml(refit)}</code>` : '–',
      ]),
      ' class="best-sequences"',
    ),
  );
  for (const b of d.best)
    if (b.recommendation)
      parts.push(
        `<p class="recommendation" data-dataset="${escapeHtml(b.row.dataset)}"><strong>${escapeHtml(b.row.dataset)}:</strong> ${escapeHtml(b.recommendation)}</p>`,
      );

  parts.push(`<h2>Leaderboard</h2>`);
  for (const ds of d.datasets) {
    const rows = d.leaderboard.filter((r) => r.dataset === ds.name);
    parts.push(`<h3>${escapeHtml(ds.name)}</h3>`);
    if (ds.failed) {
      parts.push(`<p class="note">failed: ${escapeHtml(ds.failed)}</p>`);
      continue;
    }
    const noisy = repeats > 1;
    const header = [
      'rank',
      'sequence',
      'label',
      'nRMSE',
      ...(noisy ? ['nRMSE sd', 'within noise of #1'] : []),
      'RMSE',
      ...Array.from({ length: nb }, (_, b) => `band ${b}`),
      'baseline',
    ];
    const body = rows.map((r) => [
      String(r.rank),
      String(r.sequence),
      escapeHtml(r.label),
      fmt(r.nrmse),
      ...(noisy ? [fmt(r.nrmseSd, 3), r.withinNoise === undefined ? '–' : r.withinNoise ? 'yes' : 'no'] : []),
      fmt(r.rmse),
      ...r.bandNrmse.map((v) => fmt(v, 3)),
      r.baseline ? 'yes' : '',
    ]);
    const within = rows.filter((r) => r.withinNoise);
    if (noisy && within.length) {
      parts.push(
        `<p class="note noise">Within noise of the best (${escapeHtml(rows[0]!.label)}) over ${repeats} holdouts: ${within.map((r) => escapeHtml(r.label)).join(', ')}. Their order is not reliable.</p>`,
      );
    }
    parts.push(
      table(header, body, ` class="leaderboard sortable" data-dataset="${escapeHtml(ds.name)}"`).replace(
        '<tr><td>1</td>',
        '<tr class="best"><td>1</td>',
      ),
    );
  }

  parts.push(`<h2>Plots</h2><div class="plots">`);
  d.plots.forEach((p, i) => parts.push(`<figure>${inlineSvg(p.svg, `p${i}`)}<figcaption>${escapeHtml(p.title)}</figcaption></figure>`));
  parts.push(`</div>`);

  parts.push(`<h2>Work</h2>`);
  parts.push(
    table(
      ['band groups computed', 'reused', 'empty', 'requeues without progress', 'cells filled with a global mean'],
      [
        [
          String(s.groups_computed),
          String(s.groups_reused),
          String(s.groups_empty),
          String(s.requeues_without_progress),
          String(s.mean_filled_cells),
        ],
      ],
      ' class="work"',
    ),
  );
  parts.push(
    table(
      ['method', 'seconds (sum over computed groups)'],
      Object.entries(s.seconds_per_method).map(([m, t]) => [escapeHtml(m), fmt(t, 3)]),
      ' class="time-per-method"',
    ),
  );
  const refits = Object.entries(d.refit);
  if (refits.length) {
    parts.push(`<h3>Refit of the recommended tables on the unmasked inputs</h3>`);
    parts.push(
      table(
        ['dataset', 'table', 'members averaged', 'groups computed', 'reused', 'seconds'],
        refits.map(([n, r]) => [
          escapeHtml(n),
          `<code>${escapeHtml(r.table)}</code>`,
          escapeHtml(r.members.join(', ')),
          String(r.computed),
          String(r.reused),
          fmt(r.seconds, 3),
        ]),
      ),
    );
  }

  parts.push(`<h2>Configuration</h2>`);
  parts.push(
    table(
      ['dataset', 'input', 'hidden cells'],
      d.datasets.map((x) => [escapeHtml(x.name), `<code>${escapeHtml(x.source)}</code>`, String(x.hidden)]),
      ' class="datasets"',
    ),
  );
  parts.push(`<pre>${escapeHtml(JSON.stringify({ ...d.config, evaluation: d.evaluation }, null, 2))}</pre>`);

  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>hierimpute report</title><style>${CSS}</style></head>
<body>
${parts.join('\n')}
<script>${SCRIPT}</script>
</body></html>
`;
}

export async function writeReport(path: string, data: ReportData): Promise<void> {
  await writeFileAtomic(path, renderReport(data));
}
