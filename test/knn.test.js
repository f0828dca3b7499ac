// KNN / mean / median kernels: parity with scikit-learn 1.2.1 (fixtures written by
// scripts/parity/knn_reference.py, no Python needed here; on a tie at the k-th place scikit-learn's
// pick is arbitrary, so there the test checks that it is some choice of the tied donors), the
// documented tie rule against a plain JavaScript reference, edge cases, and bit-identical output
// for any thread count.
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

/** Relative gap under which two distances count as tied at the k-th place (the fixtures' ties are exact). */
const TIE = 1e-9;

/** Imputed value from chosen donors (row indices) under the documented weighting. */
function impute(chosen, col, q, k, weights) {
  if (weights === 'uniform') return chosen.reduce((s, i) => s + col[i], 0) / k;
  const finite = chosen.filter((i) => !Number.isNaN(q[i]));
  const zero = finite.filter((i) => q[i] === 0);
  if (zero.length) return zero.reduce((s, i) => s + col[i], 0) / zero.length;
  let sw = 0;
  let sv = 0;
  for (const i of finite) {
    const w = 1 / Math.sqrt(q[i]);
    sw += w;
    sv += w * col[i];
  }
  return sv / sw;
}

/**
 * Plain reference of the documented semantics and tie rule. Returns, per missing cell, the imputed
 * value and, when the choice is ambiguous (a tie at the k-th place, or more NaN-distance donors than
 * places left), the donors any rule must take (`must`), the tied ones (`tied`) and how many of them
 * it takes (`need`): scikit-learn may take any `need` of the tied donors.
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
      let tie = null;
      if (finite.length === 0) {
        value = donors.reduce((s, i) => s + col[i], 0) / donors.length;
      } else {
        const chosen = finite.slice(0, k);
        const fromNan = nan.slice(0, k - chosen.length);
        if (finite.length > k) {
          const qk = q[finite[k - 1]];
          const tol = TIE * Math.max(qk, 1e-300);
          if (q[finite[k]] - qk <= tol) {
            const must = finite.filter((i) => q[i] < qk - tol);
            tie = { must, tied: finite.filter((i) => Math.abs(q[i] - qk) <= tol), need: k - must.length };
          }
        } else if (weights === 'uniform' && fromNan.length && nan.length > fromNan.length) {
          tie = { must: finite, tied: nan, need: fromNan.length }; // which NaN-distance donors is arbitrary
        }
        value = impute([...chosen, ...fromNan], col, q, k, weights);
      }
      cells.push({ t, j, value, tie, k, q, col });
    }
  }
  return cells;
}

/**
 * Every value a cell with a tie can take, one per choice of `need` tied donors. Tied donors with
 * equal values and distances are interchangeable, so the choices are enumerated as counts per
 * distinct (value, distance).
 */
function tieValues({ tie, k, q, col }, weights) {
  const groups = new Map();
  for (const i of tie.tied) {
    const key = `${col[i]}/${q[i]}`;
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push(i);
  }
  const lists = [...groups.values()];
  const values = [];
  const pick = (g, left, chosen) => {
    if (left === 0) return void values.push(impute([...tie.must, ...chosen], col, q, k, weights));
    if (g === lists.length) return;
    for (let c = Math.min(left, lists[g].length); c >= 0; c--) pick(g + 1, left - c, [...chosen, ...lists[g].slice(0, c)]);
  };
  pick(0, tie.need, []);
  return values;
}

