// `hierimpute run --evaluate` (issue 7): holdout mask, leaderboard, best sequence, refit, MPI.
// Every number of the leaderboard is recomputed here in plain JS from the files the run wrote.
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
let data;
let cfgPath;
let out;
let first;

const evalArgs = (o) => ['run', '--config', cfgPath, '--data', data, '--out', o, '--progress=false', '--evaluate', '--holdout', String(SHARE), '--holdout-seed', '11', '--refit-best'];

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
  for (const f of ['leaderboard.csv', 'best_sequences.csv', 'report.html', 'evaluation.json', 'plots/method_band_nrmse.svg']) assert.ok(existsSync(join(out, f)), f);
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
  const m = makeMatrix(['x', 'y', 'z'], [
    Float32Array.from({ length: 50 }, (_, i) => i),
    Float32Array.from({ length: 50 }, (_, i) => (i < 3 ? i : nan)),
    Float32Array.from({ length: 50 }, (_, i) => (i === 7 ? 1 : nan)),
  ]);
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
function recompute(outDir, name, file, label, edges) {
  const input = table(join(data, file));
  const masked = table(join(out, 'holdout', 'masked', file));
  const k = input.header.length;
  const sd = input.header.map((_, j) => {
    const v = input.cells.map((r) => r[j]).filter((x) => !Number.isNaN(x));
    const mean = v.reduce((s, x) => s + x, 0) / v.length;
    return Math.sqrt(v.reduce((s, x) => s + (x - mean) ** 2, 0) / v.length);
  });
  const band = masked.cells.map((r) => bandOf(r.filter(Number.isNaN).length / k, edges));
  const imputed = table(join(outDir, 'sequences', label, `${name}.csv`));
  const cells = readCsv(join(out, 'holdout', `${name}.mask.csv`)).rows.map(([r, c, v]) => ({ i: Number(r), j: Number(c), v: f32(v) }));
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
  assert.deepEqual(lb.header, ['dataset', 'sequence_id', 'label', 'nrmse', 'rmse', 'rank', 'nrmse_band_0', 'nrmse_band_1']);
  assert.equal(lb.rows.length, seqs.length * Object.keys(DATASETS).length);
  for (const [name, file] of Object.entries(DATASETS)) {
    const rows = lb.rows.filter((r) => r[0] === name);
    assert.deepEqual(rows.map((r) => Number(r[5])), [1, 2, 3], 'ranked best first');
    for (const [, id, label, nrmse, rmse, , ...bands] of rows) {
      assert.equal(label, seqs[Number(id)].label);
      const want = recompute(out, name, file, label, edges);
      close(Number(nrmse), want.nrmse, `${name}/${label} nRMSE`);
      close(Number(rmse), want.rmse, `${name}/${label} RMSE`);
      bands.forEach((v, b) => (Number.isNaN(want.bands[b]) ? assert.equal(v, '') : close(Number(v), want.bands[b], `${name}/${label} band ${b}`)));
    }
    const n = rows.map((r) => Number(r[3]));
    assert.deepEqual(n, [...n].sort((x, y) => x - y));
  }
});

test('the expected sequence ranks first: model-based imputation in the heavy band beats knn and the mean on linear columns', () => {
  const lb = readCsv(join(out, 'leaderboard.csv'));
  const best = readCsv(join(out, 'best_sequences.csv'));
  assert.deepEqual(best.header, ['dataset', 'sequence_id', 'label', 'methods', 'nrmse', 'rmse', 'hidden_cells', 'refit_table']);
  assert.deepEqual(best.rows.map((r) => r[0]), Object.keys(DATASETS));
  for (const name of Object.keys(DATASETS)) {
    const rows = lb.rows.filter((r) => r[0] === name);
    const byLabel = Object.fromEntries(rows.map((r) => [r[2], r]));
    assert.equal(rows[0][2], EXPECTED_BEST);
    const heavy = (l) => Number(byLabel[l][7]);
    assert.ok(heavy(EXPECTED_BEST) < 0.75 * heavy('seq_1_iterative_simple_knn'), `${name}: heavy band ${heavy(EXPECTED_BEST)} vs knn ${heavy('seq_1_iterative_simple_knn')}`);
    assert.ok(heavy('seq_0_iterative_simple_mean') > 0.9, `${name}: the mean is no model of linear columns`);
    // The light band is the same method in every sequence (one shared prefix node): equal scores.
    assert.equal(new Set(rows.map((r) => r[6])).size, 1);
    const b = best.rows.find((r) => r[0] === name);
    assert.deepEqual(b.slice(0, 3), rows[0].slice(0, 3));
    assert.equal(b[3], 'iterative_simple iterative_simple');
    assert.equal(b[7], `best/${name}.csv`);
  }
});

