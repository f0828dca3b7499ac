// Seeded generator of the bundled example data (examples/data/*.csv): correlated numeric columns
// (a few latent factors + noise, one nonlinear column) with per-row missingness spread over
// 0–100 %, so every band of the presets has rows. Deterministic: same seed, same files.
// Usage: node scripts/gen-example-data.mjs [outDir] [seed]
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const outDir = process.argv[2] ?? 'examples/data';
const seed0 = Number(process.argv[3] ?? 20261122);

function rng(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function gauss(r) {
  const u = Math.max(r(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * r());
}

/** Missing fraction per row: a quarter complete, the rest spread evenly over (0, 1]. */
function missingCount(r, k) {
  return r() < 0.25 ? 0 : Math.max(1, Math.round(r() * k));
}

export function generate({ rows, cols, seed, name }) {
  const r = rng(seed);
  const factors = 3;
  const load = Array.from({ length: cols }, () => Array.from({ length: factors }, () => gauss(r)));
  const lines = [Array.from({ length: cols }, (_, j) => `${name}_x${j + 1}`).join(',')];
  for (let i = 0; i < rows; i++) {
    const f = Array.from({ length: factors }, () => gauss(r));
    const row = load.map((l, j) => {
      let v = l.reduce((a, w, q) => a + w * f[q], 0) + 0.3 * gauss(r);
      if (j === cols - 1) v = Math.sin(f[0]) * 2 + 0.1 * gauss(r);
      return 10 + 3 * v;
    });
    const miss = missingCount(r, cols);
    const idx = Array.from({ length: cols }, (_, j) => j);
    for (let t = 0; t < miss; t++) {
      const p = t + Math.floor(r() * (cols - t));
      [idx[t], idx[p]] = [idx[p], idx[t]];
    }
    const hidden = new Set(idx.slice(0, miss));
    lines.push(row.map((v, j) => (hidden.has(j) ? '' : v.toPrecision(5))).join(','));
  }
  return lines.join('\n') + '\n';
}

if (import.meta.url === `file://${process.argv[1]}`) {
  mkdirSync(outDir, { recursive: true });
  const specs = [
    { name: 'clinic-a', rows: 600, cols: 12 },
    { name: 'sensors-b', rows: 400, cols: 8 },
  ];
  specs.forEach((s, i) => {
    writeFileSync(join(outDir, `${s.name}.csv`), generate({ ...s, name: s.name.split('-')[0], seed: seed0 + i }));
  });
  process.stdout.write(`wrote ${specs.map((s) => `${s.name}.csv (${s.rows}×${s.cols})`).join(', ')} to ${outDir}\n`);
}
