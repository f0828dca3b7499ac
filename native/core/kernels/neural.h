// Native training and inference of the neural imputers' models (lstm, rnn, gan): forward and
// backward passes written out by hand, Adam, seeded initialisation. The TypeScript side
// (src/impute/methods/{lstm,rnn,gan,neural-common}.ts) prepares the scaled table and un-scales the
// result; TensorFlow.js stays the portable path of the same models (option tf_backend).
//
// Recurrent autoencoder (lstm: LSTM cell, 1 value per step; rnn: GRU cell, [value, flag] per step).
// A row of d columns is a sequence of d steps; step t carries its F values and the one-hot code of
// column t:
//   encoder cell(units) over t = 0..d-1 -> last h -> Dense(latent) -> repeated d times, with the
//   column code -> decoder cell(units), every step -> Dense(1) per step -> the d reconstructed values.
// Multiplying a one-hot code by a kernel selects one kernel row, so the code costs one row add per
// step, and the decoder's latent part (the same at every step) is computed once per row.
// Cells: LSTM (gates i, f, g, o; sigmoid / tanh); GRU (z, r, h~; reset applied before the recurrent
// product, tfjs/Keras' resetAfter=false form). Zero initial states. Kernels and recurrent kernels are
// glorot-uniform, biases zero.
// Loss: sum(w * (y - target)^2) / max(sum(w), 1) over the batch (masked MSE); Adam (beta1 0.9,
// beta2 0.999, eps 1e-7, as tf.train.adam).
//
// Determinism: a batch is cut into chunks of kChunkRows rows (a constant, never the thread count);
// each chunk accumulates its rows' gradients in row order into its own buffer, and the chunk
// buffers are summed in chunk order. ParallelFor only changes which thread computes a chunk, so
// the output is bit-identical for any thread count. Every random draw (shuffles, masks, noise,
// initialisation) comes from mulberry32 streams seeded by the caller and drawn on one thread.
// Builds with -ffp-contract=off (CMakeLists.txt): no fused multiply-adds, so the vectorised and the
// scalar forms of a loop round the same way.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace hierimpute {
namespace nn {

/** Rows per gradient chunk: the unit of parallel work and of the fixed reduction order. */
constexpr int kChunkRows = 16;

/** mulberry32, bit-identical to the TypeScript Rng (src/impute/methods/neural-common.ts). */
class Mulberry32 {
 public:
  explicit Mulberry32(uint32_t seed) : state_(seed) {}
  double Next() {
    uint32_t t = (state_ += 0x6d2b79f5u);
    t = (t ^ (t >> 15)) * (t | 1u);
    t ^= t + (t ^ (t >> 7)) * (t | 61u);
    return static_cast<double>(t ^ (t >> 14)) / 4294967296.0;
  }
  uint32_t Below(uint32_t n) { return static_cast<uint32_t>(Next() * n); }
  /** Shuffles the first `count` positions of p uniformly among all of p (partial Fisher-Yates). */
  void ShuffleInPlace(std::vector<int32_t>& p, std::size_t count) {
    const std::size_t n = p.size();
    for (std::size_t i = 0; i + 1 < n && i < count; ++i) {
      const std::size_t j = i + Below(static_cast<uint32_t>(n - i));
      std::swap(p[i], p[j]);
    }
  }
  /** Standard normal (Box-Muller). */
  double Normal();

