// Helpers for sweep tests: generated data folders, running the CLI, reading outputs.
import { mkdtempSync, readFileSync, readdirSync, writeFileSync, mkdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { PRESETS } from '../../dist/engine/config.js';
import { generate } from '../../scripts/gen-example-data.mjs';
import { noLauncher, root } from './mpirun.js';

export const main = join(root, 'dist', 'main.js');

export function tempDir(prefix) {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** A data folder with two small generated tables. */
export function makeData(dir = tempDir('hi-data-'), { rows = 160, seed = 7 } = {}) {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'alpha-one.csv'), generate({ rows, cols: 8, seed, name: 'a' }));
  writeFileSync(join(dir, 'beta.csv'), generate({ rows: Math.round(rows * 0.75), cols: 6, seed: seed + 1, name: 'b' }));
  return dir;
}

export function writeConfig(dir, config, name = 'config.json') {
  const p = join(dir, name);
  writeFileSync(p, typeof config === 'string' ? config : JSON.stringify(config));
  return p;
}

/** The quick preset as a fresh config object (edit it for variants). */
export function quickConfig() {
  return PRESETS.quick();
}

export function runCli(args, opts = {}) {
  return noLauncher([main, ...args], { hardTimeoutMs: 240_000, ...opts });
}

export function readCsv(path) {
  const lines = readFileSync(path, 'utf8').trimEnd().split('\n');
  const header = lines[0].split(',');
  const rows = lines.slice(1).map((l) => l.split(','));
  return { header, rows };
}

/** Cell text -> float32 value (NaN for missing). */
export function f32(text) {
  const t = text.trim();
  if (t === '' || t === 'NA' || t === 'NaN') return NaN;
  return Math.fround(Number(t));
}

export function summary(out) {
  return JSON.parse(readFileSync(join(out, 'run-summary.json'), 'utf8'));
}

/** Every output file of the sequences folder: relative path -> bytes. */
export function sequenceFiles(out) {
  const files = new Map();
  const base = join(out, 'sequences');
  for (const d of readdirSync(base).sort()) for (const f of readdirSync(join(base, d)).sort()) files.set(`${d}/${f}`, readFileSync(join(base, d, f)));
  return files;
}

export function mtimes(out) {
  const m = new Map();
  const base = join(out, 'sequences');
  for (const d of readdirSync(base)) for (const f of readdirSync(join(base, d))) m.set(`${d}/${f}`, statSync(join(base, d, f)).mtimeMs);
  return m;
}

export function cacheNodes(out) {
  const base = join(out, 'cache');
  let n = 0;
  try {
    for (const d of readdirSync(base)) n += readdirSync(join(base, d)).filter((f) => f.endsWith('.arrow')).length;
  } catch {}
  return n;
}
