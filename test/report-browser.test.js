// OUT/report.html in a real headless browser (Debian's chromium; scripts/setup.sh installs it):
// the page's own script runs and marks the DOM with what rendered (leaderboard rows, SVGs with
// a non-zero layout box), and the page references nothing outside itself.
// HIERIMPUTE_SKIP_BROWSER=1 skips this file (machines without a browser); HIERIMPUTE_CHROMIUM
// names the browser binary.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { before, test } from 'node:test';

import { linearConfig, linearTable } from './helpers/linear-data.js';
import { run } from './helpers/mpirun.js';
import { runCli, tempDir, writeConfig } from './helpers/sweep.js';

function findBrowser() {
  const names = [process.env.HIERIMPUTE_CHROMIUM, 'chromium', 'chromium-browser', 'google-chrome'].filter(Boolean);
  for (const n of names) {
    try {
      return execFileSync('sh', ['-c', `command -v "${n}"`])
        .toString()
        .trim();
    } catch {}
  }
  return null;
}

const skip = process.env.HIERIMPUTE_SKIP_BROWSER === '1';
const browser = skip ? null : findBrowser();
let out;

async function dumpDom(file) {
  const args = [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-first-run',
    `--user-data-dir=${tempDir('hi-chromium-')}`,
    '--virtual-time-budget=5000',
    '--dump-dom',
    pathToFileURL(file).href,
  ];
  const r = await run([browser, ...args], { hardTimeoutMs: 60_000 });
  assert.equal(r.code, 0, `${browser} failed: ${r.stderr.slice(-2000)}`);
  return r.stdout;
}

before(async () => {
  if (skip) return;
  assert.ok(
    browser,
    "no chromium found: run scripts/setup.sh (installs Debian's chromium), set HIERIMPUTE_CHROMIUM, or HIERIMPUTE_SKIP_BROWSER=1 to skip",
  );
  const data = tempDir('hi-rep-data-');
  writeFileSync(join(data, 'lin-one.csv'), linearTable({ rows: 160, seed: 4 }));
  writeFileSync(join(data, 'b<&>.csv'), linearTable({ rows: 120, seed: 5 }));
  const cfg = writeConfig(tempDir('hi-rep-cfg-'), linearConfig());
  out = tempDir('hi-rep-out-');
  const r = await runCli(['run', '--config', cfg, '--data', data, '--out', out, '--progress=false', '--evaluate']);
  assert.equal(r.code, 0, r.stderr);
});

test(
  'report.html renders in headless chromium: leaderboard rows, best sequences, every plot laid out, names escaped',
  { skip: skip && 'HIERIMPUTE_SKIP_BROWSER=1' },
  async () => {
    const dom = await dumpDom(join(out, 'report.html'));
    const body = dom.match(/<body([^>]*)>/)?.[1] ?? '';
    assert.match(body, /data-rendered="yes"/, 'the page script ran');
    // 2 datasets × (3 sequences + 3 baselines).
    assert.match(body, /data-leaderboard-rows="12"/);
    // 2 leaderboard plots + method × band + time per method + groups, each with a layout box.
    assert.match(body, /data-svgs-rendered="5"/);
    assert.equal((dom.match(/<figure>/g) ?? []).length, 5);
    const best = dom.match(/<table class="best-sequences">[\s\S]*?<\/table>/)?.[0] ?? '';
    // One row per dataset, naming its best candidate and the recommended table's members; one recommendation each.
    assert.equal((best.match(/<tr><td>/g) ?? []).length, 2);
    assert.match(best, /(seq_2_iterative_simple_iterative_simple|baseline_iterative_simple)/);
    assert.equal((dom.match(/<p class="recommendation"/g) ?? []).length, 2);
    // A dataset name with HTML characters is written escaped, and shown as that text.
    assert.match(dom, /<h3>b&lt;&amp;&gt;<\/h3>/);
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    assert.doesNotMatch(html, /b<&>/);
  },
);

test('report.html is self-contained: no external scripts, styles, images or fonts', { skip: skip && 'HIERIMPUTE_SKIP_BROWSER=1' }, () => {
  const html = readFileSync(join(out, 'report.html'), 'utf8');
  assert.doesNotMatch(html, /<(script|img|link|iframe)[^>]+(src|href)=/i);
  assert.doesNotMatch(html, /@import|url\((?!#)/i);
  // The only http(s) strings are XML namespaces of the inline SVGs.
  const urls = (html.match(/https?:\/\/[^"' )]+/g) ?? []).filter((u) => !/^http:\/\/www\.w3\.org\/(2000\/svg|1999\/xlink)$/.test(u));
  assert.deepEqual(urls, []);
});
