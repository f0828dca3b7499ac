// Start-up stays light: `--help`, `--version`, `info` and `sequences` never load TensorFlow.js,
// Vega/Vega-Lite or Apache Arrow (they load when a command needs them). Checked by what the
// process actually loaded (test/helpers/record-modules.mjs lists every ESM URL resolved and every
// CommonJS file required), never by timing.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import { noLauncher, root } from './helpers/mpirun.js';
import { main, tempDir } from './helpers/sweep.js';

const recorder = join(root, 'test', 'helpers', 'record-modules.mjs');
const HEAVY = ['@tensorflow', 'vega', 'vega-lite', 'apache-arrow'];

/** Runs `node --import <recorder> ...nodeArgs`; returns the result, the files loaded and their npm packages. */
async function recorded(nodeArgs) {
  const file = join(tempDir('hi-modules-'), 'modules.txt');
  const r = await noLauncher(['--import', recorder, ...nodeArgs], { env: { RECORD_MODULES: file }, cwd: root });
  const lines = readFileSync(file, 'utf8').split('\n').filter(Boolean);
  const packages = new Set(lines.map((l) => /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(l)?.[1]).filter(Boolean));
  return { r, lines, packages };
}

const heavy = (p) => HEAVY.some((h) => p === h || p.startsWith(`${h}/`));

for (const args of [['--help'], ['--version'], ['info'], ['info', '--help'], ['sequences', '--preset', 'quick']]) {
  test(`hierimpute ${args.join(' ')} loads none of ${HEAVY.join(', ')}`, async () => {
    const { r, lines, packages } = await recorded([main, ...args]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(
      lines.some((l) => l.endsWith('/dist/main.js')),
      'the recorder saw the program start',
    );
    if (args[0] !== '--version') assert.ok(packages.has('yargs'), 'the recorder saw the command line library load');
    assert.deepEqual([...packages].filter(heavy), [], `${args.join(' ')} loaded heavy packages`);
  });
}

test('the recorder sees heavy packages when they do load, through import and through require', async () => {
  const esm = await recorded(['--input-type=module', '-e', "await import('apache-arrow')"]);
  assert.equal(esm.r.code, 0, esm.r.stderr);
  assert.ok(esm.packages.has('apache-arrow'));
  const cjs = await recorded(['-e', "require('cli-progress')"]);
  assert.equal(cjs.r.code, 0, cjs.r.stderr);
  assert.ok(cjs.packages.has('cli-progress'));
});
