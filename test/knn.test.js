// KNN / mean / median kernels: parity with scikit-learn 1.2.1 (fixtures written by
// scripts/parity/knn_reference.py, no Python needed here), the documented tie rule against a plain
// JavaScript reference, edge cases, and bit-identical output for any thread count.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { knn, knnFitTransform } from '../dist/impute/methods/knn.js';
import { mean, median, simpleFitTransform } from '../dist/impute/methods/simple.js';
import { makeMatrix } from '../dist/tables/matrix.js';

const here = dirname(fileURLToPath(import.meta.url));
const fixtures = join(here, 'fixtures', 'parity', 'knn');
const manifest = JSON.parse(readFileSync(join(fixtures, 'cases.json'), 'utf8'));

/** Minimal reader for the fixture CSVs (header, numbers, empty field = missing). */
function readCsv(file) {
  const lines = readFileSync(join(fixtures, file), 'utf8').trim().split('\n');
  const names = lines[0].split(',');
  const rows = lines.slice(1).map((l) => l.split(',').map((f) => (f === '' ? NaN : Number(f))));
  const columns = names.map((_, j) => Float32Array.from(rows, (r) => r[j]));
  return makeMatrix(names, columns);
}

const close = (a, b) => Math.abs(a - b) <= 1e-5 * Math.max(Math.abs(b), 1e-1);

/** Exact scaled squared distances q = p / c * S from target row t to every fit row (NaN if c = 0). */
function distances(fit, target, t) {
  const p = fit.columns.length;
  const q = new Float64Array(fit.nRows);
  for (let i = 0; i < fit.nRows; i++) {
    let s = 0;
    let c = 0;
    for (let f = 0; f < p; f++) {
      const d = target.columns[f][t] - fit.columns[f][i];
      if (!Number.isNaN(d)) {
        s += d * d;
        c++;
      }
    }
    q[i] = c ? (s / c) * p : NaN;
  }
  return q;
}

/**
 * Plain reference of the documented semantics and tie rule. Returns the imputed value of each
 * missing cell and whether scikit-learn's choice may legitimately differ (a tie at the k-th place).
 */
function reference(fit, target, k0, weights) {
  const cells = [];
  const p = fit.columns.length;
  for (let t = 0; t < target.nRows; t++) {
    let q = null;
    for (let j = 0; j < p; j++) {
      if (!Number.isNaN(target.columns[j][t])) continue;
      q ??= distances(fit, target, t);
      const col = fit.columns[j];
      const donors = [];
      for (let i = 0; i < fit.nRows; i++) if (!Number.isNaN(col[i])) donors.push(i);
      const finite = donors.filter((i) => !Number.isNaN(q[i])).sort((a, b) => q[a] - q[b] || a - b);
      const nan = donors.filter((i) => Number.isNaN(q[i]));
      const k = Math.min(k0, donors.length);
      let value;
      let tie = false;
      if (finite.length === 0) {
        value = donors.reduce((s, i) => s + col[i], 0) / donors.length;
      } else {
        const chosen = finite.slice(0, k);
        const fromNan = nan.slice(0, k - chosen.length);
        if (finite.length > k) {
          const a = q[finite[k - 1]];
          const b = q[finite[k]];
          tie = Math.abs(a - b) <= 1e-9 * Math.max(a, b, 1e-300);
        }
        if (weights === 'uniform') {
          if (fromNan.length && nan.length > fromNan.length) tie = true; // which NaN donors is arbitrary
          value = [...chosen, ...fromNan].reduce((s, i) => s + col[i], 0) / k;
        } else if (q[chosen[0]] === 0) {
          const zero = chosen.filter((i) => q[i] === 0);
          value = zero.reduce((s, i) => s + col[i], 0) / zero.length;
        } else {
          let sw = 0;
          let sv = 0;
          for (const i of chosen) {
            const w = 1 / Math.sqrt(q[i]);
            sw += w;
            sv += w * col[i];
          }
          value = sv / sw;
        }
      }
      cells.push({ t, j, value, tie });
    }
  }
  return cells;
}

