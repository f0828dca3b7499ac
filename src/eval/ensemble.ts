// The recommended table as an ensemble: the cell-wise mean of the top-K candidates' imputations.
//
// Choosing K without scoring the choice on the cells that made it: each repeat's hidden cells are
// split into two halves by a seeded rule (splitHalves: a hash of the holdout seed, the dataset,
// the repeat and the cell's place in the mask file). On half A the candidates (sequences and
// baselines) are ranked and K ∈ ENSEMBLE_SIZES is chosen (lowest mean nRMSE over repeats; a tie
// keeps the smaller K); the chosen ensemble is then scored on half B, which played no part in the
// choice. With a fixed K (--ensemble K) the members are the leaderboard's top K and the score is
// on every hidden cell (K = 1: the leaderboard's best, as before).
//
// The per-cell averaging is one typed-array loop (cellMean), used for the hidden-cell predictions
// here and for the refitted tables (refit.ts).
import { sha256 } from '../engine/keys.js';
import { normalizedRmse, type Truth } from './score.js';

/** The ensemble sizes tried when K is chosen on the holdout. */
export const ENSEMBLE_SIZES = [1, 2, 3, 5, 8] as const;

/**
 * Cell-wise mean of `parts` (equal lengths), summed in double and rounded to float32 once. Where
 * `keep` holds a value (an observed cell of the input), that value is written instead.
 */
export function cellMean(parts: readonly Float32Array[], keep?: Float32Array): Float32Array {
  const n = parts[0]?.length ?? 0;
  for (const p of parts) if (p.length !== n) throw new Error(`cellMean: parts of ${p.length} and ${n} cells`);
  const sum = new Float64Array(n);
  for (const p of parts) for (let i = 0; i < n; i++) sum[i]! += p[i]!;
  const out = new Float32Array(n);
  const k = parts.length;
  for (let i = 0; i < n; i++) {
    const v = keep?.[i];
    out[i] = v !== undefined && !Number.isNaN(v) ? v : sum[i]! / k;
  }
  return out;
}

/** The imputed value of every hidden cell (mask order) of one output table's columns. */
export function hiddenPredictions(columns: readonly Float32Array[], truth: Truth): Float32Array {
  const { rows, cols } = truth.hidden;
  const out = new Float32Array(rows.length);
  for (let i = 0; i < rows.length; i++) out[i] = columns[cols[i]!]![rows[i]!]!;
  return out;
}

/** Half of each hidden cell: 0 = A (ranking and choice), 1 = B (the reported score). */
export function splitHalves(nCells: number, seed: number, dataset: string, repeat: number): Uint8Array {
  const s = Number.parseInt(sha256(`hierimpute ensemble split\n${seed}\n${dataset}\n${repeat}`).slice(0, 8), 16) | 0;
  const half = new Uint8Array(nCells);
  for (let i = 0; i < nCells; i++) {
    // A 32-bit finaliser (murmur3 fmix32) of the seeded cell index.
    let z = (s + Math.imul(i + 1, 0x9e3779b9)) | 0;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    z ^= z >>> 16;
    half[i] = z & 1;
  }
  return half;
}

/** nRMSE and RMSE of predictions at the hidden cells, over the cells whose half is `which` (every cell when `which` is undefined). */
export function scorePredictions(
  pred: Float32Array,
  truth: Truth,
  halves?: Uint8Array,
  which?: number,
): { nrmse: number; rmse: number; cells: number } {
  const k = truth.std.length;
  const sse = new Float64Array(k);
  const count = new Float64Array(k);
  const { cols, values } = truth.hidden;
  let total = 0;
  let cells = 0;
  for (let i = 0; i < pred.length; i++) {
    if (which !== undefined && halves![i] !== which) continue;
    const e = pred[i]! - values[i]!;
    sse[cols[i]!]! += e * e;
    count[cols[i]!]!++;
    total += e * e;
    cells++;
  }
  return { nrmse: normalizedRmse(sse, count, truth.std, 0), rmse: cells > 0 ? Math.sqrt(total / cells) : NaN, cells };
}

