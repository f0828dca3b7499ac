// Names shared by the TensorFlow.js loader and `hierimpute info` (this file loads nothing).
export type TfBackendName = 'tensorflow' | 'wasm' | 'cpu';
export type TfBackendChoice = 'auto' | TfBackendName;
export const TF_BACKEND_CHOICES: readonly TfBackendChoice[] = ['auto', 'tensorflow', 'wasm', 'cpu'];
/** Environment variable naming the backend for every neural run of the process. */
export const TF_BACKEND_ENV = 'HIERIMPUTE_TF_BACKEND';
