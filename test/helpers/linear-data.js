// Generated tables where model-based imputation is clearly right: 3 latent normal columns and
// 4 columns that are exact linear functions of them. Half the rows miss at most 1 cell, the other
// half miss 3 cells (the heavy band). Seeded (mulberry32 + Box-Muller), so every run is the same.
function mulberry32(a) {
  return () => {
    a |= 0;
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** CSV text of a `rows`-row table with columns a..g (a, b, c latent; d..g linear in them). */
export function linearTable({ rows = 240, seed = 1 } = {}) {
  const rnd = mulberry32(seed);
  const normal = () => Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd());
  const lines = ['a,b,c,d,e,f,g'];
  for (let i = 0; i < rows; i++) {
    const a = 10 + 3 * normal();
    const b = -5 + 2 * normal();
    const c = 4 * normal();
    const cells = [a, b, c, 2 * a - b + 1, b + 0.5 * c - 2, a + c, 3 * a - 2 * c].map((v) => Number(v.toFixed(4)));
    const drop = i % 2 === 0 ? (rnd() < 0.5 ? 0 : 1) : 3;
    const order = [0, 1, 2, 3, 4, 5, 6].sort(() => rnd() - 0.5);
    const text = cells.map(String);
    for (let t = 0; t < drop; t++) text[order[t]] = '';
    lines.push(text.join(','));
  }
  return lines.join('\n') + '\n';
}

/** The evaluation test's sweep: a light band always `iterative_simple`, the heavy band mean | knn | iterative_simple. */
export function linearConfig() {
  return {
    bands: [
      { width: 0.2, methods: ['iterative_simple'] },
      { width: 0.8, methods: ['mean', 'knn', 'iterative_simple'] },
    ],
    seed: 3,
    params: { iterative_simple: { max_iter: 10 } },
  };
}
