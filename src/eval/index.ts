// The evaluation: holdout masking, scoring, leaderboard, best-sequence refit (used by `run --evaluate`).
export {
  checkHoldoutOptions,
  holdoutPaths,
  maskTable,
  MIN_OBSERVED,
  repeatSeed,
  readMaskFile,
  writeHoldout,
  writeMaskFile,
  type HiddenCells,
  type HoldoutOptions,
  type HoldoutPaths,
} from './holdout.js';
export { scoreTable, type Score, type Truth } from './score.js';
export {
  bestSequencesCsv,
  leaderboardCsv,
  loadTruth,
  rankRows,
  scoreCandidates,
  scoreDataset,
  aggregateRow,
  type BestRow,
  type LeaderboardRow,
} from './leaderboard.js';
export { refitBest, refitEnsemble, type RefitResult } from './refit.js';
export {
  checkEvaluateOptions,
  finishEvaluation,
  maskedPaths,
  recommendation,
  prepareEvaluation,
  type EvaluateOptions,
  type EvaluationSummary,
} from './evaluate.js';
export { leaderboardSpec, methodBandSpec, methodBandTable, type MethodBandCell } from '../report/eval-plots.js';
export {
  cellMean,
  chooseEnsemble,
  ENSEMBLE_SIZES,
  hiddenPredictions,
  scorePredictions,
  splitHalves,
  type Candidate,
  type EnsembleChoice,
} from './ensemble.js';
export { baselineSequences, evaluationItems, evaluationPlan, oneBandEdges, sweepMethods, type EvaluationPlan, type HoldoutCopy } from './plan.js';
