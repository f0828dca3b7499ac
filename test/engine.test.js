// The hierarchical engine on one rank (no launcher): bands, sweep, prefix cache, checkpoints,
// outputs, invalidation and errors. Every assertion is on values read back from the outputs.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';

import { bandEdges, bandOf } from '../dist/engine/bands.js';
import { presetConfig, validateConfig } from '../dist/engine/config.js';
import { loadDataset } from '../dist/engine/dataset.js';
import { FitCache } from '../dist/engine/fit-cache.js';
import { fitCacheOf, runOneGroup, sequenceNodes } from '../dist/engine/group.js';
import { hierarchicalImpute } from '../dist/engine/hierarchical.js';
import { MemoryStore } from '../dist/engine/store.js';
import { writeSweepIndex } from '../dist/engine/outputs.js';
import { expandSweep, prefixesPerBand, prefixNodeCount } from '../dist/engine/sweep.js';
import { readMatrix } from '../dist/tables/io.js';
import { cacheNodes, f32, makeData, mtimes, quickConfig, readCsv, runCli, sequenceFiles, summary, tempDir, writeConfig } from './helpers/sweep.js';

const DATASETS = { alpha_one: 'alpha-one.csv', beta: 'beta.csv' };
let data;
let out;
let first;

before(async () => {
  data = makeData();
  out = tempDir('hi-out-');
  first = await runCli(['run', '--preset', 'quick', '--data', data, '--out', out, '--progress=false']);
});

test('band edges: cumulative, rounded to 12 decimals, last forced to 1; p on an edge belongs to the lower band', () => {
  const e = bandEdges([...Array(16).fill(0.05), 0.1, 0.1]);
  assert.equal(e.length, 18);
  assert.equal(e[2], 0.15);
  assert.equal(e[15], 0.8);
  assert.equal(e[17], 1);
  assert.equal(bandOf(0, e), 0);
  assert.equal(bandOf(0.05, e), 0);
  assert.equal(bandOf(0.050001, e), 1);
  assert.equal(bandOf(3 / 20, e), 2);
  assert.equal(bandOf(1, e), 17);
});

test('sweep: Cartesian product in order, labels, and the reference preset shape', () => {
  const q = presetConfig('quick');
  const seqs = expandSweep(q);
  assert.deepEqual(
    seqs.map((s) => s.label),
    ['seq_0_knn_knn_xgboost_mean', 'seq_1_knn_knn_xgboost_knn', 'seq_2_knn_iterative_simple_xgboost_mean', 'seq_3_knn_iterative_simple_xgboost_knn'],
  );
  assert.equal(prefixNodeCount(q), 1 + 2 + 2 + 4);
  // The reference design: 18 bands, A–F knn, G iterative_function, H–L xgboost, M–P lstm|rnn, Q–R gan|rnn.
  const ref = presetConfig('seed');
  assert.deepEqual(
    ref.bands.map((b) => b.width),
    [...Array(16).fill(0.05), 0.1, 0.1],
  );
  const all = expandSweep(ref);
  assert.equal(all.length, 64);
  assert.deepEqual(all[0].methods.slice(0, 12), [...Array(6).fill('knn'), 'iterative_function', ...Array(5).fill('xgboost')]);
  assert.deepEqual(all[63].methods.slice(12), ['rnn', 'rnn', 'rnn', 'rnn', 'rnn', 'rnn']);
  assert.equal(all[1].label, 'seq_1_knn_knn_knn_knn_knn_knn_iterative_function_xgboost_xgboost_xgboost_xgboost_xgboost_lstm_lstm_lstm_lstm_gan_rnn');
  assert.equal(prefixNodeCount(ref), 12 + 2 + 4 + 8 + 16 + 32 + 64);
});