test('knn matches scikit-learn KNNImputer on every fixture cell except k-th-place ties', async () => {
  let total = 0;
  let excluded = 0;
  let tiedDiffering = 0;
  const perCase = [];
  for (const c of manifest.cases) {
    const fit = readCsv(c.fit);
    const target = readCsv(c.target);
    const expected = readCsv(c.expected);
    const { matrix, stats } = await knnFitTransform(fit, target, { n_neighbors: c.n_neighbors, weights: c.weights }, 1);
    const cells = reference(fit, target, c.n_neighbors, c.weights);
    assert.equal(stats.cellsImputed, cells.length, c.name);
    assert.equal(cells.length, c.missingCells, c.name);
    let skipped = 0;
    for (const { t, j, value, tie } of cells) {
      const got = matrix.columns[j][t];
      // our kernel follows the documented rule exactly, ties included
      assert.ok(close(got, value), `${c.name} row ${t} col ${j}: kernel ${got}, JS reference ${value}`);
      const want = expected.columns[j][t];
      if (tie) {
        skipped++;
        if (!close(got, want)) tiedDiffering++;
        continue;
      }
      assert.ok(close(got, want), `${c.name} row ${t} col ${j}: hierimpute ${got}, scikit-learn ${want}`);
    }
    // observed cells are returned unchanged (bit for bit)
    for (let j = 0; j < target.columns.length; j++)
      for (let t = 0; t < target.nRows; t++)
        if (!Number.isNaN(target.columns[j][t])) assert.ok(Object.is(matrix.columns[j][t], target.columns[j][t]));
    total += cells.length;
    excluded += skipped;
    perCase.push(`${c.name}: ${cells.length} cells, ${skipped} tied`);
  }
  console.log(
    `knn parity: ${total} imputed cells compared with scikit-learn ${manifest.sklearn}, ${excluded} excluded as k-th-place ties (${tiedDiffering} of them differ)\n  ${perCase.join('\n  ')}`,
  );
  assert.ok(total > 500, 'the fixtures hold enough cells');
  assert.ok(excluded <= 0.05 * total, `at most 5% of cells excluded as ties (${excluded} of ${total})`);
});

test('the fixtures exercise NaN distances, the column-mean fallback and both split and shared fit rows', async () => {
  const c = manifest.cases.find((x) => x.name === 'sparse_k5_uniform');
  const fit = readCsv(c.fit);
  const { stats } = await knnFitTransform(fit, readCsv(c.target), { n_neighbors: 5 }, 1);
  assert.ok(stats.meanFallbackCells > 0, 'some cells have every donor at NaN distance');
  assert.ok(stats.nanDonorCells > 0, 'some cells need NaN-distance donors to reach k');
  assert.ok(manifest.cases.some((x) => !x.sameRows) && manifest.cases.some((x) => x.sameRows));
});

test('mean and median match scikit-learn SimpleImputer', async () => {
  const bases = new Map(manifest.cases.map((c) => [c.mean, c]));
  for (const c of bases.values()) {
    const fit = readCsv(c.fit);
    const target = readCsv(c.target);
    for (const statistic of ['mean', 'median']) {
      const expected = readCsv(c[statistic]);
      const { matrix } = await simpleFitTransform(statistic, fit, target, { empty_columns: 'error' });
      for (let j = 0; j < target.columns.length; j++)
        for (let t = 0; t < target.nRows; t++)
          assert.ok(close(matrix.columns[j][t], expected.columns[j][t]), `${c.fit} ${statistic} row ${t} col ${j}`);
    }
  }
});

test('median of an even count is the mean of the two middle values (numpy)', async () => {
  const m = makeMatrix(['a'], [new Float32Array([4, NaN, 1, 10, 2])]);
  const out = await median.impute(m, 0, median.defaults, { seed: 0, threads: 1 });
  assert.equal(out.columns[0][1], 3); // (2 + 4) / 2
  const outMean = await mean.impute(m, 0, mean.defaults, { seed: 0, threads: 1 });
  assert.equal(outMean.columns[0][1], 17 / 4);
});

