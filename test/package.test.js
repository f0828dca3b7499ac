// The package a user installs: the public API, imported by the package's name (Node resolves a
// package's own name through its `exports` map from inside it), and the contents of the tarball
// that `npm pack` would publish.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const dir = mkdtempSync(join(tmpdir(), 'hierimpute-package-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Every file under `top` (relative to the repository root, '/'-separated). */
function walk(top) {
  const out = [];
  for (const e of readdirSync(join(root, top), { withFileTypes: true })) {
    const p = `${top}/${e.name}`;
    if (e.isDirectory()) out.push(...walk(p));
    else out.push(p);
  }
  return out;
}

/** Every value export of each entry point; a change here is a change of the public API. */
const API = {
  hierimpute: [
    'ANY_SOURCE',
    'ANY_TAG',
    'ConfigError',
    'DEFAULT_LEASE_MS',
    'MpiNotBuiltError',
    'OptionError',
    'PRESETS',
    'TAG_DONE',
    'TAG_ERROR',
    'TAG_HELLO',
    'TAG_STOP',
    'TAG_TASK',
    'TableInputError',
    'assignBands',
    'bandEdges',
    'configureLogging',
    'detectLaunch',
    'discoverDatasets',
    'evaluatedSweep',
    'expandSweep',
    'flushLogs',
    'getImputer',
    'getWorld',
    'hierarchicalImpute',
    'isStale',
    'listMethods',
    'makeMatrix',
    'parseParams',
    'plainSweep',
    'prefixNodeCount',
    'presetConfig',
    'readConfigFile',
    'readMatrix',
    'readOwner',
    'readTable',
    'runSweep',
    'sweepSize',
    'tryClaim',
    'validateConfig',
    'writeMatrix',
    'writeTable',
  ],
  'hierimpute/tables': [
    'TableInputError',
    'discoverDatasets',
    'makeMatrix',
    'matrixToTable',
    'readMatrix',
    'readTable',
    'tableFormat',
    'tableToMatrix',
    'writeMatrix',
    'writeTable',
  ],
  'hierimpute/locks': ['DEFAULT_LEASE_MS', 'isStale', 'readOwner', 'tryClaim'],
  'hierimpute/mpi': [
    'ANY_SOURCE',
    'ANY_TAG',
    'MpiNotBuiltError',
    'TAG_DONE',
    'TAG_ERROR',
    'TAG_HELLO',
    'TAG_STOP',
    'TAG_TASK',
    'buildInfo',
    'detectLaunch',
    'getWorld',
    'mpiBuilt',
  ],
};

test('the exports map: every entry point resolves by name to a built file with its types', async () => {
  assert.equal(pkg.name, 'hierimpute');
  assert.deepEqual(Object.keys(pkg.exports).sort(), ['.', './locks', './mpi', './package.json', './tables']);
  for (const [sub, target] of Object.entries(pkg.exports)) {
    if (sub === './package.json') continue;
    assert.deepEqual(Object.keys(target), ['types', 'default'], `${sub}: "types" comes first (TypeScript takes the first match)`);
    assert.ok(existsSync(join(root, target.types)), `${sub}: ${target.types} is built`);
    const spec = sub === '.' ? 'hierimpute' : `hierimpute/${sub.slice(2)}`;
    assert.equal(import.meta.resolve(spec), pathToFileURL(join(root, target.default)).href, spec);
  }
  assert.equal(pkg.main, 'dist/index.js');
  assert.equal(pkg.types, 'dist/index.d.ts');
  assert.deepEqual(pkg.bin, { hierimpute: 'dist/main.js' });
  for (const [spec, names] of Object.entries(API)) {
    const mod = await import(spec);
    assert.deepEqual(Object.keys(mod).sort(), [...names].sort(), `${spec}: its exports`);
  }
  assert.equal(createRequire(import.meta.url)('hierimpute/package.json').version, pkg.version);
});

test('a path inside the package that the exports map does not name is refused', async () => {
  for (const spec of ['hierimpute/dist/engine/group.js', 'hierimpute/dist/index.js', 'hierimpute/src/index.ts', 'hierimpute/eval']) {
    await assert.rejects(import(spec), { code: 'ERR_PACKAGE_PATH_NOT_EXPORTED' }, spec);
  }
});

