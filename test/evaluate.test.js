// `hierimpute run --evaluate`: holdout mask, leaderboard (sequences and baselines), repeats,
// the recommended ensemble, refit, MPI. Every number of the leaderboard is recomputed here in
// plain JS from the files the run wrote.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';

import { bandEdges, bandOf } from '../dist/engine/bands.js';
import { validateConfig } from '../dist/engine/config.js';
import { hierarchicalImpute } from '../dist/engine/hierarchical.js';
import { expandSweep } from '../dist/engine/sweep.js';
import { maskTable, MIN_OBSERVED } from '../dist/eval/index.js';
import { readMatrix } from '../dist/tables/io.js';
import { makeMatrix } from '../dist/tables/matrix.js';
import { linearConfig, linearTable } from './helpers/linear-data.js';
import { mpirun } from './helpers/mpirun.js';
import { cacheNodes, f32, main, readCsv, runCli, summary, tempDir, writeConfig } from './helpers/sweep.js';

const DATASETS = { lin_one: 'lin-one.csv', lin_two: 'lin-two.csv' };
const SHARE = 0.15;
const EXPECTED_BEST = 'seq_2_iterative_simple_iterative_simple';
const BASELINES = ['baseline_iterative_simple', 'baseline_mean', 'baseline_knn'];
/** The output table of a leaderboard label on a dataset's masked copy (baselines: `<dataset>.baseline`). */
const outTable = (o, label, name) => join(o, 'sequences', label, `${label.startsWith('baseline_') ? `${name}.baseline` : name}.csv`);
let data;
let cfgPath;
let out;
let first;

/** The run's arguments; one holdout repeat unless told (the scores below are recomputed for one mask). */
const evalArgs = (o, repeats = 1) => [
  'run',
  '--config',
  cfgPath,
  '--data',
  data,
  '--out',
  o,
  '--progress=false',
  '--evaluate',
  '--holdout',
  String(SHARE),
  '--holdout-seed',
  '11',
  '--refit-best',
  '--holdout-repeats',
  String(repeats),
];

before(async () => {
  data = tempDir('hi-eval-data-');
  writeFileSync(join(data, 'lin-one.csv'), linearTable({ rows: 240, seed: 1 }));
  writeFileSync(join(data, 'lin-two.csv'), linearTable({ rows: 160, seed: 2 }));
  cfgPath = writeConfig(tempDir('hi-eval-cfg-'), linearConfig());
  out = tempDir('hi-eval-out-');
  first = await runCli(evalArgs(out));
});

const sha = (p) => createHash('sha256').update(readFileSync(p)).digest('hex');
const table = (p) => {
  const { header, rows } = readCsv(p);
  return { header, cells: rows.map((r) => header.map((_, j) => f32(r[j] ?? ''))) };
};

test('run --evaluate: exits 0 and writes every evaluation output', () => {
  assert.equal(first.code, 0, first.stderr);
  for (const f of ['leaderboard.csv', 'best_sequences.csv', 'report.html', 'evaluation.json', 'plots/method_band_nrmse.svg'])
    assert.ok(existsSync(join(out, f)), f);
  for (const name of Object.keys(DATASETS)) {
    for (const f of [`holdout/${name}.mask.csv`, `best/${name}.csv`, `plots/leaderboard_${name}.svg`]) assert.ok(existsSync(join(out, f)), f);
    assert.match(readFileSync(join(out, 'plots', `leaderboard_${name}.svg`), 'utf8'), /<svg[\s\S]*seq_2_iterative_simple_iterative_simple/);
  }
  assert.deepEqual(readdirSync(join(out, 'holdout', 'masked')).sort(), Object.values(DATASETS).sort());
});