test('impute(data, targetStart) fits on all rows and returns only the target rows', async () => {
  const c = manifest.cases.find((x) => x.name === 'basic_k5_uniform');
  const data = readCsv(c.fit);
  const start = 50;
  const out = await knn.impute(data, start, knn.defaults, { seed: 1, threads: 1 });
  assert.equal(out.nRows, data.nRows - start);
  const expected = readCsv(c.expected); // fit_transform on all rows: the same donors for these rows
  let compared = 0;
  for (const { t, j, tie } of reference(data, data, 5, 'uniform'))
    if (t >= start && !tie) {
      assert.ok(close(out.columns[j][t - start], expected.columns[j][t]), `row ${t} col ${j}`);
      compared++;
    }
  assert.ok(compared > 10);
  for (let j = 0; j < data.columns.length; j++)
    for (let t = 0; t < out.nRows; t++) {
      const v = data.columns[j][start + t];
      assert.ok(Number.isNaN(v) ? !Number.isNaN(out.columns[j][t]) : Object.is(out.columns[j][t], v));
    }
  for (const imp of [mean, median]) {
    const o = await imp.impute(data, start, imp.defaults, { seed: 1, threads: 1 });
    assert.equal(o.nRows, data.nRows - start);
    const full = await imp.impute(data, 0, imp.defaults, { seed: 1, threads: 1 });
    for (let j = 0; j < data.columns.length; j++) assert.deepEqual(o.columns[j], full.columns[j].subarray(start));
  }
  await assert.rejects(knn.impute(data, data.nRows + 1, knn.defaults, { seed: 0, threads: 1 }), /targetStart/);
});

function generated(n, p, seed) {
  let s = seed >>> 0;
  const rnd = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  const columns = Array.from({ length: p }, () => new Float32Array(n));
  for (let i = 0; i < n; i++) {
    const base = rnd() * 10;
    for (let j = 0; j < p; j++) columns[j][i] = rnd() < 0.1 ? NaN : Math.round((base + rnd() * 3) * 8) / 8;
  }
  return makeMatrix(
    Array.from({ length: p }, (_, j) => `x${j}`),
    columns,
  );
}

test('output is bit-identical for threads 1, 2 and 0 (all cores)', async () => {
  const data = generated(3000, 7, 7);
  for (const weights of ['uniform', 'distance']) {
    const runs = [];
    for (const threads of [1, 2, 0]) runs.push((await knnFitTransform(data, data, { n_neighbors: 4, weights }, threads)).matrix);
    for (const r of runs.slice(1))
      for (let j = 0; j < 7; j++) assert.deepEqual(Buffer.from(r.columns[j].buffer), Buffer.from(runs[0].columns[j].buffer));
  }
  for (const imp of [mean, median]) {
    const a = await imp.impute(data, 100, imp.defaults, { seed: 0, threads: 1 });
    const b = await imp.impute(data, 100, imp.defaults, { seed: 0, threads: 0 });
    for (let j = 0; j < 7; j++) assert.deepEqual(a.columns[j], b.columns[j]);
  }
});

