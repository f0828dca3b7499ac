// Band-wise beam search (src/eval/beam.ts): the decisions on scripted scores; against the full
// product on real runs (same tables, same scores, the kept prefixes are the best by an independent
// computation of the prefix score); nodes computed; identical under mpiexec -n 3; the plan
// `sequences --beam` prints; errors.
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';

import { validateConfig } from '../dist/engine/config.js';
import { BeamSearch, beamShape } from '../dist/eval/beam.js';
import { mpirun } from './helpers/mpirun.js';
import { cacheNodes, f32, main, makeData, readCsv, runCli, summary, tempDir, writeConfig } from './helpers/sweep.js';

const METHODS = ['mean', 'knn', 'iterative_simple'];
/** 3 bands × 3 methods: 27 sequences, 3 + 9 + 27 = 39 prefix-tree nodes per dataset. */
const CONFIG = {
  bands: [
    { width: 0.3, methods: METHODS },
    { width: 0.3, methods: METHODS },
    { width: 0.4, methods: METHODS },
  ],
  seed: 3,
  params: { iterative_simple: { max_iter: 3 } },
};
const DATASETS = ['alpha_one', 'beta'];

let data;
let cfgPath;
let full;
let beam2;

// One holdout repeat: the independent check of the prefix scores below reads repeat 0's mask.
const evalArgs = (out, extra = []) => [
  'run',
  '--config',
  cfgPath,
  '--data',
  data,
  '--out',
  out,
  '--progress=false',
  '--evaluate',
  '--holdout-seed',
  '5',
  '--holdout-repeats',
  '1',
  ...extra,
];
const lines = (p) => readFileSync(p, 'utf8').trimEnd().split('\n');
const leaderboard = (out) => {
  const { header, rows } = readCsv(join(out, 'leaderboard.csv'));
  const at = (name) => header.indexOf(name);
  return rows.map((r) => ({ dataset: r[at('dataset')], label: r[at('label')], nrmse: Number(r[at('nrmse')]), id: Number(r[at('sequence_id')]) }));
};

before(async () => {
  data = makeData(tempDir('hi-beam-data-'), { rows: 200, seed: 21 });
  cfgPath = writeConfig(tempDir('hi-beam-cfg-'), CONFIG);
  full = tempDir('hi-beam-full-');
  let r = await runCli(evalArgs(full));
  assert.equal(r.code, 0, r.stderr);
  beam2 = tempDir('hi-beam-k2-');
  r = await runCli(evalArgs(beam2, ['--beam', '2']));
  assert.equal(r.code, 0, r.stderr);
});

// --- decisions on scripted scores ---------------------------------------------------------

const copy = (dataset, repeat) => ({ dataset: { name: dataset }, repeat, name: repeat ? `${dataset}.holdout${repeat}` : dataset });
const reply = (score, bandRows = [10, 10, 10]) => ({
  seq_idx: -1,
  dataset: '',
  done: true,
  progressed: true,
  outcome: 'computed',
  band: 0,
  next: -1,
  bandRows,
  score,
});