 private:
  uint32_t state_;
};

enum class Cell { Lstm, Gru };
enum class Objective {
  /** lstm: inputs are the rows (missing cells at 0 = the column mean); loss on observed cells. */
  Observed,
  /** rnn: per batch a share mask_rate of observed cells is hidden (value 0, flag 0); the loss
   *  weighs hidden cells 1 and visible observed cells visibleWeight; early stopping on held-out rows. */
  DynamicMask,
};

struct RecurrentConfig {
  Cell cell = Cell::Lstm;
  Objective objective = Objective::Observed;
  int d = 2;         // columns = steps
  int features = 1;  // values per step: 1 (value) or 2 (value, observed flag)
  int units = 32;
  int latent = 1;
  int epochs = 1;  // lstm: epochs; rnn: max_epochs
  int batchSize = 64;
  double learningRate = 0.01;
  /** Observed: share of observed cells hidden per batch (0 = none, the plain autoencoder). */
  double maskRate = 0.0;
  double visibleWeight = 0.1;
  int patience = 10;
  int refineIterations = 0;
  uint32_t initSeeds[6] = {0, 0, 0, 0, 0, 0};
  uint32_t shuffleSeed = 0;
  uint32_t maskSeed = 0;
  int threads = 1;
};

/** Input of one recurrent training + imputation run. Row-major n x d arrays (not owned). */
struct RecurrentData {
  const float* x = nullptr;     // standardised values, missing cells 0 (the column mean)
  const float* mask = nullptr;  // 1 observed, 0 missing
  int n = 0;
  int targetStart = 0;
  /** Rows trained on (the order before the first shuffle). */
  std::vector<int32_t> trainRows;
  /** DynamicMask: held-out rows and their fixed hidden cells (nVal x d, 0/1; observed cells only). */
  std::vector<int32_t> valRows;
  std::vector<float> valHidden;
};

struct RecurrentResult {
  /** (n - targetStart) x d reconstruction of the target rows (standardised). */
  std::vector<float> pred;
  int epochsRun = 0;
  int bestEpoch = 0;
  double bestScore = 0;
  double lastLoss = 0;
};

RecurrentResult TrainRecurrent(const RecurrentConfig& cfg, const RecurrentData& data);

/** Number of parameters of the recurrent autoencoder. */
std::size_t RecurrentParamCount(const RecurrentConfig& cfg);

/**
 * For the gradient check: loss and gradient (in double) of the masked MSE of `rows` rows given as
 * inputs [rows, d, features], targets and loss weights [rows, d], at parameters `params`.
 */
double RecurrentLossGradDouble(const RecurrentConfig& cfg, const std::vector<double>& params, const double* inputs,
                               const double* target, const double* weight, int rows, std::vector<double>& grad);
/** The seeded initial parameters (float), as training starts from. */
std::vector<float> RecurrentInitParams(const RecurrentConfig& cfg);

// ---------------------------------------------------------------------------------------------
// GAIN: generator G and discriminator D, each [a, b] (2d) -> h relu -> h relu -> d sigmoid.

struct GainConfig {
  int d = 2;
  int hidden = 2;
  int iterations = 1;
  int batchSize = 128;
  double hintRate = 0.9;
  double alpha = 100;
  double learningRate = 0.001;
  uint32_t initSeedsG[3] = {0, 0, 0};
  uint32_t initSeedsD[3] = {0, 0, 0};
  uint32_t batchSeed = 0;
  uint32_t noiseSeed = 0;
  uint32_t imputeSeed = 0;
};

struct GainData {
  const float* x = nullptr;  // n x d, min-max scaled to [0, 1], missing cells 0
  const float* mask = nullptr;
  int n = 0;
  int targetStart = 0;
};

/** (n - targetStart) x d generator output for the target rows (scaled). */
std::vector<float> TrainGain(const GainConfig& cfg, const GainData& data);

std::size_t GainParamCount(const GainConfig& cfg);

/**
 * For the gradient check: GAIN's discriminator loss (which = 0, gradient w.r.t. D's parameters) or
 * generator loss (which = 1, gradient w.r.t. G's parameters) in double, for a batch of `rows` rows:
 * x, m, xTilde (noise filled in), hint [rows, d].
 */
double GainLossGradDouble(const GainConfig& cfg, int which, const std::vector<double>& paramsG,
                          const std::vector<double>& paramsD, const double* x, const double* m, const double* xTilde,
                          const double* hint, int rows, std::vector<double>& grad);

}  // namespace nn
}  // namespace hierimpute