test('sequence_description.txt states the edges bandEdges assigns with (last forced to 1); prefixes per band sum to the node count', async () => {
  const q = presetConfig('quick');
  // Widths within the sum tolerance but not summing to exactly 1.
  const config = validateConfig(
    { ...q, bands: q.bands.map((b, i) => ({ ...b, width: i === q.bands.length - 1 ? b.width + 5e-7 : b.width })) },
    'test',
  );
  const dir = tempDir('hi-index-');
  await writeSweepIndex(dir, expandSweep(config), ['d'], config);
  const line = readFileSync(join(dir, 'sequence_description.txt'), 'utf8').split('\n')[1];
  const edges = bandEdges(config.bands.map((b) => b.width));
  assert.equal(edges.at(-1), 1);
  assert.equal(line, `bands (width → cumulative upper edge): ${config.bands.map((b, i) => `${i}: ${b.width} → ${edges[i]}`).join('; ')}`);
  assert.match(line, / → 1$/);
  assert.deepEqual(prefixesPerBand(q), [1, 2, 2, 4]);
  assert.equal(
    prefixesPerBand(q).reduce((a, n) => a + n, 0),
    prefixNodeCount(q),
  );
});

test('run: completes, no NaN, observed cells unchanged, row order and header kept', () => {
  assert.equal(first.code, 0, first.stderr);
  for (const [name, file] of Object.entries(DATASETS)) {
    const input = readCsv(join(data, file));
    for (const seq of expandSweep(presetConfig('quick'))) {
      const got = readCsv(join(out, 'sequences', seq.label, `${name}.csv`));
      assert.deepEqual(got.header, input.header);
      assert.equal(got.rows.length, input.rows.length);
      got.rows.forEach((row, i) => {
        row.forEach((cell, j) => {
          const v = f32(cell);
          assert.ok(Number.isFinite(v), `${seq.label}/${name} row ${i} col ${j}: '${cell}'`);
          const orig = f32(input.rows[i][j] ?? '');
          if (!Number.isNaN(orig)) assert.equal(v, orig, `${seq.label}/${name} row ${i} col ${j} changed`);
        });
      });
    }
  }
});

test('run: band assignment in <dataset>.methods.csv matches an exact recomputation', () => {
  const cfg = presetConfig('quick');
  const edges = bandEdges(cfg.bands.map((b) => b.width));
  for (const [name, file] of Object.entries(DATASETS)) {
    const input = readCsv(join(data, file));
    const k = input.header.length;
    for (const seq of expandSweep(cfg)) {
      const m = readCsv(join(out, 'sequences', seq.label, `${name}.methods.csv`));
      assert.deepEqual(m.header, ['row', 'missing_fraction', 'band', 'method']);
      m.rows.forEach(([row, frac, band, method], i) => {
        const missing = input.rows[i].filter((c) => Number.isNaN(f32(c))).length;
        const p = missing / k;
        let b = 0;
        while (p > edges[b]) b++;
        assert.equal(Number(row), i);
        assert.equal(Number(frac), p);
        assert.equal(Number(band), b);
        assert.equal(method, seq.methods[b]);
      });
    }
  }
});

test('run: groups_computed equals the prefix-tree node count (not sequences × bands); summary and plots written', () => {
  const s = summary(out);
  const nodes = prefixNodeCount(presetConfig('quick'));
  assert.equal(s.groups_empty, 0, 'the generated data fills every band');
  assert.equal(s.groups_computed, nodes * 2);
  assert.equal(s.groups_reused, 4 * 4 * 2 - nodes * 2);
  assert.equal(s.requeues_without_progress, 0);
  assert.equal(s.sequences, 4);
  assert.equal(s.datasets, 2);
  assert.ok(s.wall_s > 0);
  assert.deepEqual(Object.keys(s.seconds_per_method).sort(), ['iterative_simple', 'knn', 'mean', 'xgboost']);
  assert.equal(cacheNodes(out), nodes * 2);
  for (const f of ['plots/time_per_method.svg', 'plots/groups.svg', 'sequences/seq_0_knn_knn_xgboost_mean/beta.bands.svg']) {
    assert.match(readFileSync(join(out, f), 'utf8'), /^<svg[^>]*>/);
  }
  const index = readCsv(join(out, 'imputation_sequence_index.csv'));
  assert.deepEqual(index.header, ['sequence', 'label', 'band_0', 'band_1', 'band_2', 'band_3']);
  assert.equal(index.rows.length, 4);
  assert.match(readFileSync(join(out, 'sequence_description.txt'), 'utf8'), /seq_3_knn_iterative_simple_xgboost_knn/);
  const manifest = JSON.parse(readFileSync(join(out, 'sequences', 'seq_1_knn_knn_xgboost_knn', 'methods_manifest.json'), 'utf8'));
  assert.deepEqual(manifest.methods, ['knn', 'knn', 'xgboost', 'knn']);
  assert.deepEqual(manifest.widths, [0.1, 0.2, 0.3, 0.4]);
  assert.equal(manifest.datasets.beta.nodes.length, 4);
  assert.match(manifest.datasets.beta.input_hash, /^[0-9a-f]{64}$/);
});