test('beam decisions: the K best prefixes by mean score over the copies, ties by sequence index, a missing score last', () => {
  const config = validateConfig(CONFIG, 'test');
  const search = new BeamSearch(config, [copy('d', 0), copy('d', 1)], 2);
  const stage0 = search.initialItems();
  // Band 0 has 3 candidates > K = 2: scored, on both copies.
  assert.deepEqual(
    stage0.map((i) => `${i.dataset}:${i.methods.join('+')}:${i.score}`),
    ['d:mean:true', 'd.holdout1:mean:true', 'd:knn:true', 'd.holdout1:knn:true', 'd:iterative_simple:true', 'd.holdout1:iterative_simple:true'],
  );
  // Means: mean 0.5, knn 0.25 (tied with iterative_simple, which comes later in the product), iterative_simple 0.25.
  const scores = { mean: [0.5, 0.5], knn: [0.125, 0.375], iterative_simple: [0.25, 0.25] };
  let next = [];
  for (const item of stage0) {
    const more = search.onDone(item, reply(scores[item.methods[0]][item.dataset === 'd' ? 0 : 1]));
    if (item !== stage0.at(-1)) assert.deepEqual(more, [], 'no stage starts before every candidate is scored');
    else next = more;
  }
  assert.deepEqual(
    search.trace().d[0].kept.map((k) => k.prefix),
    ['knn', 'iterative_simple'],
  );
  assert.equal(next.length, 2 * 3 * 2);
  assert.deepEqual(
    [...new Set(next.map((i) => i.methods.join('+')))],
    ['knn+mean', 'knn+knn', 'knn+iterative_simple', 'iterative_simple+mean', 'iterative_simple+knn', 'iterative_simple+iterative_simple'],
  );
  // Band 1: one candidate without hidden cells (null) ranks last; band 2 (the last) gets complete sequences with labels.
  const s1 = {
    'knn+mean': 0.5,
    'knn+knn': null,
    'knn+iterative_simple': 0.2,
    'iterative_simple+mean': 0.9,
    'iterative_simple+knn': 0.25,
    'iterative_simple+iterative_simple': 0.7,
  };
  let last = [];
  for (const item of next) last = search.onDone(item, reply(s1[item.methods.join('+')]));
  assert.deepEqual(
    search.trace().d[1].kept.map((k) => k.prefix),
    ['knn+iterative_simple', 'iterative_simple+knn'],
  );
  assert.equal(last.length, 2 * 3 * 2);
  assert.ok(last.every((i) => i.label && !i.score && i.methods.length === 3));
  assert.equal(last.find((i) => i.methods.join('+') === 'knn+iterative_simple+mean').label, 'seq_15_knn_iterative_simple_mean');
  for (const item of last) assert.deepEqual(search.onDone(item, reply(undefined)), []);
  assert.deepEqual(
    search.finalists('d').map((m) => m.join('+')),
    [
      'knn+iterative_simple+mean',
      'knn+iterative_simple+knn',
      'knn+iterative_simple+iterative_simple',
      'iterative_simple+knn+mean',
      'iterative_simple+knn+knn',
      'iterative_simple+knn+iterative_simple',
    ],
  );
});

test('beam decisions: a band with at most K candidates is not scored; a band without rows keeps one alternative per parent', () => {
  const config = validateConfig(CONFIG, 'test');
  // K = 3: band 0's 3 candidates are all kept, so the first items are band 1's 9 candidates.
  const wide = new BeamSearch(config, [copy('d', 0)], 3);
  const items = wide.initialItems();
  assert.equal(items.length, 9);
  assert.ok(items.every((i) => i.methods.length === 2 && i.score));
  assert.equal(wide.trace().d[0].ranked, false);
  // K = 2 with band 1 empty in the only copy: of each kept parent only band 1's first alternative
  // goes on; that leaves 2 prefixes, no more than K, so band 1 needs no decision and band 2's
  // complete sequences come at once.
  const narrow = new BeamSearch(config, [copy('d', 0)], 2);
  let next = [];
  for (const item of narrow.initialItems())
    next = narrow.onDone(item, reply({ mean: 0.1, knn: 0.2, iterative_simple: 0.3 }[item.methods[0]], [10, 0, 10]));
  assert.deepEqual(
    narrow.trace().d[1].kept.map((k) => k.prefix),
    ['mean+mean', 'knn+mean'],
  );
  assert.equal(narrow.trace().d[1].ranked, false);
  assert.equal(next.length, 6);
  assert.ok(next.every((i) => i.methods.length === 3 && i.label && i.methods[1] === 'mean'));
  // The search is over only when every complete sequence has finished.
  next.slice(0, -1).forEach((item) => narrow.onDone(item, reply(undefined, [10, 0, 10])));
  assert.deepEqual(narrow.finalists('d'), []);
  narrow.onDone(next.at(-1), reply(undefined, [10, 0, 10]));
  assert.equal(narrow.finalists('d').length, 6);
});