test('holdout: hidden cells were observed, values kept exactly, masked elsewhere unchanged, per-column share, >= 2 observed left', () => {
  for (const [name, file] of Object.entries(DATASETS)) {
    const input = table(join(data, file));
    const masked = table(join(out, 'holdout', 'masked', file));
    const mask = readCsv(join(out, 'holdout', `${name}.mask.csv`));
    assert.deepEqual(mask.header, ['row', 'col', 'value']);
    assert.deepEqual(masked.header, input.header);
    const hidden = new Set();
    let prev = -1;
    for (const [r, c, v] of mask.rows) {
      const i = Number(r);
      const j = Number(c);
      assert.ok(i * 100 + j > prev, 'row-major order');
      prev = i * 100 + j;
      assert.ok(!Number.isNaN(input.cells[i][j]), `${name} (${i},${j}) was not observed`);
      assert.equal(f32(v), input.cells[i][j], `${name} (${i},${j}) value`);
      hidden.add(`${i},${j}`);
    }
    const k = input.header.length;
    for (let j = 0; j < k; j++) {
      const obs = input.cells.filter((row) => !Number.isNaN(row[j])).length;
      const h = [...hidden].filter((x) => x.endsWith(`,${j}`)).length;
      assert.equal(h, Math.min(Math.round(SHARE * obs), obs - MIN_OBSERVED), `${name} column ${j}`);
    }
    input.cells.forEach((row, i) =>
      row.forEach((v, j) => {
        if (hidden.has(`${i},${j}`)) assert.ok(Number.isNaN(masked.cells[i][j]));
        else assert.ok(Object.is(masked.cells[i][j], v) || (Number.isNaN(v) && Number.isNaN(masked.cells[i][j])), `${name} (${i},${j}) changed`);
      }),
    );
    // The input file itself is never touched.
    assert.equal(readFileSync(join(data, file), 'utf8'), linearTable(name === 'lin_one' ? { rows: 240, seed: 1 } : { rows: 160, seed: 2 }));
  }
});

test('maskTable: seeded and deterministic, per-dataset streams, keeps 2 observed per column, rejects bad options', () => {
  const nan = NaN;
  const m = makeMatrix(
    ['x', 'y', 'z'],
    [
      Float32Array.from({ length: 50 }, (_, i) => i),
      Float32Array.from({ length: 50 }, (_, i) => (i < 3 ? i : nan)),
      Float32Array.from({ length: 50 }, (_, i) => (i === 7 ? 1 : nan)),
    ],
  );
  const a = maskTable(m, 'd', { share: 0.9, seed: 5 });
  const b = maskTable(m, 'd', { share: 0.9, seed: 5 });
  assert.deepEqual([...a.hidden.rows], [...b.hidden.rows]);
  assert.deepEqual([...a.hidden.cols], [...b.hidden.cols]);
  const count = (h, j) => [...h.cols].filter((c) => c === j).length;
  assert.equal(count(a.hidden, 0), 45);
  assert.equal(count(a.hidden, 1), 1, '3 observed: only 1 may go');
  assert.equal(count(a.hidden, 2), 0, '1 observed: none may go');
  const other = maskTable(m, 'd', { share: 0.9, seed: 6 });
  const otherName = maskTable(m, 'e', { share: 0.9, seed: 5 });
  assert.notDeepEqual([...other.hidden.rows], [...a.hidden.rows]);
  assert.notDeepEqual([...otherName.hidden.rows], [...a.hidden.rows]);
  // The input matrix is not modified.
  assert.equal(m.columns[0].filter(Number.isNaN).length, 0);
  assert.throws(() => maskTable(m, 'd', { share: 1.5, seed: 0 }), /--holdout must be a share .* \(got 1\.5\)/);
  assert.throws(() => maskTable(m, 'd', { share: 0.1, seed: -1 }), /--holdout-seed must be an integer/);
});