test('the API by name: a method from the registry, a hierarchical imputation, table and lock round trips', async () => {
  const { getImputer, hierarchicalImpute, listMethods, makeMatrix, parseParams, validateConfig } = await import('hierimpute');
  const { readMatrix, writeMatrix } = await import('hierimpute/tables');
  const { tryClaim, readOwner } = await import('hierimpute/locks');
  const { detectLaunch } = await import('hierimpute/mpi');

  // 40 rows × 3 columns, c = a + b; rows 20..39 miss one cell each (a third of their cells).
  let s = 12345;
  const rnd = () => (s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32;
  const n = 40;
  const a = Float32Array.from({ length: n }, () => rnd() * 10);
  const b = Float32Array.from({ length: n }, () => rnd() * 10);
  const c = Float32Array.from({ length: n }, (_, i) => a[i] + b[i]);
  for (let i = 20; i < n; i++) [a, b, c][i % 3][i] = NaN;
  const m = makeMatrix(['a', 'b', 'c'], [a, b, c]);

  const mean = getImputer('mean');
  assert.ok(listMethods().includes(mean));
  const byMean = await mean.impute(m, 0, parseParams(mean, []), { seed: 0, threads: 1 });
  const observedMean = (col) => {
    const v = [...col].filter((x) => !Number.isNaN(x));
    return v.reduce((x, y) => x + y, 0) / v.length;
  };
  for (let j = 0; j < 3; j++) {
    for (let i = 0; i < n; i++) {
      const want = Number.isNaN(m.columns[j][i]) ? observedMean(m.columns[j]) : m.columns[j][i];
      assert.ok(Math.abs(byMean.columns[j][i] - want) < 1e-4, `mean: row ${i}, column ${j}`);
    }
  }

  const config = validateConfig(
    {
      bands: [
        { width: 0.2, methods: ['mean'] },
        { width: 0.8, methods: ['knn'] },
      ],
    },
    'package test',
  );
  const r = await hierarchicalImpute(m, config, ['mean', 'knn']);
  assert.deepEqual(r.matrix.names, ['a', 'b', 'c']);
  assert.equal(r.matrix.nRows, n);
  for (let i = 0; i < n; i++) {
    assert.equal(r.band[i], i < 20 ? 0 : 1, `row ${i}: band`);
    for (let j = 0; j < 3; j++) {
      const v = r.matrix.columns[j][i];
      assert.ok(Number.isFinite(v), `row ${i}, column ${j}: imputed`);
      if (!Number.isNaN(m.columns[j][i])) assert.equal(v, m.columns[j][i], `row ${i}, column ${j}: observed cell kept`);
    }
  }
  await assert.rejects(hierarchicalImpute(m, config, ['mean']), /1 methods for 2 bands/);

  const file = join(dir, 'imputed.csv');
  await writeMatrix(r.matrix, file);
  const back = await readMatrix(file);
  assert.deepEqual(back.names, r.matrix.names);
  for (let j = 0; j < 3; j++) assert.deepEqual(Array.from(back.columns[j]), Array.from(r.matrix.columns[j]), `column ${j} round trip`);

  const lock = tryClaim(join(dir, 'node.lock'));
  assert.ok(lock, 'a free lock is claimed');
  assert.equal(readOwner(join(dir, 'node.lock'))?.pid, process.pid);
  assert.equal(tryClaim(join(dir, 'node.lock')), null, 'a held lock is not claimed twice');
  lock.release();
  assert.equal(readOwner(join(dir, 'node.lock')), null);

  assert.equal(detectLaunch({}).mode, 'single');
});

test('npm pack: the tarball holds what a consumer needs to install and import it, and nothing else', () => {
  // --ignore-scripts: `npm pack` would run `prepare` (tsc) first; the build is already here.
  const r = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const [report] = JSON.parse(r.stdout);
  const files = report.files.map((f) => f.path).sort();
  const shipped = new Set(files);

  const allowed = [
    /^dist\/.+\.js$/,
    /^dist\/.+\.d\.ts$/,
    /^native\/.+\.(cc|h|c)$/,
    /^CMakeLists\.txt$/,
    /^package\.json$/,
    /^README\.md$/,
    /^LICENSE(\.md|\.txt)?$/,
  ];
  const unexpected = files.filter((f) => !allowed.some((re) => re.test(f)));
  assert.deepEqual(unexpected, [], 'files a consumer does not need (source maps, .tsbuildinfo, tests, scripts, src/)');

  // Every compiled module with its declarations, and no build output without a source (a stale file).
  const sources = walk('src')
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))
    .map((f) => f.slice('src/'.length, -'.ts'.length));
  const missing = sources.flatMap((m) => [`dist/${m}.js`, `dist/${m}.d.ts`]).filter((f) => !shipped.has(f));
  assert.deepEqual(missing, [], 'compiled modules missing from the tarball (run `npx tsc -p tsconfig.json`)');
  const sourceSet = new Set(sources);
  const stale = files.filter((f) => f.startsWith('dist/')).filter((f) => !sourceSet.has(f.slice('dist/'.length).replace(/(\.d\.ts|\.js)$/, '')));
  assert.deepEqual(stale, [], 'build outputs whose source is gone (delete them from dist/)');
  for (const f of files.filter((x) => x.endsWith('.js'))) {
    assert.doesNotMatch(readFileSync(join(root, f), 'utf8'), /sourceMappingURL/, `${f} points at a source map that is not shipped`);
  }

  // The install script builds the addons from CMakeLists.txt and native/ with cmake-js (a dependency);
  // npm does not run `prepare` for a registry or tarball install, so dist/ must be in the tarball.
  assert.ok(shipped.has('CMakeLists.txt') && shipped.has('package.json') && shipped.has('README.md'));
  const nativeMissing = walk('native').filter((f) => !shipped.has(f));
  assert.deepEqual(nativeMissing, [], 'native sources CMakeLists.txt builds from');
  assert.match(pkg.scripts.install, /^cmake-js compile\b/);
  for (const dep of ['cmake-js', 'node-addon-api', 'node-api-headers'])
    assert.ok(pkg.dependencies[dep], `${dep} is a dependency (the install script needs it)`);
  for (const [sub, target] of Object.entries(pkg.exports)) {
    for (const f of typeof target === 'string' ? [target] : Object.values(target))
      assert.ok(shipped.has(relative('.', f)), `${sub} -> ${f} is shipped`);
  }
  assert.ok(shipped.has(pkg.bin.hierimpute), 'the bin is shipped');
  // npm ships LICENSE whatever "files" says; the file must exist and match the declared license.
  assert.ok(shipped.has('LICENSE'), 'LICENSE is in the tarball');
  assert.equal(pkg.license, 'MIT');
  const license = readFileSync(join(root, 'LICENSE'), 'utf8');
  assert.match(license, /^MIT License\n/);
  assert.match(license, /^Copyright \(c\) \d{4} the hierimpute authors$/m);
});