test('beamShape: nodes per band and the full product', () => {
  const shape = beamShape(validateConfig(CONFIG, 'test'), 2);
  assert.deepEqual(
    shape.bands.map((b) => [b.candidates, b.kept]),
    [
      [3, 2],
      [6, 2],
      [6, 6],
    ],
  );
  assert.equal(shape.nodes, 15);
  assert.equal(shape.sequences, 6);
  assert.equal(shape.fullSequences, 27n);
  assert.equal(shape.fullNodes, 39n);
});

// --- against the full product --------------------------------------------------------------

test('a beam at least as wide as every band: the same leaderboard, best sequences and tables as the full product', async () => {
  const out = tempDir('hi-beam-k9-');
  const r = await runCli(evalArgs(out, ['--beam', '9']));
  assert.equal(r.code, 0, r.stderr);
  for (const f of ['leaderboard.csv', 'best_sequences.csv', 'imputation_sequence_index.csv'])
    assert.ok(readFileSync(join(out, f)).equals(readFileSync(join(full, f))), `${f} differs from the full product's`);
  assert.equal(summary(out).groups_computed, summary(full).groups_computed);
});

/** nRMSE over the hidden cells in rows of bands 0..last, from a table, the mask, the band of each row and the unmasked input. */
function prefixScore(tablePath, maskPath, methodsPath, inputPath, last) {
  const table = readCsv(tablePath).rows.map((r) => r.map(f32));
  const input = readCsv(inputPath).rows.map((r) => r.map(f32));
  const band = readCsv(methodsPath).rows.map((r) => Number(r[2]));
  const k = input[0].length;
  const sd = Array.from({ length: k }, (_, j) => {
    const v = input.map((r) => r[j]).filter((x) => !Number.isNaN(x));
    const m = v.reduce((a, b) => a + b, 0) / v.length;
    return Math.sqrt(v.reduce((a, x) => a + (x - m) ** 2, 0) / v.length);
  });
  const sse = new Array(k).fill(0);
  const n = new Array(k).fill(0);
  for (const [row, col, value] of readCsv(maskPath).rows.map((r) => r.map(Number))) {
    if (band[row] > last) continue;
    sse[col] += (table[row][col] - Math.fround(value)) ** 2;
    n[col]++;
  }
  const per = sse.map((s, j) => (n[j] > 0 && sd[j] > 0 ? Math.sqrt(s / n[j]) / sd[j] : NaN)).filter((x) => !Number.isNaN(x));
  return per.reduce((a, b) => a + b, 0) / per.length;
}

