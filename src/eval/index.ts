// The evaluation: holdout masking, scoring, leaderboard, best-sequence refit (used by `run --evaluate`).
export { checkHoldoutOptions, holdoutPaths, maskTable, MIN_OBSERVED, readMaskFile, writeHoldout, writeMaskFile, type HiddenCells, type HoldoutOptions, type HoldoutPaths } from './holdout.js';
export { scoreTable, type Score, type Truth } from './score.js';
export { bestSequencesCsv, leaderboardCsv, loadTruth, rankRows, scoreDataset, type BestRow, type LeaderboardRow } from './leaderboard.js';
export { refitBest, type RefitResult } from './refit.js';
export { finishEvaluation, maskedPaths, prepareEvaluation, type EvaluateOptions, type EvaluationSummary } from './evaluate.js';
export { leaderboardSpec, methodBandSpec, methodBandTable, type MethodBandCell } from './plots.js';
