#!/usr/bin/env node
// Seeded synthetic table with known truth, for testing and benchmarking imputers.
//
// Each row is x = tanh-warped mix of k latent Gaussian factors plus noise:
//   z ~ N(0, I_k); x_j = sum_f W[f][j] z_f + 0.5 * tanh(z_0 * W[0][j]) + noise * e_j,
// then column j is scaled by (j + 1) and shifted by 10 * j (so scaling bugs show). W ~ N(0, 1).
// Cells are hidden completely at random with probability `missing` (MCAR); rows never lose
// every cell unless `allowEmptyRows`. Same options and seed -> same table, on any machine.
//
// Library use:  import { generateCorrelated, rmse } from './scripts/gen-correlated.mjs'
// CLI:          node scripts/gen-correlated.mjs --rows 1000 --cols 8 --factors 3 --missing 0.2 --seed 1 \
//                 --out data.csv [--truth truth.csv]
import { closeSync, fsyncSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** mulberry32: a small seeded PRNG, uniform in [0, 1). */
export function mulberry32(seed) {
  let s = seed >>> 0;
  return () => {
    let t = (s = (s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function gaussian(next) {
  let u = 0;
  while (u === 0) u = next();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * next());
}

/**
 * @param {{rows?: number, cols?: number, factors?: number, noise?: number, missing?: number, seed?: number, allowEmptyRows?: boolean}} o
 * @returns {{names: string[], truth: Float32Array[], data: Float32Array[], hidden: number}}
 *   truth: complete columns; data: the same with hidden cells set to NaN; hidden: count of NaN cells.
 */
export function generateCorrelated(o = {}) {
  const rows = o.rows ?? 500;
  const cols = o.cols ?? 8;
  const factors = o.factors ?? 3;
  const noise = o.noise ?? 0.1;
  const missing = o.missing ?? 0.2;
  const seed = o.seed ?? 1;
  if (!(rows >= 1 && cols >= 1 && factors >= 1)) throw new RangeError('gen-correlated: rows, cols and factors must be >= 1');
  if (!(missing >= 0 && missing <= 1)) throw new RangeError('gen-correlated: missing must be in [0, 1]');
  const next = mulberry32(seed);
  const W = Array.from({ length: factors }, () => Array.from({ length: cols }, () => gaussian(next)));
  const names = Array.from({ length: cols }, (_, j) => `x${j + 1}`);
  const truth = Array.from({ length: cols }, () => new Float32Array(rows));
  const data = Array.from({ length: cols }, () => new Float32Array(rows));
  const z = new Float64Array(factors);
  let hidden = 0;
  for (let i = 0; i < rows; i++) {
    for (let f = 0; f < factors; f++) z[f] = gaussian(next);
    for (let j = 0; j < cols; j++) {
      let v = 0.5 * Math.tanh(z[0] * W[0][j]);
      for (let f = 0; f < factors; f++) v += W[f][j] * z[f];
      v += noise * gaussian(next);
      truth[j][i] = v * (j + 1) + 10 * j;
    }
    const hide = Array.from({ length: cols }, () => next() < missing);
    if (!o.allowEmptyRows && hide.every(Boolean)) hide[Math.floor(next() * cols)] = false;
    for (let j = 0; j < cols; j++) {
      data[j][i] = hide[j] ? NaN : truth[j][i];
      if (hide[j]) hidden++;
    }
  }
  return { names, truth, data, hidden };
}

/** Root mean squared error over the cells that are NaN in `data` (the hidden ones). */
export function rmse(data, truth, imputed, rowOffset = 0) {
  let sum = 0;
  let count = 0;
  for (let j = 0; j < data.length; j++) {
    for (let i = rowOffset; i < data[j].length; i++) {
      if (!Number.isNaN(data[j][i])) continue;
      const e = imputed[j][i - rowOffset] - truth[j][i];
      sum += e * e;
      count++;
    }
  }
  return Math.sqrt(sum / Math.max(count, 1));
}

/** Column-mean imputation of `data` (the baseline the neural imputers must beat). */
export function meanImpute(data) {
  return data.map((c) => {
    let s = 0;
    let k = 0;
    for (const v of c) if (!Number.isNaN(v)) ((s += v), k++);
    const m = s / k;
    return c.map((v) => (Number.isNaN(v) ? m : v));
  });
}

function toCsv(names, columns) {
  const lines = [names.join(',')];
  const rows = columns[0]?.length ?? 0;
  for (let i = 0; i < rows; i++) lines.push(columns.map((c) => (Number.isNaN(c[i]) ? '' : String(c[i]))).join(','));
  return lines.join('\n') + '\n';
}

function writeAtomic(path, text) {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    unlinkSync(tmp);
    throw err;
  }
  closeSync(fd);
  renameSync(tmp, path);
}

function parseArgs(argv) {
  const out = {};
  const numeric = new Set(['rows', 'cols', 'factors', 'noise', 'missing', 'seed']);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) throw new Error(`gen-correlated: unexpected argument '${a}'`);
    const key = a.slice(2);
    const value = argv[++i];
    if (value === undefined) throw new Error(`gen-correlated: option --${key} needs a value`);
    if (numeric.has(key)) {
      const v = Number(value);
      if (!Number.isFinite(v)) throw new Error(`gen-correlated: option --${key} expects a number, got '${value}'`);
      out[key] = v;
    } else if (key === 'out' || key === 'truth') out[key] = value;
    else throw new Error(`gen-correlated: unknown option --${key} (valid: --${[...numeric, 'out', 'truth'].join(', --')})`);
  }
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = parseArgs(process.argv.slice(2));
  if (!args.out) throw new Error('gen-correlated: --out FILE.csv is required');
  const t = generateCorrelated(args);
  writeAtomic(args.out, toCsv(t.names, t.data));
  if (args.truth) writeAtomic(args.truth, toCsv(t.names, t.truth));
  process.stderr.write(`gen-correlated: ${t.data[0].length} rows x ${t.names.length} columns, ${t.hidden} hidden cells -> ${args.out}\n`);
}