test('multi-block tables (complete and masked blocks, NaN distances) match the JS reference on every cell', async () => {
  // 2500 rows x 6 columns: several fit blocks; a third of the rows incomplete, some with a single
  // observed cell (NaN distances), values on a coarse grid so that exact ties are common.
  let s = 99;
  const rnd = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  const n = 2500;
  const p = 6;
  const columns = Array.from({ length: p }, () => new Float32Array(n));
  for (let i = 0; i < n; i++) {
    const base = Math.floor(rnd() * 6);
    for (let j = 0; j < p; j++) columns[j][i] = base + Math.floor(rnd() * 4) / 2;
    const u = rnd();
    if (u < 0.05)
      for (let j = 0; j < p; j++)
        if (j !== i % p) columns[j][i] = NaN;
        else if (u < 0.33) columns[Math.floor(rnd() * p)][i] = NaN;
  }
  const data = makeMatrix(
    Array.from({ length: p }, (_, j) => `x${j}`),
    columns,
  );
  const target = makeMatrix(
    data.names,
    data.columns.map((c) => c.subarray(1900)),
  );
  for (const [k, weights] of [
    [5, 'uniform'],
    [3, 'distance'],
    [1, 'uniform'],
  ]) {
    const { matrix, stats } = await knnFitTransform(data, target, { n_neighbors: k, weights }, 2);
    const cells = reference(data, target, k, weights);
    assert.equal(stats.cellsImputed, cells.length);
    for (const { t, j, value } of cells)
      assert.ok(close(matrix.columns[j][t], value), `k=${k} ${weights} row ${t} col ${j}: ${matrix.columns[j][t]} vs ${value}`);
    if (weights === 'uniform') assert.ok(stats.nanDonorCells > 0 || stats.meanFallbackCells > 0);
  }
});

test('a column with no observed value: error naming it, or zeros with empty_columns=zero', async () => {
  const data = makeMatrix(['a', 'empty', 'c'], [new Float32Array([1, 2, NaN]), new Float32Array([NaN, NaN, NaN]), new Float32Array([3, NaN, 5])]);
  for (const imp of [knn, mean, median]) {
    await assert.rejects(imp.impute(data, 0, imp.defaults, { seed: 0, threads: 1 }), (err) => {
      assert.match(err.message, new RegExp(`^${imp.name}: column 'empty' has no observed value in the 3 fit rows`));
      assert.match(err.message, /empty_columns=zero/);
      assert.equal(err.code, 'HIERIMPUTE_EMPTY_COLUMN');
      assert.equal(err.column, 1);
      return true;
    });
    const out = await imp.impute(data, 0, { ...imp.defaults, empty_columns: 'zero' }, { seed: 0, threads: 1 });
    assert.deepEqual([...out.columns[1]], [0, 0, 0]);
    assert.ok(out.columns.every((c) => c.every((v) => !Number.isNaN(v))));
  }
  // an empty fit column is fine when no target cell of it is missing (fit and target differ)
  const fit = makeMatrix(['a', 'b'], [new Float32Array([1, 2]), new Float32Array([NaN, NaN])]);
  const target = makeMatrix(['a', 'b'], [new Float32Array([NaN]), new Float32Array([7])]);
  const { matrix } = await knnFitTransform(fit, target, { n_neighbors: 2 }, 1);
  assert.deepEqual([...matrix.columns[0]], [1.5]); // every distance is NaN (no shared column): column mean
});