/** One candidate (a sequence or a baseline) with its hidden-cell predictions, per repeat. */
export interface Candidate {
  readonly sequence: number;
  readonly label: string;
  /** Predictions per repeat (mask order of that repeat). */
  readonly preds: readonly Float32Array[];
}

export interface EnsembleChoice {
  readonly k: number;
  /** Members, best first. */
  readonly members: readonly Candidate[];
  /** Score of the chosen ensemble: on half B ('B') when chosen on half A, else on every hidden cell ('all'). */
  readonly nrmse: number;
  readonly rmse: number;
  readonly scoredOn: 'B' | 'all';
  /** Auto choice: the mean half-A nRMSE of each K tried. */
  readonly tried: { k: number; nrmseA: number }[];
  /** The first member alone, scored on the same cells as the ensemble (what K > 1 gains over it). */
  readonly single: { label: string; nrmse: number; rmse: number };
}

const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

/** Mean over repeats of an ensemble's score (its members' predictions averaged per cell). */
function ensembleScore(
  members: readonly Candidate[],
  truths: readonly Truth[],
  halves?: readonly Uint8Array[],
  which?: number,
): { nrmse: number; rmse: number } {
  const s = truths.map((t, r) => scorePredictions(cellMean(members.map((m) => m.preds[r]!)), t, halves?.[r], which));
  return { nrmse: mean(s.map((x) => x.nrmse)), rmse: mean(s.map((x) => x.rmse)) };
}

const byScoreThenId = (a: { s: number; c: Candidate }, b: { s: number; c: Candidate }): number => {
  const an = Number.isNaN(a.s);
  const bn = Number.isNaN(b.s);
  if (an !== bn) return an ? 1 : -1;
  if (!an && a.s !== b.s) return a.s - b.s;
  return a.c.sequence - b.c.sequence;
};

/**
 * The ensemble of one dataset. `ranked`: the candidates in leaderboard order (used for a fixed K);
 * `truths`: one per repeat; `halves`: splitHalves of each repeat.
 */
export function chooseEnsemble(
  ranked: readonly Candidate[],
  truths: readonly Truth[],
  halves: readonly Uint8Array[],
  fixedK?: number,
): EnsembleChoice {
  if (ranked.length === 0) throw new Error('chooseEnsemble: no candidates');
  if (fixedK !== undefined) {
    const members = ranked.slice(0, Math.min(fixedK, ranked.length));
    const s = ensembleScore(members, truths);
    const one = ensembleScore(members.slice(0, 1), truths);
    return { k: members.length, members, nrmse: s.nrmse, rmse: s.rmse, scoredOn: 'all', tried: [], single: { label: members[0]!.label, ...one } };
  }
  const onA = ranked
    .map((c) => ({ c, s: mean(truths.map((t, r) => scorePredictions(c.preds[r]!, t, halves[r], 0).nrmse)) }))
    .sort(byScoreThenId)
    .map((x) => x.c);
  const tried = ENSEMBLE_SIZES.filter((k) => k <= onA.length).map((k) => ({ k, nrmseA: ensembleScore(onA.slice(0, k), truths, halves, 0).nrmse }));
  let best = tried[0]!;
  for (const t of tried) if (t.nrmseA < best.nrmseA || (Number.isNaN(best.nrmseA) && !Number.isNaN(t.nrmseA))) best = t;
  const members = onA.slice(0, best.k);
  const s = ensembleScore(members, truths, halves, 1);
  const one = ensembleScore(members.slice(0, 1), truths, halves, 1);
  return { k: best.k, members, nrmse: s.nrmse, rmse: s.rmse, scoredOn: 'B', tried, single: { label: members[0]!.label, ...one } };
}
