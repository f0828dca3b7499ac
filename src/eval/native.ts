// The evaluation's per-cell loops are functions of the core addon, declared in src/bindings/core.ts;
// this alias keeps the evaluation modules' imports of them short.
export { coreAddon as scoreAddon, type HiddenCells } from '../bindings/core.js';