test('knn matches scikit-learn KNNImputer on every fixture cell; on a k-th-place tie, scikit-learn took some of the tied donors', async () => {
  let total = 0;
  let tied = 0;
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
    let caseTied = 0;
    let caseDiffering = 0;
    for (const cell of cells) {
      const { t, j, value, tie } = cell;
      const got = matrix.columns[j][t];
      // our kernel follows the documented rule exactly, ties included
      assert.ok(close(got, value), `${c.name} row ${t} col ${j}: kernel ${got}, JS reference ${value}`);
      const want = expected.columns[j][t];
      if (tie) {
        caseTied++;
        if (!close(got, want)) caseDiffering++;
        // scikit-learn's arbitrary choice among equals is still a choice among the tied donors
        assert.ok(
          tieValues(cell, c.weights).some((v) => close(v, want)),
          `${c.name} row ${t} col ${j}: scikit-learn ${want} is no choice of ${tie.need} of the ${tie.tied.length} tied donors`,
        );
        continue;
      }
      assert.ok(close(got, want), `${c.name} row ${t} col ${j}: hierimpute ${got}, scikit-learn ${want}`);
    }
    // observed cells are returned unchanged (bit for bit)
    for (let j = 0; j < target.columns.length; j++)
      for (let t = 0; t < target.nRows; t++)
        if (!Number.isNaN(target.columns[j][t])) assert.ok(Object.is(matrix.columns[j][t], target.columns[j][t]));
    total += cells.length;
    tied += caseTied;
    tiedDiffering += caseDiffering;
    perCase.push(`${c.name}: ${cells.length} cells, ${caseTied} tied at the k-th place, ${caseDiffering} of them differ`);
    if (c.name.startsWith('iris10')) assert.ok(caseDiffering > 0, `${c.name}: the ties are exercised`);
  }
  console.log(
    `knn parity: ${total} imputed cells compared with scikit-learn ${manifest.sklearn}; equal on every cell without a tie; ` +
      `${tied} tied at the k-th place (${tiedDiffering} differ, each a valid choice among the tied donors)\n  ${perCase.join('\n  ')}`,
  );
  assert.ok(total > 500, 'the fixtures hold enough cells');
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

test('tie rule across fit blocks: the lower row index wins even when its block is scanned later', async () => {
  // 1000 rows x 3 columns. The kernel stores complete rows first (blocks of 512 rows here), so the
  // incomplete rows 5 and 20 are scanned after the complete rows 700 and 701. All four are at the
  // same exact distance q = 3 from the receiver (row 999: a = 0, c = 0, b missing): rows 5 and 20
  // share only column a (3 / 1 x 1^2), rows 700 and 701 share a and c (3 / 2 x (1^2 + 1^2)).
  const n = 1000;
  const a = new Float32Array(n).fill(100);
  const b = new Float32Array(n).fill(0);
  const c = new Float32Array(n).fill(100);
  const set = (i, av, bv, cv) => ((a[i] = av), (b[i] = bv), (c[i] = cv));
  set(5, 1, 50, NaN);
  set(20, -1, 20, NaN);
  set(700, 1, 70, 1);
  set(701, -1, 71, -1);
  set(999, 0, NaN, 0);
  const data = makeMatrix(['a', 'b', 'c'], [a, b, c]);
  const cases = [
    [2, 'uniform', (50 + 20) / 2],
    [3, 'uniform', (50 + 20 + 70) / 3],
    [1, 'uniform', 50],
    [3, 'distance', (50 + 20 + 70) / 3], // equal distances, equal weights
  ];
  for (const [k, weights, want] of cases)
    for (const threads of [1, 2]) {
      const { matrix } = await knnFitTransform(data, data, { n_neighbors: k, weights }, threads);
      assert.equal(matrix.columns[1][999], Math.fround(want), `k=${k} ${weights} threads=${threads}`);
    }
});

test('ties are judged on the float32 values: a tie in the decimal text can be a near-tie that rounding decides', async () => {
  // 0.2 and 0.4 are both 0.1 from 0.3 in decimal, but as float32 values 0.4 is closer
  // (0.0999999940 against 0.1000000089), so it wins although its row index is higher.
  const d = makeMatrix(['a', 'b'], [new Float32Array([0.2, 0.4, 0.3]), new Float32Array([10, 20, NaN])]);
  const out = await knn.impute(d, 0, { ...knn.defaults, n_neighbors: 1 }, { seed: 0, threads: 1 });
  assert.equal(out.columns[1][2], 20);
  // the same decimal tie on a grid that float32 holds exactly (0.25, 0.75 around 0.5) is an exact tie:
  // the lower row index wins
  const e = makeMatrix(['a', 'b'], [new Float32Array([0.25, 0.75, 0.5]), new Float32Array([10, 20, NaN])]);
  const outE = await knn.impute(e, 0, { ...knn.defaults, n_neighbors: 1 }, { seed: 0, threads: 1 });
  assert.equal(outE.columns[1][2], 10);
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