test('edge cases: row with no observed cell, no missing cell, one row, one column', async () => {
  // a row with no observed cell gets the column means (every distance is NaN)
  const d = makeMatrix(['a', 'b'], [new Float32Array([1, 3, NaN, 8]), new Float32Array([2, 4, NaN, 6])]);
  const r = await knnFitTransform(d, d, { n_neighbors: 1 }, 1);
  assert.deepEqual([r.matrix.columns[0][2], r.matrix.columns[1][2]], [4, 4]);
  assert.equal(r.stats.meanFallbackCells, 2);
  // no missing cell: unchanged copy, nothing imputed
  const full = makeMatrix(['a'], [new Float32Array([1.25, -3, 1e30])]);
  const f = await knnFitTransform(full, full, {}, 1);
  assert.deepEqual(f.matrix.columns[0], full.columns[0]);
  assert.notEqual(f.matrix.columns[0], full.columns[0]);
  assert.equal(f.stats.cellsImputed, 0);
  // one row: nothing to learn from for its missing cell -> empty column rule
  const one = makeMatrix(['a', 'b'], [new Float32Array([5]), new Float32Array([NaN])]);
  await assert.rejects(knn.impute(one, 0, knn.defaults, { seed: 0, threads: 1 }), /column 'b' has no observed value in the 1 fit rows/);
  const oneOk = makeMatrix(['a', 'b'], [new Float32Array([5]), new Float32Array([2])]);
  assert.deepEqual((await knn.impute(oneOk, 0, knn.defaults, { seed: 0, threads: 1 })).columns[1], new Float32Array([2]));
  // one column: the only shared column is the one being imputed, so every distance is NaN -> mean
  const col = makeMatrix(['a'], [new Float32Array([1, NaN, 2, 6])]);
  assert.equal((await knn.impute(col, 0, knn.defaults, { seed: 0, threads: 1 })).columns[0][1], 3);
  assert.equal((await median.impute(col, 0, median.defaults, { seed: 0, threads: 1 })).columns[0][1], 2);
  // k larger than the number of donors: all donors
  const small = makeMatrix(['a', 'b'], [new Float32Array([1, 2, 3]), new Float32Array([10, 20, NaN])]);
  assert.equal((await knn.impute(small, 0, { ...knn.defaults, n_neighbors: 50 }, { seed: 0, threads: 1 })).columns[1][2], 15);
  // zero rows
  const none = makeMatrix(['a'], [new Float32Array(0)]);
  assert.equal((await knn.impute(none, 0, knn.defaults, { seed: 0, threads: 1 })).nRows, 0);
});

test('tie rule: equal distances go to the lower fit row index', async () => {
  // rows 0..3 are all at distance 1 from row 4 in column a; k = 2 takes rows 0 and 1
  const d = makeMatrix(['a', 'b'], [new Float32Array([1, 3, 1, 3, 2]), new Float32Array([10, 20, 30, 40, NaN])]);
  const out = await knn.impute(d, 0, { ...knn.defaults, n_neighbors: 2 }, { seed: 0, threads: 1 });
  assert.equal(out.columns[1][4], 15);
  const outD = await knn.impute(d, 0, { ...knn.defaults, n_neighbors: 3, weights: 'distance' }, { seed: 0, threads: 1 });
  assert.equal(outD.columns[1][4], 20); // rows 0, 1, 2 with equal weights
});

test('distance weights: a zero-distance donor takes all the weight', async () => {
  const d = makeMatrix(['a', 'b'], [new Float32Array([2, 1, 2, 4]), new Float32Array([NaN, 10, 30, 50])]);
  const out = await knn.impute(d, 0, { ...knn.defaults, n_neighbors: 3, weights: 'distance' }, { seed: 0, threads: 1 });
  assert.equal(out.columns[1][0], 30);
});

test('bad inputs fail fast naming the option or the cell', async () => {
  const d = makeMatrix(['a', 'b'], [new Float32Array([1, Infinity]), new Float32Array([NaN, 2])]);
  await assert.rejects(knn.impute(d, 0, knn.defaults, { seed: 0, threads: 1 }), (err) => {
    assert.match(err.message, /knn: fit column 'a', row 1 \(0-based\) holds an infinite value/);
    assert.equal(err.code, 'HIERIMPUTE_INFINITE_VALUE');
    return true;
  });
  const ok = makeMatrix(['a'], [new Float32Array([1, NaN])]);
  await assert.rejects(
    knn.impute(ok, 0, { ...knn.defaults, n_neighbors: 0 }, { seed: 0, threads: 1 }),
    /knn: option n_neighbors must be an integer in \[1, 1000000000\] \(got 0\)/,
  );
  await assert.rejects(
    knn.impute(ok, 0, { ...knn.defaults, weights: 'cosine' }, { seed: 0, threads: 1 }),
    /knn: option weights must be one of uniform, distance/,
  );
  await assert.rejects(
    mean.impute(ok, 0, { empty_columns: 'drop' }, { seed: 0, threads: 1 }),
    /mean: option empty_columns must be one of error, zero/,
  );
  await assert.rejects(knn.impute(ok, 0, knn.defaults, { seed: 0, threads: -1 }), /knn: threads must be an integer >= 0/);
});