test('--refit-best: OUT/best/<dataset>.csv is the best sequence on the UNMASKED table (equals hierarchicalImpute), nothing reused from the masked sweep', async () => {
  const cfg = validateConfig(linearConfig(), 'test');
  const seq = expandSweep(cfg).find((s) => s.label === EXPECTED_BEST);
  for (const [name, file] of Object.entries(DATASETS)) {
    const input = await readMatrix(join(data, file));
    const ref = await hierarchicalImpute(input, cfg, seq.methods);
    const got = await readMatrix(join(out, 'best', `${name}.csv`));
    assert.deepEqual(got.names, input.names);
    got.columns.forEach((c, j) => {
      assert.equal(c.filter(Number.isNaN).length, 0);
      assert.deepEqual([...c], [...ref.matrix.columns[j]], `${name} column ${j}`);
    });
    // Masked and unmasked inputs hash differently: the sweep's manifests name the masked file's hash.
    const manifest = JSON.parse(readFileSync(join(out, 'sequences', EXPECTED_BEST, 'methods_manifest.json'), 'utf8'));
    assert.equal(manifest.datasets[name].input_hash, sha(join(out, 'holdout', 'masked', file)));
    assert.notEqual(manifest.datasets[name].input_hash, sha(join(data, file)));
  }
  const ev = JSON.parse(readFileSync(join(out, 'evaluation.json'), 'utf8'));
  for (const name of Object.keys(DATASETS)) assert.deepEqual([ev.refit[name].computed, ev.refit[name].reused], [2, 0]);
  // Sweep nodes: band 0 shared (1) + band 1 (3) per dataset; refit: 2 more per dataset.
  assert.equal(cacheNodes(out), 2 * (1 + 3) + 2 * 2);
});

test('rerun of the same command: nothing computed again, identical leaderboard and masks', async () => {
  const before = ['leaderboard.csv', 'best_sequences.csv', 'holdout/lin_one.mask.csv', 'best/lin_two.csv'].map((f) => readFileSync(join(out, f)));
  const r = await runCli(evalArgs(out));
  assert.equal(r.code, 0, r.stderr);
  assert.equal(summary(out).groups_computed, 0);
  const ev = JSON.parse(readFileSync(join(out, 'evaluation.json'), 'utf8'));
  assert.equal(ev.refit.lin_one.computed, 0);
  ['leaderboard.csv', 'best_sequences.csv', 'holdout/lin_one.mask.csv', 'best/lin_two.csv'].forEach((f, i) => assert.ok(readFileSync(join(out, f)).equals(before[i]), f));
});

test('mpiexec -n 4 --evaluate: leaderboard, best sequences, masks and refitted tables byte-identical to one rank', async () => {
  const o4 = tempDir('hi-eval-n4-');
  const r = await mpirun(4, [main, ...evalArgs(o4)], { timeoutS: 180 });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(summary(o4).ranks, 4);
  const files = ['leaderboard.csv', 'best_sequences.csv', ...Object.keys(DATASETS).flatMap((n) => [`holdout/${n}.mask.csv`, `best/${n}.csv`]), ...Object.values(DATASETS).map((f) => `holdout/masked/${f}`)];
  for (const f of files) assert.ok(readFileSync(join(o4, f)).equals(readFileSync(join(out, f))), `${f} differs between 1 and 4 ranks`);
});

test('evaluation flags: clear errors for a bad share and for flags without --evaluate', async () => {
  const o = tempDir('hi-eval-bad-');
  let r = await runCli(['run', '--config', cfgPath, '--data', data, '--out', o, '--progress=false', '--evaluate', '--holdout', '1.5']);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /--holdout must be a share of the observed cells in \(0, 1\).*got 1\.5/);
  r = await runCli(['run', '--config', cfgPath, '--data', data, '--out', o, '--progress=false', '--refit-best']);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /--refit-best only applies with --evaluate/);
  assert.equal(existsSync(join(o, 'sequences')), false, 'nothing swept');
});
