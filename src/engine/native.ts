// The engine's row / band helpers are functions of the core addon, declared in src/bindings/core.ts;
// this alias keeps the engine modules' import of them short.
export { coreAddon as engineAddon } from '../bindings/core.js';
