// Named variants in the run configuration: a method with its own parameters, usable wherever a
// method name is. Validation errors name the variant; a variant's parameters enter the node keys
// (two variants of one method never share a node); a configuration without variants keeps the
// node keys it always had.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import { bandEdges } from '../dist/engine/bands.js';
import { validateConfig } from '../dist/engine/config.js';
import { hierarchicalImpute } from '../dist/engine/hierarchical.js';
import { canonicalJson, nodeKey, sha256 } from '../dist/engine/keys.js';
import { expandSweep } from '../dist/engine/sweep.js';
import { readMatrix } from '../dist/tables/io.js';
import { linearTable } from './helpers/linear-data.js';
import { readCsv, runCli, tempDir, writeConfig } from './helpers/sweep.js';

const base = () => ({
  bands: [
    { width: 0.2, methods: ['knn'] },
    { width: 0.8, methods: ['knn', 'knn10', 'mean'] },
  ],
  seed: 1,
  params: { knn: { n_neighbors: 3 } },
  variants: { knn10: { method: 'knn', n_neighbors: 10 } },
});

test('variants: validated over the method defaults; usable in band lists; labels carry the variant name', () => {
  const cfg = validateConfig(base(), 'test');
  assert.deepEqual(Object.keys(cfg.variants), ['knn10']);
  assert.equal(cfg.variants.knn10.method, 'knn');
  assert.equal(cfg.variants.knn10.params.n_neighbors, 10);
  assert.deepEqual(cfg.params.knn.n_neighbors, 3, 'the plain method keeps its own params');
  assert.deepEqual(
    expandSweep(cfg).map((s) => s.label),
    ['seq_0_knn_knn', 'seq_1_knn_knn10', 'seq_2_knn_mean'],
  );
  // Unused variants are dropped like unused params; none used = no `variants` key at all.
  const plain = validateConfig({ ...base(), bands: [{ width: 1, methods: ['knn'] }] }, 'test');
  assert.equal('variants' in plain, false);
});

test('variants: errors name the variant (unknown option, unknown base method, clashes, bad name, params of a variant)', () => {
  const bad = (variants, re, extra = {}) => assert.throws(() => validateConfig({ ...base(), variants, ...extra }, 'cfg'), re);
  bad({ knn10: { method: 'knn', n_neighbour: 10 } }, /cfg: variants\.knn10: method 'knn': unknown parameter 'n_neighbour'/);
  bad({ knn10: { method: 'knnn', n_neighbors: 10 } }, /cfg: variants\.knn10: unknown method 'knnn'/);
  bad({ knn10: { n_neighbors: 10 } }, /cfg: variants\.knn10: "method" .* is required/);
  bad({ knn10: { method: 'knn', n_neighbors: 'ten' } }, /variants\.knn10: .*n_neighbors expects an integer/);
  bad({ knn10: { method: 'knn' }, mean: { method: 'knn', n_neighbors: 4 } }, /variants\.mean: the variant name clashes with the method 'mean'/);
  bad({ knn10: { method: 'knn' }, KNN: { method: 'knn' } }, /variants\.KNN: the variant name clashes with the method 'knn'/);
  bad({ knn10: { method: 'knn' }, KNN10: { method: 'mean' } }, /variants\.KNN10: the variant name clashes with the variant 'knn10'/);
  bad({ knn10: { method: 'knn' }, 'a/b': { method: 'mean' } }, /variants\.a\/b: a variant name is a letter/);
  bad({ knn10: { method: 'knn' } }, /params\.knn10: 'knn10' is a variant; give its options under variants\.knn10/, {
    params: { knn10: { n_neighbors: 4 } },
  });
  bad([], /"variants" must be an object/);
  // A band naming an undefined variant is an unknown method, named with its band.
  assert.throws(() => validateConfig({ bands: [{ width: 1, methods: ['knn11'] }] }, 'cfg'), /cfg: band 0 \(of 1\): unknown method 'knn11'/);
});

const oldKey = (hash, cfg, edges, methods, b) =>
  sha256(
    `${hash}\n${canonicalJson({ v: 1, edges: edges.slice(0, b + 1), methods: methods.slice(0, b + 1), params: methods.slice(0, b + 1).map((m) => cfg.params[m] ?? {}), seed: cfg.seed, band_all_missing: cfg.band_all_missing })}`,
  ).slice(0, 32);

