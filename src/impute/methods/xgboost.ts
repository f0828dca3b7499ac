// Placeholder until the xgboost kernels land.
export {};
