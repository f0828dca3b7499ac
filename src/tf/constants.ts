// Names shared by the TensorFlow.js loader and `hierimpute info` (this file loads nothing).
export type TfBackendName = 'tensorflow' | 'wasm' | 'cpu';
/**
 * 'native' = the C++ kernels of hierimpute_core (native/core/kernels/neural.cc), no TensorFlow.js;
 * 'auto' = native when the addon has them, else TensorFlow.js on tensorflow > wasm > cpu.
 */
export type TfBackendChoice = 'auto' | 'native' | TfBackendName;
export const TF_BACKEND_CHOICES: readonly TfBackendChoice[] = ['auto', 'native', 'tensorflow', 'wasm', 'cpu'];
/** Environment variable naming the backend for every neural run of the process. */
export const TF_BACKEND_ENV = 'HIERIMPUTE_TF_BACKEND';