test('node keys: unchanged for plain methods; two variants of one method (or a variant and its method) never share a node', () => {
  const cfg = validateConfig(base(), 'test');
  const edges = bandEdges(cfg.bands.map((b) => b.width));
  const h = 'f'.repeat(64);
  // Plain methods: the key formula of configurations without variants, byte for byte.
  for (const methods of [
    ['knn', 'knn'],
    ['knn', 'mean'],
  ])
    for (const b of [0, 1]) assert.equal(nodeKey(h, cfg, edges, methods, b), oldKey(h, cfg, edges, methods, b));
  const noVariants = validateConfig(
    {
      ...base(),
      bands: [
        { width: 0.2, methods: ['knn'] },
        { width: 0.8, methods: ['knn', 'mean'] },
      ],
      variants: undefined,
    },
    'test',
  );
  assert.equal(nodeKey(h, noVariants, edges, ['knn', 'mean'], 1), oldKey(h, noVariants, edges, ['knn', 'mean'], 1));
  // Variants: distinct from each other and from the plain method even with equal parameters.
  const two = validateConfig(
    {
      bands: [{ width: 1, methods: ['knn', 'k5a', 'k5b', 'k7'] }],
      variants: { k5a: { method: 'knn', n_neighbors: 5 }, k5b: { method: 'knn', n_neighbors: 5 }, k7: { method: 'knn', n_neighbors: 7 } },
    },
    'test',
  );
  const keys = ['knn', 'k5a', 'k5b', 'k7'].map((m) => nodeKey(h, two, [1], [m], 0));
  assert.equal(new Set(keys).size, 4);
  // Changing a variant's parameter changes its key, and only its key.
  const two8 = validateConfig(
    {
      ...two,
      bands: two.bands,
      variants: { k5a: { method: 'knn', n_neighbors: 5 }, k5b: { method: 'knn', n_neighbors: 5 }, k7: { method: 'knn', n_neighbors: 8 } },
    },
    'test',
  );
  assert.deepEqual(
    ['knn', 'k5a', 'k5b', 'k7'].map((m) => nodeKey(h, two8, [1], [m], 0) === nodeKey(h, two, [1], [m], 0)),
    [true, true, true, false],
  );
});

test('a variant imputes with its own parameters: the same table as its method configured with them', async () => {
  const dir = tempDir('hi-var-');
  writeFileSync(join(dir, 't.csv'), linearTable({ rows: 120, seed: 4 }));
  const table = await readMatrix(join(dir, 't.csv'));
  const viaVariant = await hierarchicalImpute(
    table,
    validateConfig({ bands: [{ width: 1, methods: ['knn10'] }], variants: { knn10: { method: 'knn', n_neighbors: 10 } } }, 't'),
    ['knn10'],
  );
  const viaParams = await hierarchicalImpute(
    table,
    validateConfig({ bands: [{ width: 1, methods: ['knn'] }], params: { knn: { n_neighbors: 10 } } }, 't'),
    ['knn'],
  );
  const viaDefault = await hierarchicalImpute(table, validateConfig({ bands: [{ width: 1, methods: ['knn'] }] }, 't'), ['knn']);
  viaVariant.matrix.columns.forEach((c, j) => assert.deepEqual([...c], [...viaParams.matrix.columns[j]], `column ${j}`));
  assert.ok(
    viaVariant.matrix.columns.some((c, j) => c.some((v, i) => v !== viaDefault.matrix.columns[j][i])),
    'n_neighbors=10 differs from the default',
  );
});

test('run with variants (YAML): folders, manifests, leaderboard and baselines carry the variant name', async () => {
  const data = tempDir('hi-var-data-');
  writeFileSync(join(data, 'lin.csv'), linearTable({ rows: 160, seed: 5 }));
  const yaml = `bands:\n  - {width: 0.2, methods: [knn]}\n  - {width: 0.8, methods: [knn, knn10, mean]}\nseed: 1\nvariants:\n  knn10: {method: knn, n_neighbors: 10}\n`;
  const cfg = writeConfig(tempDir('hi-var-cfg-'), yaml, 'sweep.yaml');
  const out = tempDir('hi-var-out-');
  const r = await runCli(['run', '--config', cfg, '--data', data, '--out', out, '--progress=false', '--evaluate']);
  assert.equal(r.code, 0, r.stderr);
  const manifest = JSON.parse(readFileSync(join(out, 'sequences', 'seq_1_knn_knn10', 'methods_manifest.json'), 'utf8'));
  assert.deepEqual(manifest.methods, ['knn', 'knn10']);
  assert.equal(manifest.params.knn10.method, 'knn');
  assert.equal(manifest.params.knn10.n_neighbors, 10);
  assert.equal(manifest.params.knn.n_neighbors, 5);
  assert.notEqual(
    manifest.datasets.lin.nodes[1],
    JSON.parse(readFileSync(join(out, 'sequences', 'seq_0_knn_knn', 'methods_manifest.json'), 'utf8')).datasets.lin.nodes[1],
  );
  const labels = readCsv(join(out, 'leaderboard.csv'))
    .rows.map((row) => row[2])
    .sort();
  assert.deepEqual(labels, ['baseline_knn', 'baseline_knn10', 'baseline_mean', 'seq_0_knn_knn', 'seq_1_knn_knn10', 'seq_2_knn_mean']);
  // No --holdout-repeats: the measured default of 3 masked copies, each swept.
  const ev = JSON.parse(readFileSync(join(out, 'evaluation.json'), 'utf8'));
  assert.equal(ev.holdout_repeats, 3);
  assert.ok(['lin', 'lin.holdout1', 'lin.holdout2'].every((n) => existsSync(join(out, 'sequences', 'seq_0_knn_knn', `${n}.csv`))));
  // A duplicate YAML key (two variants of the same name) is an error naming the file.
  const dup = writeConfig(tempDir('hi-var-cfg-'), `${yaml}  knn10: {method: knn, n_neighbors: 4}\n`, 'dup.yaml');
  const d = await runCli(['run', '--config', dup, '--data', data, '--out', tempDir('hi-var-out-'), '--progress=false']);
  assert.notEqual(d.code, 0);
  assert.match(d.stderr, /dup\.yaml: not valid YAML: duplicated mapping key/);
});