/** The leaderboard recomputed in plain JS from the input, the masked table, the mask file and the output tables. */
function recompute(outDir, name, file, label, edges, repeat = 0) {
  const hdir = repeat === 0 ? join(outDir, 'holdout') : join(outDir, 'holdout', `repeat_${repeat}`);
  const input = table(join(data, file));
  const masked = table(join(hdir, 'masked', file));
  const k = input.header.length;
  const sd = input.header.map((_, j) => {
    const v = input.cells.map((r) => r[j]).filter((x) => !Number.isNaN(x));
    const mean = v.reduce((s, x) => s + x, 0) / v.length;
    return Math.sqrt(v.reduce((s, x) => s + (x - mean) ** 2, 0) / v.length);
  });
  const band = masked.cells.map((r) => bandOf(r.filter(Number.isNaN).length / k, edges));
  const copy = repeat === 0 ? name : `${name}.holdout${repeat}`;
  const imputed = table(outTable(outDir, label, copy));
  const cells = readCsv(join(hdir, `${name}.mask.csv`)).rows.map(([r, c, v]) => ({ i: Number(r), j: Number(c), v: f32(v) }));
  const nrmse = (sub) => {
    const per = [];
    for (let j = 0; j < k; j++) {
      const e = sub.filter((c) => c.j === j).map((c) => (imputed.cells[c.i][j] - c.v) ** 2);
      if (e.length) per.push(Math.sqrt(e.reduce((s, x) => s + x, 0) / e.length) / sd[j]);
    }
    return per.length ? per.reduce((s, x) => s + x, 0) / per.length : NaN;
  };
  const rmse = Math.sqrt(cells.reduce((s, c) => s + (imputed.cells[c.i][c.j] - c.v) ** 2, 0) / cells.length);
  return { nrmse: nrmse(cells), rmse, bands: edges.map((_, b) => nrmse(cells.filter((c) => band[c.i] === b))) };
}

const close = (a, b, what) => assert.ok(Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);

test('leaderboard: columns as specified, every number equals a recomputation from the output tables and the holdout file', () => {
  const cfg = validateConfig(linearConfig(), 'test');
  const edges = bandEdges(cfg.bands.map((b) => b.width));
  const seqs = expandSweep(cfg);
  const lb = readCsv(join(out, 'leaderboard.csv'));
  assert.deepEqual(lb.header, [
    'dataset',
    'sequence_id',
    'label',
    'nrmse',
    'rmse',
    'rank',
    'nrmse_band_0',
    'nrmse_band_1',
    'nrmse_sd',
    'rmse_sd',
    'repeats',
    'within_noise',
    'baseline',
  ]);
  assert.equal(lb.rows.length, (seqs.length + BASELINES.length) * Object.keys(DATASETS).length);
  for (const [name, file] of Object.entries(DATASETS)) {
    const rows = lb.rows.filter((r) => r[0] === name);
    assert.deepEqual(
      rows.map((r) => Number(r[5])),
      [1, 2, 3, 4, 5, 6],
      'ranked best first',
    );
    for (const [, id, label, nrmse, rmse, , b0, b1, nsd, rsd, repeats, noise, baseline] of rows) {
      const isBase = BASELINES.includes(label);
      // Baselines: ids after the sweep's, in order of first appearance of their method.
      assert.equal(label, isBase ? BASELINES[Number(id) - seqs.length] : seqs[Number(id)].label);
      assert.equal(baseline, String(isBase));
      assert.deepEqual([nsd, rsd, repeats, noise], ['', '', '1', ''], 'one repeat: no spread');
      const want = recompute(out, name, file, label, edges);
      close(Number(nrmse), want.nrmse, `${name}/${label} nRMSE`);
      close(Number(rmse), want.rmse, `${name}/${label} RMSE`);
      [b0, b1].forEach((v, b) => (Number.isNaN(want.bands[b]) ? assert.equal(v, '') : close(Number(v), want.bands[b], `${name}/${label} band ${b}`)));
    }
    const n = rows.map((r) => Number(r[3]));
    assert.deepEqual(
      n,
      [...n].sort((x, y) => x - y),
    );
  }
});

