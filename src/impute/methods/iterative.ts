// Placeholder until the iterative kernels land.
export {};
