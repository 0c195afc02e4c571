// The process-wide worker pools of parallel_pieces (see parallel.h): one per thread count asked for,
// made on first use and kept until the process exits.
#include "core/analysis/ib/parallel.h"

#include <map>
#include <memory>

namespace headscope::analysis::ib {

WorkerPool* shared_worker_pool(int threads) {
  static std::mutex mutex;
  static std::map<int, std::unique_ptr<WorkerPool>> pools;
  if (threads <= 1) return nullptr;
  std::lock_guard<std::mutex> lock(mutex);
  std::unique_ptr<WorkerPool>& pool = pools[threads];
  if (!pool) pool = std::make_unique<WorkerPool>(threads - 1);
  return pool.get();
}

}  // namespace headscope::analysis::ib