test('beam of 2: the kept prefixes are the best by prefix score; its sequences are the full product’s, byte for byte; 15 nodes per dataset', () => {
  const trace = JSON.parse(readFileSync(join(beam2, 'beam.json'), 'utf8'));
  const inputs = { alpha_one: 'alpha-one.csv', beta: 'beta.csv' };
  for (const d of DATASETS) {
    const stages = trace.datasets[d];
    assert.deepEqual(
      stages.map((s) => [s.band, s.candidates, s.kept.length, s.ranked]),
      [
        [0, 3, 2, true],
        [1, 6, 2, true],
      ],
    );
    // Independently: each candidate prefix's score from the full product's complete tables
    // (bands after the prefix do not change the prefix's rows). Band 0: all 3 prefixes.
    const score = (prefix) => {
      const label = leaderboard(full).find(
        (r) =>
          r.dataset === d &&
          r.label.startsWith('seq_') &&
          r.label
            .split('_')
            .slice(2)
            .join('_')
            .startsWith(`${prefix.join('_')}_`),
      )?.label;
      return prefixScore(
        join(full, 'sequences', label, `${d}.csv`),
        join(full, 'holdout', `${d}.mask.csv`),
        join(full, 'sequences', label, `${d}.methods.csv`),
        join(data, inputs[d]),
        prefix.length - 1,
      );
    };
    const rank = (cands) => cands.map((p) => ({ p: p.join('+'), s: score(p) })).sort((a, b) => a.s - b.s);
    const band0 = rank(METHODS.map((m) => [m]));
    assert.deepEqual(
      stages[0].kept.map((k) => k.prefix),
      band0.slice(0, 2).map((x) => x.p),
      `${d}: band 0`,
    );
    stages[0].kept.forEach((k, i) => assert.ok(Math.abs(k.nrmse - band0[i].s) < 1e-5, `${d}: band 0 score of ${k.prefix}`));
    const band1 = rank(stages[0].kept.flatMap((k) => METHODS.map((m) => [...k.prefix.split('+'), m])));
    assert.deepEqual(
      stages[1].kept.map((k) => k.prefix),
      band1.slice(0, 2).map((x) => x.p),
      `${d}: band 1`,
    );
  }
  // Every sequence the beam swept: same table and the same score as in the full product.
  const fullRows = leaderboard(full);
  const beamRows = leaderboard(beam2).filter((r) => r.label.startsWith('seq_'));
  assert.equal(beamRows.length, 2 * 6);
  for (const r of beamRows) {
    const f = fullRows.find((x) => x.dataset === r.dataset && x.label === r.label);
    assert.equal(r.nrmse, f.nrmse, `${r.label} on ${r.dataset}`);
    assert.ok(
      readFileSync(join(beam2, 'sequences', r.label, `${r.dataset}.csv`)).equals(readFileSync(join(full, 'sequences', r.label, `${r.dataset}.csv`))),
    );
  }
  // Nodes: 15 per dataset (every band has rows here) + 3 baselines, against 39 + 3 for the full product.
  assert.equal(summary(beam2).groups_computed, 2 * (15 + 3));
  assert.equal(cacheNodes(beam2), 2 * (15 + 3));
  assert.equal(summary(full).groups_computed, 2 * (39 + 3));
  // Reused: node visits of finished items beyond the computed ones. Per dataset: band 0's 3 prefixes
  // (3 visits), band 1's 6 (12), the 6 sequences (18): 33 visits for 15 nodes; baselines 3 for 3.
  assert.equal(summary(beam2).groups_reused, 2 * (33 - 15));
  assert.equal(summary(beam2).groups_empty, 0);
  assert.deepEqual(summary(beam2).beam, { width: 2, sequences: lines(join(beam2, 'imputation_sequence_index.csv')).length - 1 });
});

test('mpiexec -n 3 --beam 2: beam decisions, leaderboard, best sequences and tables byte-identical to one rank', async () => {
  const o3 = tempDir('hi-beam-n3-');
  const r = await mpirun(3, [main, ...evalArgs(o3, ['--beam', '2'])], { timeoutS: 180 });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(summary(o3).ranks, 3);
  const files = ['beam.json', 'leaderboard.csv', 'best_sequences.csv', 'imputation_sequence_index.csv'];
  for (const row of leaderboard(beam2))
    files.push(`sequences/${row.label}/${row.label.startsWith('baseline_') ? `${row.dataset}.baseline` : row.dataset}.csv`);
  for (const f of files) assert.ok(readFileSync(join(o3, f)).equals(readFileSync(join(beam2, f))), `${f} differs between 1 and 3 ranks`);
  assert.equal(summary(o3).groups_computed, summary(beam2).groups_computed);
});

test('a rerun of a beam search computes nothing and writes the same files', async () => {
  const before = ['beam.json', 'leaderboard.csv'].map((f) => readFileSync(join(beam2, f)));
  const r = await runCli(evalArgs(beam2, ['--beam', '2']));
  assert.equal(r.code, 0, r.stderr);
  assert.equal(summary(beam2).groups_computed, 0);
  ['beam.json', 'leaderboard.csv'].forEach((f, i) => assert.ok(readFileSync(join(beam2, f)).equals(before[i]), f));
});

