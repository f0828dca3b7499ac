// The method registry, `--param key=value` parsing and the `hierimpute impute` command.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, test } from 'node:test';

import yargs from 'yargs';

import { imputeCommand, methodsHelp, runImpute } from '../dist/cli/commands/impute.js';
import { knn } from '../dist/impute/methods/knn.js';
import { OptionError, parseParams } from '../dist/impute/options.js';
import { getImputer, listMethods, registerImputer } from '../dist/impute/registry.js';
import { readMatrix, writeMatrix } from '../dist/tables/io.js';
import { makeMatrix } from '../dist/tables/matrix.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dir = mkdtempSync(join(tmpdir(), 'hierimpute-registry-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const ALL = ['mean', 'median', 'knn', 'iterative_simple', 'iterative_function', 'iterative_linear', 'xgboost', 'lstm', 'rnn', 'gan'];

test('the registry holds every method, each with documented options and defaults', () => {
  assert.deepEqual(listMethods().map((m) => m.name), ALL);
  for (const m of listMethods()) {
    assert.equal(getImputer(m.name), m);
    assert.equal(typeof m.summary, 'string');
    assert.deepEqual(Object.keys(m.defaults).sort(), Object.keys(m.options).sort(), `${m.name}: a default for every option`);
    for (const [key, doc] of Object.entries(m.options)) {
      assert.ok(['number', 'integer', 'string', 'boolean'].includes(doc.type), `${m.name}.${key} type`);
      if (doc.choices) assert.ok(doc.choices.includes(m.defaults[key]), `${m.name}.${key}: default is a choice`);
    }
  }
});

test('an unknown method name fails with the list of valid names', () => {
  assert.throws(() => getImputer('knnn'), new RegExp(`unknown method 'knnn'; available methods: ${ALL.join(', ')}$`));
  assert.throws(() => getImputer(''), /unknown method ''; available methods: mean, median, knn/);
  assert.throws(() => registerImputer(getImputer('knn')), /method 'knn' is already registered/);
});

test('parseParams: types and choices, merged over the defaults', () => {
  assert.deepEqual(parseParams(knn, []), { n_neighbors: 5, weights: 'uniform', empty_columns: 'error' });
  assert.deepEqual(parseParams(knn, ['n_neighbors=3', 'weights=distance']), { n_neighbors: 3, weights: 'distance', empty_columns: 'error' });
  const it = getImputer('iterative_function');
  const o = parseParams(it, ['tol=2.5e-4', 'estimator=xgboost']);
  assert.equal(o.tol, 2.5e-4);
  assert.equal(o.estimator, 'xgboost');
  assert.equal(o.max_iter, it.defaults.max_iter);
  const fake = { name: 'mean', summary: '', defaults: { flag: false }, options: { flag: { type: 'boolean', description: '' } } };
  assert.equal(parseParams(fake, ['flag=yes']).flag, true);
  assert.equal(parseParams(fake, ['flag=0']).flag, false);
  assert.throws(() => parseParams(fake, ['flag=maybe']), /method 'mean': parameter flag expects true or false, got 'maybe'/);
});

test('parseParams: errors name the method and the key', () => {
  const cases = [
    [['k=3'], /method 'knn': unknown parameter 'k' \(valid keys: n_neighbors, weights, empty_columns\)/],
    [['n_neighbors=3.5'], /method 'knn': parameter n_neighbors expects an integer, got '3.5'/],
    [['n_neighbors='], /parameter n_neighbors expects an integer, got ''/],
    [['weights=cosine'], /method 'knn': parameter weights expects one of uniform, distance, got 'cosine'/],
    [['n_neighbors'], /method 'knn': parameter 'n_neighbors' is not key=value/],
    [['n_neighbors=2', 'n_neighbors=3'], /parameter n_neighbors is given twice/],
    [['__proto__=1'], /unknown parameter '__proto__'/],
  ];
  for (const [params, re] of cases) assert.throws(() => parseParams(knn, params), (err) => err instanceof OptionError && re.test(err.message));
  assert.throws(() => parseParams(getImputer('xgboost'), ['learning_rate=fast']), /method 'xgboost': parameter learning_rate expects a finite number, got 'fast'/);
});

const CSV = 'a,b,c\n1,2,3\n2,,4\n3,4,\n,5,6\n5,6,7\n';