const csvRows = (p) => {
  // best_sequences.csv quotes its recommendation (commas inside): split on commas outside quotes.
  const lines = readFileSync(p, 'utf8').trimEnd().split('\n');
  const split = (l) =>
    [...l.matchAll(/("(?:[^"]|"")*"|[^,]*)(,|$)/g)].slice(0, -1).map((m) => (m[1].startsWith('"') ? m[1].slice(1, -1).replace(/""/g, '"') : m[1]));
  return { header: split(lines[0]), rows: lines.slice(1).map(split) };
};
const BEST_HEADER = [
  'dataset',
  'sequence_id',
  'label',
  'methods',
  'nrmse',
  'rmse',
  'hidden_cells',
  'refit_table',
  'baseline',
  'nrmse_sd',
  'ensemble_k',
  'ensemble_members',
  'ensemble_nrmse',
  'ensemble_rmse',
  'ensemble_scored_on',
  'recommendation',
];

test('the expected sequence ranks first among the sequences: model-based imputation in the heavy band beats knn and the mean on linear columns', () => {
  const lb = readCsv(join(out, 'leaderboard.csv'));
  const best = csvRows(join(out, 'best_sequences.csv'));
  assert.deepEqual(best.header, BEST_HEADER);
  assert.deepEqual(
    best.rows.map((r) => r[0]),
    Object.keys(DATASETS),
  );
  for (const name of Object.keys(DATASETS)) {
    const all = lb.rows.filter((r) => r[0] === name);
    const rows = all.filter((r) => r[12] === 'false');
    const byLabel = Object.fromEntries(rows.map((r) => [r[2], r]));
    assert.equal(rows[0][2], EXPECTED_BEST);
    const heavy = (l) => Number(byLabel[l][7]);
    assert.ok(
      heavy(EXPECTED_BEST) < 0.75 * heavy('seq_1_iterative_simple_knn'),
      `${name}: heavy band ${heavy(EXPECTED_BEST)} vs knn ${heavy('seq_1_iterative_simple_knn')}`,
    );
    assert.ok(heavy('seq_0_iterative_simple_mean') > 0.9, `${name}: the mean is no model of linear columns`);
    // The light band is the same method in every sequence (one shared prefix node): equal scores.
    assert.equal(new Set(rows.map((r) => r[6])).size, 1);
    const b = best.rows.find((r) => r[0] === name);
    assert.deepEqual(b.slice(0, 3), all[0].slice(0, 3), "best_sequences names the leaderboard's rank 1");
    assert.equal(b[7], `best/${name}.csv`);
    assert.equal(b[8], all[0][12]);
  }
  // On lin_two iterative_simple without bands beats every banded sequence: said plainly.
  const two = best.rows.find((r) => r[0] === 'lin_two');
  assert.deepEqual([two[2], two[3], two[8]], ['baseline_iterative_simple', 'iterative_simple', 'true']);
  assert.match(
    two[15],
    /^A plain method wins: iterative_simple without bands \(nRMSE [\d.]+\) beats every banded sequence \(best: seq_2_iterative_simple_iterative_simple/,
  );
  const one = best.rows.find((r) => r[0] === 'lin_one');
  assert.deepEqual([one[2], one[3], one[8]], [EXPECTED_BEST, 'iterative_simple iterative_simple', 'false']);
  assert.match(readFileSync(join(out, 'report.html'), 'utf8'), /A plain method wins: iterative_simple without bands/);
});

/** A baseline run by hand: its method on the whole table as one band of width 1. */
const oneBand = (method) => validateConfig({ ...linearConfig(), bands: [{ width: 1, methods: [method] }] }, 'baseline');

/** A candidate's imputation of a table, by hand: hierarchicalImpute of the sequence, or of the one-band baseline. */
async function candidateTable(input, label) {
  const cfg = validateConfig(linearConfig(), 'test');
  if (label.startsWith('baseline_'))
    return (await hierarchicalImpute(input, oneBand(label.slice('baseline_'.length)), [label.slice('baseline_'.length)])).matrix;
  return (await hierarchicalImpute(input, cfg, expandSweep(cfg).find((s) => s.label === label).methods)).matrix;
}

test('baselines: each method without bands equals hierarchicalImpute with one band of width 1 on the masked table', async () => {
  for (const [name, file] of Object.entries(DATASETS)) {
    const masked = await readMatrix(join(out, 'holdout', 'masked', file));
    for (const label of BASELINES) {
      const want = await candidateTable(masked, label);
      const got = await readMatrix(outTable(out, label, name));
      got.columns.forEach((c, j) => assert.deepEqual([...c], [...want.columns[j]], `${name} ${label} column ${j}`));
    }
    const manifest = JSON.parse(readFileSync(join(out, 'sequences', 'baseline_knn', 'methods_manifest.json'), 'utf8'));
    assert.deepEqual([manifest.methods, manifest.widths, manifest.edges], [['knn'], [1], [1]]);
  }
});

/** The cell-wise mean of tables as the ensemble defines it: summed in double, one rounding to float32; observed cells kept. */
const cellMean = (input, tables) =>
  input.columns.map((c, j) =>
    [...c].map((v, i) => (Number.isNaN(v) ? Math.fround(tables.reduce((s, t) => s + t.columns[j][i], 0) / tables.length) : v)),
  );

test('--refit-best: OUT/best/<dataset>.csv is the cell-wise mean of the chosen members on the UNMASKED table, nothing reused from the masked sweep', async () => {
  const best = csvRows(join(out, 'best_sequences.csv'));
  const ev = JSON.parse(readFileSync(join(out, 'evaluation.json'), 'utf8'));
  for (const [name, file] of Object.entries(DATASETS)) {
    const b = best.rows.find((r) => r[0] === name);
    const members = b[11].split(' ');
    assert.equal(members.length, Number(b[10]));
    assert.ok([1, 2, 3, 5, 8].includes(members.length));
    assert.equal(b[14], 'B', 'K chosen on half A, scored on half B');
    assert.deepEqual(ev.ensemble[name].members, members);
    assert.deepEqual(ev.refit[name].members, members);
    const input = await readMatrix(join(data, file));
    const tables = [];
    for (const m of members) tables.push(await candidateTable(input, m));
    const want = cellMean(input, tables);
    const got = await readMatrix(join(out, 'best', `${name}.csv`));
    assert.deepEqual(got.names, input.names);
    got.columns.forEach((c, j) => {
      assert.equal(c.filter(Number.isNaN).length, 0);
      assert.deepEqual([...c], want[j], `${name} column ${j}`);
      // Observed cells untouched.
      input.columns[j].forEach((v, i) => Number.isNaN(v) || assert.equal(c[i], v));
    });
    // Masked and unmasked inputs hash differently: the sweep's manifests name the masked file's hash.
    const manifest = JSON.parse(readFileSync(join(out, 'sequences', EXPECTED_BEST, 'methods_manifest.json'), 'utf8'));
    assert.equal(manifest.datasets[name].input_hash, sha(join(out, 'holdout', 'masked', file)));
    assert.notEqual(manifest.datasets[name].input_hash, sha(join(data, file)));
  }
  // Sweep nodes: band 0 shared (1) + band 1 (3) per dataset, 3 baselines per dataset; refit: the
  // members' distinct nodes on the unmasked tables (sequences share their band-0 node).
  const refitNodes = (members) => new Set(members.flatMap((m) => (m.startsWith('baseline_') ? [m] : ['band0', m]))).size;
  let refit = 0;
  for (const name of Object.keys(DATASETS)) {
    const n = refitNodes(ev.refit[name].members);
    // A node another member already computed is skipped, not reused: computed = distinct nodes.
    assert.deepEqual([ev.refit[name].computed, ev.refit[name].reused], [n, 0]);
    refit += n;
  }
  assert.equal(cacheNodes(out), 2 * (1 + 3) + 2 * 3 + refit);
});

test("--ensemble 1 writes the leaderboard's best alone (as before ensembles); --ensemble 2 the mean of the top 2, scored on all hidden cells", async () => {
  for (const k of [1, 2]) {
    const o = tempDir(`hi-eval-k${k}-`);
    const r = await runCli([...evalArgs(o), '--ensemble', String(k)]);
    assert.equal(r.code, 0, r.stderr);
    const lb = readCsv(join(o, 'leaderboard.csv'));
    const best = csvRows(join(o, 'best_sequences.csv'));
    for (const [name, file] of Object.entries(DATASETS)) {
      const top = lb.rows
        .filter((x) => x[0] === name)
        .slice(0, k)
        .map((x) => x[2]);
      const b = best.rows.find((x) => x[0] === name);
      assert.deepEqual([b[10], b[11], b[14]], [String(k), top.join(' '), 'all']);
      if (k === 1) assert.equal(Number(b[12]), Number(b[4]), "K = 1: the ensemble score is the best row's nRMSE");
      // The ensemble's score recomputed from the members' masked-table outputs.
      const masked = table(join(o, 'holdout', 'masked', file));
      const input = table(join(data, file));
      const sd = input.header.map((_, j) => {
        const v = input.cells.map((row) => row[j]).filter((x) => !Number.isNaN(x));
        const m = v.reduce((s, x) => s + x, 0) / v.length;
        return Math.sqrt(v.reduce((s, x) => s + (x - m) ** 2, 0) / v.length);
      });
      const outs = top.map((l) => table(outTable(o, l, name)));
      const cells = readCsv(join(o, 'holdout', `${name}.mask.csv`)).rows.map(([i, j, v]) => ({ i: Number(i), j: Number(j), v: f32(v) }));
      const per = masked.header.map((_, j) => {
        const e = cells.filter((c) => c.j === j).map((c) => (Math.fround(outs.reduce((s, t) => s + t.cells[c.i][j], 0) / outs.length) - c.v) ** 2);
        return Math.sqrt(e.reduce((s, x) => s + x, 0) / e.length) / sd[j];
      });
      close(Number(b[12]), per.reduce((s, x) => s + x, 0) / per.length, `${name} K=${k} ensemble nRMSE`);
      const inputM = await readMatrix(join(data, file));
      const tables = [];
      for (const m of top) tables.push(await candidateTable(inputM, m));
      const got = await readMatrix(join(o, 'best', `${name}.csv`));
      const want = cellMean(inputM, tables);
      got.columns.forEach((c, j) => assert.deepEqual([...c], want[j], `${name} K=${k} column ${j}`));
      if (k === 1) assert.ok(readFileSync(join(o, 'best', `${name}.csv`)).length > 0);
    }
  }
});

test('--holdout-repeats 3: independent masks, scores are means over the repeats with sample sd, within-noise flags from paired differences', async () => {
  const o = tempDir('hi-eval-r3-');
  const r = await runCli(evalArgs(o, 3));
  assert.equal(r.code, 0, r.stderr);
  const cfg = validateConfig(linearConfig(), 'test');
  const edges = bandEdges(cfg.bands.map((b) => b.width));
  // Repeat 0 is the single holdout of before, byte for byte.
  for (const name of Object.keys(DATASETS))
    assert.ok(readFileSync(join(o, 'holdout', `${name}.mask.csv`)).equals(readFileSync(join(out, 'holdout', `${name}.mask.csv`))));
  const masks = [0, 1, 2].map((k) => readFileSync(join(o, 'holdout', ...(k ? [`repeat_${k}`] : []), 'lin_one.mask.csv'), 'utf8'));
  assert.equal(new Set(masks).size, 3, 'three different masks');
  const lb = readCsv(join(o, 'leaderboard.csv'));
  for (const [name, file] of Object.entries(DATASETS)) {
    const rows = lb.rows.filter((x) => x[0] === name);
    assert.equal(rows.length, 6);
    const per = {};
    for (const [, , label, nrmse, rmse, , , , nsd, rsd, repeats] of rows) {
      assert.equal(repeats, '3');
      const w = [0, 1, 2].map((k) => recompute(o, name, file, label, edges, k));
      per[label] = w.map((x) => x.nrmse);
      const mean = (xs) => xs.reduce((s, x) => s + x, 0) / xs.length;
      const sd = (xs) => Math.sqrt(xs.reduce((s, x) => s + (x - mean(xs)) ** 2, 0) / (xs.length - 1));
      close(Number(nrmse), mean(w.map((x) => x.nrmse)), `${name}/${label} mean nRMSE`);
      close(Number(rmse), mean(w.map((x) => x.rmse)), `${name}/${label} mean RMSE`);
      close(Number(nsd), sd(w.map((x) => x.nrmse)), `${name}/${label} nRMSE sd`);
      close(Number(rsd), sd(w.map((x) => x.rmse)), `${name}/${label} RMSE sd`);
    }
    const top = rows[0][2];
    assert.equal(rows[0][11], '');
    for (const row of rows.slice(1)) {
      const d = per[row[2]].map((x, k) => x - per[top][k]);
      const m = d.reduce((s, x) => s + x, 0) / 3;
      const s = Math.sqrt(d.reduce((a, x) => a + (x - m) ** 2, 0) / 2);
      assert.equal(row[11], String(m < s), `${name}/${row[2]} within noise`);
    }
  }
  const ev = JSON.parse(readFileSync(join(o, 'evaluation.json'), 'utf8'));
  assert.equal(ev.holdout_repeats, 3);
  // 3 copies of each dataset swept: 3 × (4 sweep nodes + 3 baselines) per dataset, plus the refit.
  assert.equal(summary(o).groups_computed, 3 * 2 * (4 + 3));
  const html = readFileSync(join(o, 'report.html'), 'utf8');
  assert.match(html, /means over 3 independent holdouts/);
});

test('rerun of the same command: nothing computed again, identical leaderboard and masks', async () => {
  const before = ['leaderboard.csv', 'best_sequences.csv', 'holdout/lin_one.mask.csv', 'best/lin_two.csv'].map((f) => readFileSync(join(out, f)));
  const r = await runCli(evalArgs(out));
  assert.equal(r.code, 0, r.stderr);
  assert.equal(summary(out).groups_computed, 0);
  const ev = JSON.parse(readFileSync(join(out, 'evaluation.json'), 'utf8'));
  assert.equal(ev.refit.lin_one.computed, 0);
  ['leaderboard.csv', 'best_sequences.csv', 'holdout/lin_one.mask.csv', 'best/lin_two.csv'].forEach((f, i) =>
    assert.ok(readFileSync(join(out, f)).equals(before[i]), f),
  );
});

test('mpiexec -n 3 --evaluate: leaderboard (baselines included), best sequences, masks and refitted ensembles byte-identical to one rank', async () => {
  const o3 = tempDir('hi-eval-n3-');
  const r = await mpirun(3, [main, ...evalArgs(o3)], { timeoutS: 180 });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(summary(o3).ranks, 3);
  assert.equal(summary(o3).groups_computed, summary(out).groups_computed === 0 ? 2 * (4 + 3) : summary(out).groups_computed);
  const files = [
    'leaderboard.csv',
    'best_sequences.csv',
    ...Object.keys(DATASETS).flatMap((n) => [`holdout/${n}.mask.csv`, `best/${n}.csv`, ...BASELINES.map((b) => `sequences/${b}/${n}.baseline.csv`)]),
    ...Object.values(DATASETS).map((f) => `holdout/masked/${f}`),
  ];
  for (const f of files) assert.ok(readFileSync(join(o3, f)).equals(readFileSync(join(out, f))), `${f} differs between 1 and 3 ranks`);
});

test('evaluation flags: clear errors for a bad share and for flags without --evaluate', async () => {
  const o = tempDir('hi-eval-bad-');
  let r = await runCli(['run', '--config', cfgPath, '--data', data, '--out', o, '--progress=false', '--evaluate', '--holdout', '1.5']);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /--holdout must be a share of the observed cells in \(0, 1\).*got 1\.5/);
  r = await runCli(['run', '--config', cfgPath, '--data', data, '--out', o, '--progress=false', '--refit-best']);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /--refit-best only applies with --evaluate/);
  r = await runCli(['run', '--config', cfgPath, '--data', data, '--out', o, '--progress=false', '--holdout-repeats', '2', '--ensemble', '3']);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /--holdout-repeats, --ensemble only apply with --evaluate/);
  r = await runCli(['run', '--config', cfgPath, '--data', data, '--out', o, '--progress=false', '--evaluate', '--holdout-repeats', '0']);
  assert.match(r.stderr, /--holdout-repeats must be an integer in \[1, 100\] \(got 0\)/);
  r = await runCli(['run', '--config', cfgPath, '--data', data, '--out', o, '--progress=false', '--evaluate', '--ensemble', '1.5']);
  assert.match(r.stderr, /--ensemble must be an integer in \[1, 100\] \(got 1\.5\)/);
  assert.equal(existsSync(join(o, 'sequences')), false, 'nothing swept');
});
