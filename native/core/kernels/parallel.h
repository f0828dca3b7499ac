// A tiny deterministic parallel-for over independent work units (rows, columns, trees, blocks).
//
// Determinism contract: `fn(unit, worker)` must write only results owned by `unit` and read only
// shared immutable inputs (plus the scratch owned by `worker`, which it must fully reset per use).
// Then the output is bit-identical for any thread count: units are the same whatever the threads,
// only which worker runs which unit (and when) changes. Derive any per-unit RNG stream from
// (seed, unit), never from `worker`.
//
// threads: 1 = run inline on the calling thread (MPI ranks), 0 = all cores
// (std::thread::hardware_concurrency), n = at most n threads (never more than there are units).
// The first exception thrown by a unit is rethrown on the calling thread after all workers stop;
// remaining units are skipped once a unit has failed.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace hierimpute {

/** Number of workers for a `threads` option value (0 = all cores) and a count of work units. */
inline int ResolveThreads(int threads, std::size_t units) {
  int n = threads;
  if (n <= 0) {
    unsigned hw = std::thread::hardware_concurrency();
    n = hw == 0 ? 1 : static_cast<int>(hw);
  }
  if (units < static_cast<std::size_t>(n)) n = static_cast<int>(std::max<std::size_t>(units, 1));
  return n;
}

/**
 * Runs fn(unit, worker) for every unit in [0, units). Units are handed out dynamically (an atomic
 * counter), so uneven units balance; worker is in [0, ResolveThreads(threads, units)) and indexes
 * per-worker scratch the caller allocated up front.
 */
template <typename Fn>
void ParallelFor(std::size_t units, int threads, Fn&& fn) {
  if (units == 0) return;
  const int workers = ResolveThreads(threads, units);
  if (workers == 1) {
    for (std::size_t u = 0; u < units; ++u) fn(u, 0);
    return;
  }
  std::atomic<std::size_t> next{0};
  std::atomic<bool> failed{false};
  std::exception_ptr error;
  std::mutex errorLock;
  auto body = [&](int worker) {
    for (;;) {
      if (failed.load(std::memory_order_relaxed)) return;
      const std::size_t u = next.fetch_add(1, std::memory_order_relaxed);
      if (u >= units) return;
      try {
        fn(u, worker);
      } catch (...) {
        std::lock_guard<std::mutex> guard(errorLock);
        if (!error) error = std::current_exception();
        failed.store(true, std::memory_order_relaxed);
        return;
      }
    }
  };
  std::vector<std::thread> pool;
  pool.reserve(static_cast<std::size_t>(workers - 1));
  try {
    for (int w = 1; w < workers; ++w) pool.emplace_back(body, w);
  } catch (...) {
    // Could not start a thread (resource limits): the started ones plus this one do all units.
  }
  body(0);
  for (auto& t : pool) t.join();
  if (error) std::rethrow_exception(error);
}

/** Number of blocks of `block` items covering n items. */
inline std::size_t BlockCount(std::size_t n, std::size_t block) { return (n + block - 1) / block; }

}  // namespace hierimpute