test('hierarchicalImpute (one call, in memory) gives exactly the sweep output: one implementation of the band rule', async () => {
  const cfg = presetConfig('quick');
  const m = await readMatrix(join(data, 'beta.csv'));
  const seq = expandSweep(cfg)[2];
  const r = await hierarchicalImpute(m, cfg, seq.methods);
  const swept = await readMatrix(join(out, 'sequences', seq.label, 'beta.csv'));
  for (let j = 0; j < m.columns.length; j++) assert.deepEqual(Array.from(r.matrix.columns[j]), Array.from(swept.columns[j]), `column ${j}`);
});

test('second run computes nothing and rewrites nothing', async () => {
  const before = mtimes(out);
  const bytes = sequenceFiles(out);
  const r = await runCli(['run', '--preset', 'quick', '--data', data, '--out', out, '--progress=false']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(summary(out).groups_computed, 0);
  assert.deepEqual(mtimes(out), before);
  assert.deepEqual(sequenceFiles(out), bytes);
});

test('a changed width recomputes only from the changed band on; a changed input only its own dataset', async () => {
  const d2 = makeData();
  const o2 = tempDir('hi-out-');
  const base = writeConfig(o2, quickConfig(), 'base.json');
  let r = await runCli(['run', '--config', base, '--data', d2, '--out', o2, '--progress=false']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(summary(o2).groups_computed, 18);
  const changed = quickConfig();
  changed.bands[2].width = 0.35;
  changed.bands[3].width = 0.35;
  const cfg2 = writeConfig(o2, changed, 'changed.json');
  r = await runCli(['run', '--config', cfg2, '--data', d2, '--out', o2, '--progress=false']);
  assert.equal(r.code, 0, r.stderr);
  // bands 0 and 1 keep their edges; band 2 (2 prefixes) and band 3 (4 prefixes) are new, per dataset.
  assert.equal(summary(o2).groups_computed, (2 + 4) * 2);
  // Change one observed cell of beta.csv: all 9 of its nodes are recomputed, alpha_one's none.
  const p = join(d2, 'beta.csv');
  const lines = readFileSync(p, 'utf8').split('\n');
  const cells = lines[1].split(',');
  const j = cells.findIndex((c) => c !== '');
  cells[j] = String(Number(cells[j]) + 1);
  lines[1] = cells.join(',');
  writeFileSync(p, lines.join('\n'));
  r = await runCli(['run', '--config', cfg2, '--data', d2, '--out', o2, '--progress=false']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(summary(o2).groups_computed, 9);
  const out2 = readCsv(join(o2, 'sequences', 'seq_0_knn_knn_xgboost_mean', 'beta.csv'));
  assert.equal(f32(out2.rows[0][j]), f32(cells[j]));
});

test('band_all_missing: global_mean (the reference) fills a band-unobserved column with the global mean; impute learns it', async () => {
  // Column c is observed only in complete rows (band 0); band 1 rows all miss c and one other cell.
  const rows = ['a,b,c'];
  for (let i = 0; i < 30; i++) rows.push(`${i},${2 * i},${3 * i}`);
  for (let i = 0; i < 10; i++) rows.push(`${i + 0.5},${2 * i + 1},`);
  const d = tempDir('hi-bam-');
  writeFileSync(join(d, 't.csv'), rows.join('\n') + '\n');
  const m = await readMatrix(join(d, 't.csv'));
  const mk = (mode) =>
    validateConfig(
      {
        bands: [
          { width: 0.3, methods: ['knn'] },
          { width: 0.7, methods: ['knn'] },
        ],
        band_all_missing: mode,
      },
      'test',
    );
  const ref = await hierarchicalImpute(m, mk('global_mean'), ['knn', 'knn']);
  const ours = await hierarchicalImpute(m, mk('impute'), ['knn', 'knn']);
  const mean = Math.fround((3 * 29 * 30) / 2 / 30);
  for (let i = 30; i < 40; i++) assert.equal(ref.matrix.columns[2][i], mean);
  // KNN from earlier bands: neighbours by (a, b) give c ≈ 3a, far closer to the truth than the mean.
  let errRef = 0;
  let errOurs = 0;
  for (let i = 30; i < 40; i++) {
    const truth = 3 * (i - 30 + 0.5);
    errRef += (ref.matrix.columns[2][i] - truth) ** 2;
    errOurs += (ours.matrix.columns[2][i] - truth) ** 2;
  }
  assert.ok(errOurs < errRef / 4, `impute ${errOurs} vs global_mean ${errRef}`);
});

test('bad configs fail with the band named and write nothing', async () => {
  const d = makeData();
  const cases = [
    [
      {
        bands: [
          { width: 0.5, methods: ['knn'] },
          { width: 0.4, methods: ['mean'] },
        ],
      },
      /sum to 0\.9/,
    ],
    [
      {
        bands: [
          { width: 0.5, methods: ['knn'] },
          { width: 0.5, methods: ['bogus'] },
        ],
      },
      /band 1 \(of 2\): unknown method 'bogus'; available methods: mean, median, knn/,
    ],
    [{ bands: [] }, /"bands" must be a non-empty list/],
    [{ bands: [{ width: -1, methods: ['knn'] }] }, /band 0 \(of 1\): width must be a number in \(0, 1\]/],
    [{ bands: [{ width: 1, methods: ['knn'] }], params: { knn: { n_neighbours: 3 } } }, /params\.knn: .*unknown parameter 'n_neighbours'/],
  ];
  for (const [cfg, re] of cases) {
    const o = join(tempDir('hi-bad-'), 'out');
    const c = writeConfig(tempDir('hi-cfg-'), cfg);
    const r = await runCli(['run', '--config', c, '--data', d, '--out', o]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, re);
    assert.equal(existsSync(o), false, 'no output folder for a bad config');
  }
  const y = writeConfig(tempDir('hi-cfg-'), 'bands:\n  - width: 1\n    methods: [median]\nseed: 3\n', 'c.yaml');
  assert.equal(validateConfig({ bands: [{ width: 1, methods: ['median'] }], seed: 3 }, 'x').seed, 3);
  const r = await runCli(['sequences', '--config', y]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /seq_0_median/);
});

test('bad data: the failing table is named with line and column, the others complete, exit non-zero', async () => {
  const d = makeData();
  writeFileSync(join(d, 'broken.csv'), 'x,y\n1,2\n3,oops\n');
  // ±inf is found at load, by the reader: the file line (the blank line counts), not a row index
  writeFileSync(join(d, 'infinite.csv'), 'x,y\n1,2\n\n3,inf\n,4\n');
  const o = tempDir('hi-out-');
  const r = await runCli(['run', '--preset', 'quick', '--data', d, '--out', o, '--progress=false']);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /broken/);
  assert.match(r.stderr, /line 3/);
  assert.match(r.stderr, /oops/);
  assert.ok(r.stderr.includes(`${join(d, 'infinite.csv')}, line 4, column 'y' (#2): "inf" is an infinite value`), r.stderr);
  assert.equal(existsSync(join(o, 'sequences', 'seq_0_knn_knn_xgboost_mean', 'broken.csv')), false);
  assert.equal(existsSync(join(o, 'sequences', 'seq_0_knn_knn_xgboost_mean', 'beta.csv')), true);
  assert.deepEqual(Object.keys(summary(o).failed_datasets).sort(), ['broken', 'infinite']);
});

test('--lock-lease / HIERIMPUTE_LOCK_LEASE: validated, the flag wins over the variable', async () => {
  const { lockLeaseMs } = await import('../dist/cli/commands/run.js');
  const { DEFAULT_LEASE_MS } = await import('../dist/locks/index.js');
  assert.equal(lockLeaseMs(undefined), DEFAULT_LEASE_MS);
  assert.equal(lockLeaseMs(2.5), 2500);
  for (const bad of [0, 0.5, -3, NaN, Infinity, 8 * 24 * 3600])
    assert.throws(() => lockLeaseMs(bad), /--lock-lease must be a number of seconds in \[1, 604800\]/);
  const o = tempDir('hi-lease-');
  let r = await runCli(['run', '--preset', 'quick', '--data', data, '--out', o, '--progress=false', '--lock-lease', '0']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /--lock-lease must be a number of seconds in \[1, 604800\] \(got 0\)/);
  r = await runCli(['run', '--preset', 'quick', '--data', data, '--out', o, '--progress=false'], { env: { HIERIMPUTE_LOCK_LEASE: 'soon' } });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /HIERIMPUTE_LOCK_LEASE=soon: expected a number/);
  r = await runCli(['run', '--preset', 'quick', '--data', data, '--out', o, '--progress=false'], { env: { HIERIMPUTE_LOCK_LEASE: '0.1' } });
  assert.match(r.stderr, /--lock-lease must be a number of seconds .*\(got 0\.1\)/);
  r = await runCli(['run', '--preset', 'quick', '--data', data, '--out', o, '--progress=false', '--lock-lease', '30'], {
    env: { HIERIMPUTE_LOCK_LEASE: '0.1' },
  });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(sequenceFiles(o), sequenceFiles(out), 'the lease never changes the outputs');
});

test('fit cache: a branch continues in place, a sibling copies its parent, a missing parent is rebuilt, the budget evicts', async () => {
  const col = (...v) => Float32Array.from(v);
  const noRebuild = async () => assert.fail('rebuilt a cached parent');
  const cache = new FitCache(1 << 20);
  const a = await cache.acquire(null, 0, [col(1, NaN), col(NaN, 2)], 6, noRebuild);
  assert.equal(a.targetStart, 0);
  assert.deepEqual(
    a.columns.map((c) => Array.from(c)),
    [
      [1, NaN],
      [NaN, 2],
    ],
  );
  a.commit('k0', [col(1, 5), col(7, 2)]);
  // band 1 of the same branch: in place, the parent's result then the band's rows
  const b = await cache.acquire('k0', 2, [col(NaN), col(3)], 6, noRebuild);
  assert.equal(b.cached, true);
  assert.equal(b.targetStart, 2);
  assert.deepEqual(
    b.columns.map((c) => Array.from(c)),
    [
      [1, 5, NaN],
      [7, 2, 3],
    ],
  );
  b.commit('k1', [col(4), col(3)]);
  assert.equal(cache.hits, 1);
  // a sibling of band 1: its parent's columns now hold k1, so it copies k0's rows
  const s1 = await cache.acquire('k0', 2, [col(9), col(NaN)], 6, noRebuild);
  assert.deepEqual(
    s1.columns.map((c) => Array.from(c)),
    [
      [1, 5, 9],
      [7, 2, NaN],
    ],
  );
  assert.equal(cache.copies, 1);
  s1.release();
  // k1 was left intact by its sibling
  const c = await cache.acquire('k1', 3, [col(NaN), col(NaN)], 6, noRebuild);
  assert.deepEqual(
    c.columns.map((x) => Array.from(x)),
    [
      [1, 5, 4, NaN],
      [7, 2, 3, NaN],
    ],
  );
  // while in use, a node continuing the same prefix copies instead of sharing
  const d = await cache.acquire('k1', 3, [col(8), col(8)], 6, noRebuild);
  assert.deepEqual(
    d.columns.map((x) => Array.from(x)),
    [
      [1, 5, 4, 8],
      [7, 2, 3, 8],
    ],
  );
  assert.deepEqual(
    c.columns.map((x) => Array.from(x)),
    [
      [1, 5, 4, NaN],
      [7, 2, 3, NaN],
    ],
  );
  c.release();
  d.release();
  // an unknown parent is rebuilt from the store's parts, in band order
  const r = await cache.acquire('gone', 3, [col(0), col(0)], 6, async () => [
    [col(1, 2), col(3, 4)],
    [col(5), col(6)],
  ]);
  assert.equal(r.cached, false);
  assert.deepEqual(
    r.columns.map((x) => Array.from(x)),
    [
      [1, 2, 5, 0],
      [3, 4, 6, 0],
    ],
  );
  r.commit(null, [col(0), col(0)]);
  await assert.rejects(
    cache.acquire('gone', 3, [col(0), col(0)], 6, async () => [[col(1), col(3)]]),
    /hold 1 rows, expected 3/,
  );
  // a budget below one branch keeps nothing once the node is done
  const tiny = new FitCache(10);
  const t = await tiny.acquire(null, 0, [col(1)], 4, noRebuild);
  assert.equal(tiny.bytes, 16);
  t.commit('t0', [col(1)]);
  assert.equal(tiny.size, 0);
  assert.equal(tiny.bytes, 0);
});

test('fit cache: a sweep gives bit-identical node results with the cache and with every fit rebuilt from the store', async () => {
  const cfg = validateConfig(
    {
      bands: [
        { width: 0.1, methods: ['knn'] },
        { width: 0.15, methods: ['mean', 'knn'] },
        { width: 0.05, methods: ['median'] },
        { width: 0.2, methods: ['knn', 'iterative_simple'] },
        { width: 0.5, methods: ['mean', 'median'] },
      ],
      params: { iterative_simple: { max_iter: 3 } },
    },
    'test',
  );
  const edges = bandEdges(cfg.bands.map((b) => b.width));
  const ds = await loadDataset('alpha_one', join(data, 'alpha-one.csv'), edges);
  const seqs = expandSweep(cfg);
  const run = async (rebuildEveryTime) => {
    const store = new MemoryStore();
    let queue = seqs.map((q) => q.methods);
    while (queue.length > 0) {
      const next = [];
      for (const methods of queue) {
        if (rebuildEveryTime) fitCacheOf(store).clear();
        const r = await runOneGroup({ config: cfg, store, threads: 1 }, ds, methods);
        if (!r.done) next.push(methods);
      }
      queue = next;
    }
    return { store, cache: fitCacheOf(store) };
  };
  const cached = await run(false);
  const rebuilt = await run(true);
  assert.ok(cached.cache.hits > 0, 'branches were continued from the cache');
  assert.equal(rebuilt.cache.hits + rebuilt.cache.copies, 0);
  let nodes = 0;
  for (const q of seqs) {
    for (const node of sequenceNodes(ds, cfg, q.methods)) {
      if (ds.bands.rows[node.band].length === 0) continue;
      const x = await cached.store.read(node);
      const y = await rebuilt.store.read(node);
      x.columns.forEach((c, j) =>
        assert.deepEqual(
          new Uint8Array(c.buffer, c.byteOffset, c.byteLength),
          new Uint8Array(y.columns[j].buffer, y.columns[j].byteOffset, y.columns[j].byteLength),
        ),
      );
      nodes++;
    }
  }
  assert.ok(nodes > 10);
});