function writeInput(name, text = CSV) {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

test('runImpute reads, imputes with the method and options, and writes the output', async () => {
  const input = writeInput('in.csv');
  const output = join(dir, 'out.csv');
  const s = await runImpute({ method: 'knn', input, output, seed: 0, threads: 1, param: ['n_neighbors=2'] });
  assert.equal(s.rows, 5);
  assert.equal(s.columns, 3);
  const got = await readMatrix(output);
  const want = await knn.impute(await readMatrix(input), 0, { ...knn.defaults, n_neighbors: 2 }, { seed: 0, threads: 1 });
  assert.deepEqual(got.names, ['a', 'b', 'c']);
  for (let j = 0; j < 3; j++) assert.deepEqual(got.columns[j], want.columns[j]);
  assert.equal(readFileSync(input, 'utf8'), CSV, 'the input is never modified');
  assert.deepEqual(readdirSync(dir).filter((f) => f.includes('.tmp')), [], 'no temp file left behind');
  // .arrow output, mean
  const arrowOut = join(dir, 'out.arrow');
  await runImpute({ method: 'mean', input, output: arrowOut, seed: 0, threads: 0 });
  const m = await readMatrix(arrowOut);
  assert.equal(m.columns[0][3], (1 + 2 + 3 + 5) / 4);
});

test('runImpute checks everything before reading the input', async () => {
  const input = writeInput('in2.csv');
  const args = { method: 'knn', input, output: join(dir, 'o.csv'), seed: 0, threads: 1 };
  await assert.rejects(runImpute({ ...args, method: 'nope' }), /unknown method 'nope'; available methods/);
  await assert.rejects(runImpute({ ...args, param: ['weights=x'] }), /method 'knn': parameter weights expects one of uniform, distance/);
  await assert.rejects(runImpute({ ...args, output: input }), /is the input file; hierimpute never modifies its input/);
  await assert.rejects(runImpute({ ...args, output: join(dir, 'o.txt') }), /unsupported table format '.txt'/);
  await assert.rejects(runImpute({ ...args, threads: -2 }), /--threads must be an integer >= 0/);
  await assert.rejects(runImpute({ ...args, input: join(dir, 'missing.csv') }), /missing\.csv/);
  assert.ok(!existsSync(join(dir, 'o.csv')));
  // an all-missing column: the error names the file, the column and the fixes
  const empty = writeInput('empty.csv', 'a,b\n1,\n2,\n,\n');
  await assert.rejects(runImpute({ ...args, input: empty }), (err) => {
    assert.equal(err.name, 'TableInputError');
    assert.equal(err.message, `${empty}, column 'b' (#2): no observed cell at all; nothing can impute it (drop the column, or fill it with 0: --param empty_columns=zero)`);
    return true;
  });
  await runImpute({ ...args, input: empty, param: ['empty_columns=zero'] });
  const z = await readMatrix(args.output);
  assert.deepEqual([...z.columns[1]], [0, 0, 0]);
  assert.deepEqual([...z.columns[0]], [1, 2, 1.5]);
});

test('runImpute checks the input at load: data errors name the file, line and column, for every method', async () => {
  const output = join(dir, 'o-inf.csv');
  // line 4 of the file is data row 2: the blank line counts, a method's 0-based row would not
  const inf = writeInput('inf.csv', 'a,b,c\n1,2,3\n\n4,inf,\n,5,6\n7,8,9\n');
  for (const method of ['mean', 'knn', 'xgboost', 'iterative_simple']) {
    await assert.rejects(runImpute({ method, input: inf, output, seed: 0, threads: 1 }), (err) => {
      assert.equal(err.name, 'TableInputError');
      assert.equal(err.kind, 'not_imputable');
      assert.equal(err.line, 4);
      assert.equal(err.column, 2);
      assert.equal(err.columnName, 'b');
      assert.ok(err.message.startsWith(`${inf}, line 4, column 'b' (#2): "inf" is an infinite value`), `${method}: ${err.message}`);
      assert.doesNotMatch(err.message, /0-based/);
      return true;
    });
  }
  const big = writeInput('big.csv', 'a,b\n1,2\n-1e39,\n');
  await assert.rejects(runImpute({ method: 'knn', input: big, output, seed: 0, threads: 1 }), {
    message: `${big}, line 3, column 'a' (#1): "-1e39" is beyond the float32 range (about +-3.4e38), so it reads as -inf; ` +
      'cells to impute must be finite numbers, or empty / NA / NaN when missing',
  });
  // .arrow input: no lines, so the data row
  const arrowIn = join(dir, 'inf.arrow');
  await runImpute({ method: 'mean', input: writeInput('fin.csv', 'a,b\n1,\n2,3\n'), output: arrowIn, seed: 0, threads: 1 });
  const m = await readMatrix(arrowIn);
  m.columns[1][0] = -Infinity;
  await writeMatrix(m, arrowIn);
  await assert.rejects(runImpute({ method: 'knn', input: arrowIn, output, seed: 0, threads: 1 }), {
    message: `${arrowIn}, data row 1, column 'b' (#2): -inf is an infinite value; cells to impute must be finite numbers, or NaN when missing`,
  });
  assert.ok(!existsSync(output), 'nothing written on a data error');
  // the command line prints that message (one line, no stack) and exits non-zero
  const r = spawnSync(process.execPath, [join(root, 'dist', 'main.js'), 'impute', '--method', 'knn', '--input', inf, '--output', output], { encoding: 'utf8' });
  assert.equal(r.status, 1);
  assert.equal(r.stderr.trim().split('\n')[0], `hierimpute: ${inf}, line 4, column 'b' (#2): "inf" is an infinite value; cells to impute must be finite numbers, or empty / NA / NaN when missing`);
});

test('runImpute: a header of numbers (years) names the columns, and the output keeps that header', async () => {
  const input = writeInput('years.csv', '1856,1860,1864\n1,2,3\n,4,5\n6,,8\n');
  const output = join(dir, 'years-out.csv');
  await runImpute({ method: 'mean', input, output, seed: 0, threads: 1 });
  assert.equal(readFileSync(output, 'utf8'), '1856,1860,1864\n1,2,3\n3.5,4,5\n6,3,8\n');
});

async function cli(args) {
  let output = '';
  let error;
  const y = yargs(args).command(imputeCommand).strict().exitProcess(false).wrap(110);
  await y.parseAsync(args, {}, (err, _argv, out) => {
    error = err;
    output = out;
  });
  return { output, error };
}

test('`impute --help` documents every method and every parameter with its default', async () => {
  const { output } = await cli(['impute', '--help']);
  for (const m of listMethods()) {
    assert.ok(output.includes(`${m.name}: `), `help names ${m.name}`);
    for (const key of Object.keys(m.options))
      assert.ok(output.includes(`${key}=<`) && output.includes(`[default: ${String(m.defaults[key])}]`), `help documents ${m.name}.${key}`);
  }
  assert.ok(methodsHelp().split('\n').every((l) => l.length <= 100), 'help lines fit 100 columns');
  for (const flag of ['--method', '--input', '--output', '--seed', '--threads', '--param']) assert.ok(output.includes(flag));
});

test('the yargs command runs end to end with repeated --param', async () => {
  const input = writeInput('in3.csv');
  const output = join(dir, 'out3.csv');
  // In a child process, as the real command line runs (its stdout is the summary line).
  const script =
    "import yargs from 'yargs'; import { imputeCommand } from './dist/cli/commands/impute.js';" +
    'await yargs(process.argv.slice(1)).command(imputeCommand).strict().parseAsync();';
  const args = ['impute', '--method', 'knn', '--input', input, '--output', output, '--threads', '2', '--param', 'n_neighbors=1', '--param', 'weights=distance'];
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script, ...args], { cwd: root, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /imputed .*in3\.csv \(5 rows x 3 columns\) with knn \(n_neighbors=1 weights=distance empty_columns=error\) in [0-9.]+ s -> /);
  const bad = spawnSync(process.execPath, ['--input-type=module', '-e', script, 'impute', '--method', 'knn', '--input', input, '--output', output, '--param', 'k=1'], { cwd: root, encoding: 'utf8' });
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr, /unknown parameter 'k' \(valid keys: n_neighbors, weights, empty_columns\)/);
  const got = await readMatrix(output);
  const want = await knn.impute(makeMatrix(['a', 'b', 'c'], (await readMatrix(input)).columns), 0, { n_neighbors: 1, weights: 'distance', empty_columns: 'error' }, { seed: 0, threads: 1 });
  for (let j = 0; j < 3; j++) assert.deepEqual(got.columns[j], want.columns[j]);
});
