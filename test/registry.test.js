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
import { OptionError, parseOptions, parseParams } from '../dist/impute/options.js';
import { allowedValues, valueLabel } from '../dist/impute/schema.js';
import { validateConfig } from '../dist/engine/config.js';
import { getImputer, listMethods, registerImputer } from '../dist/impute/registry.js';
import { readMatrix, writeMatrix } from '../dist/tables/io.js';
import { makeMatrix } from '../dist/tables/matrix.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dir = mkdtempSync(join(tmpdir(), 'hierimpute-registry-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const ALL = ['mean', 'median', 'knn', 'iterative_simple', 'iterative_function', 'iterative_linear', 'xgboost', 'lstm', 'rnn', 'gan'];

test('the registry holds every method, each with documented options and defaults', () => {
  assert.deepEqual(
    listMethods().map((m) => m.name),
    ALL,
  );
  for (const m of listMethods()) {
    assert.equal(getImputer(m.name), m);
    assert.equal(typeof m.summary, 'string');
    assert.deepEqual(Object.keys(m.defaults).sort(), Object.keys(m.options).sort(), `${m.name}: a default for every option`);
    for (const [key, doc] of Object.entries(m.options)) {
      assert.ok(['int', 'number', 'bool', 'choice', 'string'].includes(doc.type), `${m.name}.${key} type`);
      assert.equal(doc.default, m.defaults[key], `${m.name}.${key}: defaults come from the schema`);
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
  const fake = { name: 'mean', summary: '', defaults: { flag: false }, options: { flag: { type: 'bool', default: false, description: '' } } };
  assert.equal(parseParams(fake, ['flag=yes']).flag, true);
  assert.equal(parseParams(fake, ['flag=0']).flag, false);
  assert.throws(() => parseParams(fake, ['flag=maybe']), /method 'mean': parameter flag expects true or false, got 'maybe'/);
});

test('parseParams: errors name the method and the key', () => {
  const cases = [
    [['k=3'], /method 'knn': unknown parameter 'k' \(valid keys: n_neighbors, weights, empty_columns\)/],
    [['n_neighbors=3.5'], /method 'knn': parameter n_neighbors expects an integer in \[1, 1000000000\], got '3.5'/],
    [['n_neighbors='], /parameter n_neighbors expects an integer in \[1, 1000000000\], got ''/],
    [['weights=cosine'], /method 'knn': parameter weights expects one of uniform, distance, got 'cosine'/],
    [['n_neighbors'], /method 'knn': parameter 'n_neighbors' is not key=value/],
    [['n_neighbors=2', 'n_neighbors=3'], /parameter n_neighbors is given twice/],
    [['__proto__=1'], /unknown parameter '__proto__'/],
  ];
  for (const [params, re] of cases)
    assert.throws(
      () => parseParams(knn, params),
      (err) => err instanceof OptionError && re.test(err.message),
    );
  assert.throws(
    () => parseParams(getImputer('xgboost'), ['learning_rate=fast']),
    /method 'xgboost': parameter learning_rate expects a number > 0, got 'fast'/,
  );
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
  assert.deepEqual(
    readdirSync(dir).filter((f) => f.includes('.tmp')),
    [],
    'no temp file left behind',
  );
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
    assert.equal(
      err.message,
      `${empty}, column 'b' (#2): no observed cell at all; nothing can impute it (drop the column, or fill it with 0: --param empty_columns=zero)`,
    );
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
    message:
      `${big}, line 3, column 'a' (#1): "-1e39" is beyond the float32 range (about +-3.4e38), so it reads as -inf; ` +
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
  const r = spawnSync(process.execPath, [join(root, 'dist', 'main.js'), 'impute', '--method', 'knn', '--input', inf, '--output', output], {
    encoding: 'utf8',
  });
  assert.equal(r.status, 1);
  assert.equal(
    r.stderr.trim().split('\n')[0],
    `hierimpute: ${inf}, line 4, column 'b' (#2): "inf" is an infinite value; cells to impute must be finite numbers, or empty / NA / NaN when missing`,
  );
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
  assert.ok(
    methodsHelp()
      .split('\n')
      .every((l) => l.length <= 100),
    'help lines fit 100 columns',
  );
  for (const flag of ['--method', '--input', '--output', '--seed', '--threads', '--param']) assert.ok(output.includes(flag));
});

test('the yargs command runs end to end with repeated --param', async () => {
  const input = writeInput('in3.csv');
  const output = join(dir, 'out3.csv');
  // In a child process, as the real command line runs (its stdout is the summary line).
  const script =
    "import yargs from 'yargs'; import { imputeCommand } from './dist/cli/commands/impute.js';" +
    'await yargs(process.argv.slice(1)).command(imputeCommand).strict().parseAsync();';
  const args = [
    'impute',
    '--method',
    'knn',
    '--input',
    input,
    '--output',
    output,
    '--threads',
    '2',
    '--param',
    'n_neighbors=1',
    '--param',
    'weights=distance',
  ];
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script, ...args], { cwd: root, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(
    r.stdout,
    /imputed .*in3\.csv \(5 rows x 3 columns\) with knn \(n_neighbors=1 weights=distance empty_columns=error\) in [0-9.]+ s -> /,
  );
  const bad = spawnSync(
    process.execPath,
    ['--input-type=module', '-e', script, 'impute', '--method', 'knn', '--input', input, '--output', output, '--param', 'k=1'],
    { cwd: root, encoding: 'utf8' },
  );
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr, /unknown parameter 'k' \(valid keys: n_neighbors, weights, empty_columns\)/);
  const got = await readMatrix(output);
  const want = await knn.impute(
    makeMatrix(['a', 'b', 'c'], (await readMatrix(input)).columns),
    0,
    { n_neighbors: 1, weights: 'distance', empty_columns: 'error' },
    { seed: 0, threads: 1 },
  );
  for (let j = 0; j < 3; j++) assert.deepEqual(got.columns[j], want.columns[j]);
});

// ---------------------------------------------------------------------------------------------
// The option schemas: one declaration per option, from which defaults, parsing, the checks of
// impute() and the help text all follow.

/** Every option's documented default, pinned: a schema change that moves one shows up here. */
const DOCUMENTED_DEFAULTS = {
  mean: { empty_columns: 'error' },
  median: { empty_columns: 'error' },
  knn: { n_neighbors: 5, weights: 'uniform', empty_columns: 'error' },
  iterative_simple: { n_estimators: 10, max_iter: 10, tol: 1e-3, empty_columns: 'error' },
  iterative_function: {
    estimator: 'extratrees',
    n_estimators: 0,
    max_depth: 0,
    learning_rate: 0.3,
    max_iter: 10,
    tol: 1e-3,
    divergence: 'clip',
    empty_columns: 'error',
  },
  iterative_linear: { max_iter: 10, tol: 1e-3, divergence: 'clip', empty_columns: 'error' },
  xgboost: { n_estimators: 100, max_depth: 6, learning_rate: 0.3, tree_method: 'hist', empty_columns: 'error' },
  lstm: {
    tf_backend: 'auto',
    empty_columns: 'error',
    epochs: 50,
    batch_size: 64,
    units: 32,
    latent_dim: 0,
    learning_rate: 0.01,
    refine_iterations: 3,
    mask_rate: 0.2,
  },
  rnn: {
    tf_backend: 'auto',
    empty_columns: 'error',
    max_epochs: 100,
    patience: 10,
    batch_size: 64,
    units: 32,
    latent_dim: 0,
    mask_rate: 0.2,
    validation_fraction: 0.1,
    learning_rate: 0.01,
  },
  gan: { tf_backend: 'auto', empty_columns: 'error', iterations: 3000, batch_size: 128, hint_rate: 0.9, alpha: 100, hidden: 0, learning_rate: 0.001 },
};

/** Values of a numeric option outside its range (and a fraction for an integer option). */
function outOfRange(spec) {
  const bad = [];
  if (spec.min !== undefined) bad.push(spec.exclusiveMin ? spec.min : spec.min - 1);
  if (spec.max !== undefined) bad.push(spec.max + 1);
  if (spec.type === 'int') bad.push(spec.min + 0.5);
  return bad;
}

const esc = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const complete = makeMatrix(['a', 'b'], [new Float32Array([1, 2, 3]), new Float32Array([4, 5, 6])]);
const holed = makeMatrix(
  ['a', 'b', 'c'],
  [new Float32Array([1, 2, NaN, 4, 5, 6, 7, 8]), new Float32Array([2, NaN, 4, 5, 1, 7, NaN, 9]), new Float32Array([3, 1, 5, NaN, 7, 2, 9, 1])],
);

test('schemas: every default is the documented one, and parsing nothing gives the defaults', () => {
  assert.deepEqual(Object.keys(DOCUMENTED_DEFAULTS), ALL);
  for (const m of listMethods()) {
    assert.deepEqual({ ...m.defaults }, DOCUMENTED_DEFAULTS[m.name], `${m.name}: defaults`);
    assert.deepEqual(Object.keys(m.defaults), Object.keys(m.options), `${m.name}: defaults in schema order`);
    for (const [key, spec] of Object.entries(m.options)) {
      assert.equal(spec.default, DOCUMENTED_DEFAULTS[m.name][key], `${m.name}.${key}: schema default`);
      assert.ok(spec.description.length > 5, `${m.name}.${key}: described`);
      assert.doesNotMatch(spec.description, /\(default /, `${m.name}.${key}: the default is printed from the schema, not the text`);
      if (spec.type === 'choice') assert.ok(spec.choices.includes(spec.default), `${m.name}.${key}: default is a choice`);
    }
    assert.deepEqual(parseParams(m, []), { ...m.defaults }, `${m.name}: parseParams([])`);
    assert.deepEqual(parseOptions(m, {}), { ...m.defaults }, `${m.name}: parseOptions({})`);
  }
});

test('schemas: impute() takes the schema default for an option left out (same output as passing it)', async () => {
  const ctx = { seed: 3, threads: 1 };
  // The tabular methods on a table with holes; every option left out in turn.
  for (const name of ['mean', 'median', 'knn', 'iterative_simple', 'iterative_function', 'iterative_linear', 'xgboost']) {
    const m = getImputer(name);
    const want = await m.impute(holed, 2, m.defaults, ctx);
    for (const key of Object.keys(m.options)) {
      const { [key]: _, ...rest } = m.defaults;
      const got = await m.impute(holed, 2, rest, ctx);
      for (let j = 0; j < want.columns.length; j++) assert.deepEqual(got.columns[j], want.columns[j], `${name} without ${key}`);
    }
    const none = await m.impute(holed, 2, {}, ctx);
    for (let j = 0; j < want.columns.length; j++) assert.deepEqual(none.columns[j], want.columns[j], `${name} with no options`);
  }
  // The neural methods: options are checked (defaults filled in) before the nothing-to-impute path.
  for (const name of ['lstm', 'rnn', 'gan']) {
    const got = await getImputer(name).impute(complete, 0, {}, ctx);
    assert.deepEqual(got.columns, complete.columns, name);
  }
});

test('schemas: an out-of-range value of every numeric option is rejected, naming the method, the option and the range', async () => {
  const ctx = { seed: 0, threads: 1 };
  let checked = 0;
  for (const m of listMethods()) {
    for (const [key, spec] of Object.entries(m.options)) {
      const bad = spec.type === 'choice' ? ['no-such-choice'] : spec.type === 'int' || spec.type === 'number' ? outOfRange(spec) : [];
      if ((spec.type === 'int' || spec.type === 'number') && bad.length === 0) assert.fail(`${m.name}.${key}: a numeric option has a range`);
      for (const value of bad) {
        const allowed = allowedValues(spec);
        // --param key=value
        assert.throws(
          () => parseParams(m, [`${key}=${value}`]),
          (err) => {
            assert.ok(err instanceof OptionError, `${m.name}.${key}=${value}: ${err}`);
            assert.equal(err.message, `method '${m.name}': parameter ${key} expects ${allowed}, got '${value}'`);
            assert.equal(err.method, m.name);
            assert.equal(err.key, key);
            return true;
          },
        );
        // a config object (typed value)
        assert.throws(() => parseOptions(m, { [key]: value }), {
          message: `method '${m.name}': parameter ${key} expects ${allowed}, got '${value}'`,
        });
        // a run configuration
        assert.throws(
          () => validateConfig({ bands: [{ width: 1, methods: [m.name] }], params: { [m.name]: { [key]: value } } }, 'test'),
          new RegExp(esc(`params.${m.name}: method '${m.name}': parameter ${key} expects ${allowed}, got '${value}'`)),
        );
        // impute() itself, before touching the data
        await assert.rejects(m.impute(complete, 0, { ...m.defaults, [key]: value }, ctx), {
          name: 'RangeError',
          message: `${m.name}: option ${key} must be ${allowed} (got ${value})`,
        });
        checked++;
      }
    }
  }
  assert.ok(checked > 60, `${checked} bad values checked`);
  // the edges of each range are accepted
  for (const m of listMethods())
    for (const [key, spec] of Object.entries(m.options)) {
      if (spec.type !== 'int' && spec.type !== 'number') continue;
      const edges = [spec.exclusiveMin ? undefined : spec.min, spec.max].filter((v) => v !== undefined);
      for (const v of edges) assert.equal(parseParams(m, [`${key}=${v}`])[key], v, `${m.name}.${key}=${v}`);
    }
  // a value of the wrong type in a config object
  assert.throws(
    () => parseOptions(knn, { n_neighbors: true }),
    /method 'knn': parameter n_neighbors expects an integer in \[1, 1000000000\], got 'true'/,
  );
  assert.throws(() => parseOptions(knn, { k: 3 }), /method 'knn': unknown parameter 'k' \(valid keys: n_neighbors, weights, empty_columns\)/);
  assert.deepEqual(parseOptions(knn, { n_neighbors: '7', weights: 'distance' }), { n_neighbors: 7, weights: 'distance', empty_columns: 'error' });
});

test('schemas: one context check for every method: seed an integer in [0, 2^32), threads an integer >= 0', async () => {
  for (const m of listMethods()) {
    for (const ctx of [
      { seed: -1, threads: 1 },
      { seed: 2 ** 32, threads: 1 },
      { seed: 0.5, threads: 1 },
    ])
      await assert.rejects(m.impute(complete, 0, m.defaults, ctx), {
        name: 'RangeError',
        message: `${m.name}: seed must be a non-negative integer < 2^32 (got ${ctx.seed})`,
      });
    for (const threads of [-1, 1.5])
      await assert.rejects(m.impute(complete, 0, m.defaults, { seed: 0, threads }), {
        name: 'RangeError',
        message: `${m.name}: threads must be an integer >= 0, 0 = all cores (got ${threads})`,
      });
    const out = await m.impute(complete, 0, m.defaults, { seed: 2 ** 32 - 1, threads: 0 });
    assert.deepEqual(out.columns, complete.columns, `${m.name}: largest seed, all cores`);
  }
  const input = writeInput('ctx.csv');
  const args = { method: 'mean', input, output: join(dir, 'ctx-out.csv'), threads: 1 };
  await assert.rejects(runImpute({ ...args, seed: -1 }), /^RangeError: --seed must be a non-negative integer < 2\^32 \(got -1\)$/);
  await assert.rejects(runImpute({ ...args, seed: 2 ** 32 }), /--seed must be a non-negative integer < 2\^32/);
});

test('`impute --help` lists every option of every method under its method, with its type or range and default', () => {
  const help = methodsHelp();
  const sections = new Map();
  let current;
  for (const line of help.split('\n')) {
    const head = /^  ([a-z_]+): /.exec(line);
    if (head) sections.set((current = head[1]), []);
    else if (current && line.startsWith('    ')) sections.get(current).push(line);
  }
  assert.deepEqual([...sections.keys()], ALL);
  for (const m of listMethods()) {
    const lines = sections.get(m.name);
    const optionLines = lines.filter((l) => /^    [a-z_]+=</.test(l));
    assert.equal(optionLines.length, Object.keys(m.options).length, `${m.name}: one line per option`);
    for (const [key, spec] of Object.entries(m.options)) {
      const at = lines.indexOf(`    ${key}=<${valueLabel(spec)}>  [default: ${String(spec.default)}]`);
      assert.ok(at >= 0, `help lists ${m.name}.${key} with its default`);
      assert.ok(lines[at + 1].startsWith('        ') && spec.description.startsWith(lines[at + 1].trim()), `${m.name}.${key}: described`);
    }
  }
  assert.match(help, /    n_neighbors=<int in \[1, 1000000000\]>  \[default: 5\]/);
  assert.match(help, /    mask_rate=<number in \(0, 0\.95\]>  \[default: 0\.2\]/);
  assert.match(help, /    tol=<number >= 0>  \[default: 0\.001\]/);
  assert.match(help, /    weights=<uniform\|distance>  \[default: uniform\]/);
});