test('a beam rerun after an output file was lost rewrites it, and every manifest keeps its sequence id', async () => {
  const index = readCsv(join(beam2, 'imputation_sequence_index.csv')).rows.map((r) => [r[1], Number(r[0])]);
  const label = leaderboard(beam2).find((r) => r.dataset === 'alpha_one' && r.label.startsWith('seq_')).label;
  const lost = join(beam2, 'sequences', label, 'alpha_one.csv');
  const bytes = readFileSync(lost);
  rmSync(lost);
  const r = await runCli(evalArgs(beam2, ['--beam', '2']));
  assert.equal(r.code, 0, r.stderr);
  assert.ok(readFileSync(lost).equals(bytes));
  const ids = new Map(index);
  for (const row of leaderboard(beam2)) {
    const manifest = JSON.parse(readFileSync(join(beam2, 'sequences', row.label, 'methods_manifest.json'), 'utf8'));
    assert.equal(manifest.sequence, row.id, `${row.label}: manifest id`);
    if (ids.has(row.label)) assert.equal(row.id, ids.get(row.label));
    else assert.ok(row.id >= ids.size, `baseline ${row.label} numbered after the sequences`);
  }
});

// --- the plan and errors ---------------------------------------------------------------------

test('sequences --beam explains the search; a sweep too large to list says to use a beam; search.beam in the config', async () => {
  let r = await runCli(['sequences', '--config', cfgPath, '--beam', '2']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /beam search of width 2 over 27 sequences/);
  assert.match(r.stdout, /at most 15 nodes \(the full product: 39\); 6 complete sequences/);
  r = await runCli(['sequences', '--config', cfgPath, '--beam', '2', '--json']);
  assert.deepEqual(JSON.parse(r.stdout).nodes, 15);
  // 18 bands × 5 methods: 5^18 sequences.
  const big = {
    bands: Array.from({ length: 18 }, (_, b) => ({ width: b < 17 ? 0.05 : 0.15, methods: ['mean', 'median', 'knn', 'iterative_simple', 'xgboost'] })),
  };
  const bigPath = writeConfig(tempDir('hi-beam-big-'), big);
  r = await runCli(['sequences', '--config', bigPath]);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /3814697265625 sequences.*beam/s);
  const withSearch = writeConfig(tempDir('hi-beam-big-'), { ...big, search: { beam: 4 } });
  r = await runCli(['sequences', '--config', withSearch]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /at most 345 nodes/);
  // --beam 0: the full product, whatever the configuration says.
  const small = writeConfig(tempDir('hi-beam-cfg-'), { ...CONFIG, search: { beam: 2 } });
  r = await runCli(['sequences', '--config', small, '--beam', '0']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^27 sequences, 3 bands, 39 prefix-tree nodes per dataset/);
});

test('errors: --beam without --evaluate, a bad width, a bad search key', async () => {
  const out = tempDir('hi-beam-err-');
  let r = await runCli(['run', '--config', cfgPath, '--data', data, '--out', out, '--progress=false', '--beam', '2']);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /--beam ranks prefixes by their holdout score: add --evaluate/);
  r = await runCli(evalArgs(out, ['--beam', '1.5']));
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /--beam must be 0 \(the full product\) or an integer in \[1, 10000\].*got 1\.5/);
  const bad = writeConfig(tempDir('hi-beam-cfg-'), { ...CONFIG, search: { beam: 2, depth: 3 } });
  r = await runCli(['sequences', '--config', bad]);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /search: unknown key "depth" \(valid: beam\)/);
  const noEval = writeConfig(tempDir('hi-beam-cfg-'), { ...CONFIG, search: { beam: 2 } });
  r = await runCli(['run', '--config', noEval, '--data', data, '--out', out, '--progress=false']);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /search\.beam.*add --evaluate \(or --beam 0 for the full product\)/);
});
