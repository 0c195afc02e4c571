// The parallel loop of the IB and k-means kernels, on std::thread: `pieces` independent pieces claimed one
// at a time by the caller and the helpers of a process-wide pool that lives between calls. A pool, since
// the IB iteration runs thousands of short passes and starting threads for each would cost more than the
// pass; claiming, since on a busy machine a helper the OS has not scheduled then simply claims no piece
// and the caller does the rest instead of waiting for it. Results never depend on timing as long as each
// piece writes only its own outputs.
#pragma once
#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>
#include "core/util/threads.h"

namespace headscope::analysis::ib {

// Threads to use when the caller asked for `requested` (0 = all the machine has).
inline int resolve_thread_count(int requested) { return capped_thread_count(requested); }

// Helper threads that wait for jobs; see parallel_pieces. One job at a time: a second caller while a job
// runs gets false from try_run and does its work itself.
class WorkerPool {
 public:
  explicit WorkerPool(int helpers) {
    for (int i = 0; i < helpers; ++i) helpers_.emplace_back([this] { serve(); });
  }
  ~WorkerPool() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    wake_.notify_all();
    for (auto& helper : helpers_) helper.join();
  }
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  int helper_count() const { return static_cast<int>(helpers_.size()); }

  // Runs body(piece) for every piece in [0, pieces) on this thread and any helper that joins; false
  // (nothing run) when another caller's job is running.
  bool try_run(std::int64_t pieces, const std::function<void(std::int64_t)>& body) {
    std::unique_lock<std::mutex> exclusive(run_mutex_, std::try_to_lock);
    if (!exclusive.owns_lock()) return false;
    Job job{&body, pieces};
    {
      std::lock_guard<std::mutex> lock(mutex_);
      job.generation = ++generation_;
      current_ = &job;
    }
    wake_.notify_all();
    job.work();
    {
      std::lock_guard<std::mutex> lock(mutex_);  // after this no helper can join the job
      current_ = nullptr;
    }
    // Helpers that joined are running it now; each finishes the piece in hand, at most.
    while (job.running.load(std::memory_order_acquire) > 0) std::this_thread::yield();
    return true;
  }

 private:
  struct Job {
    const std::function<void(std::int64_t)>* body;
    std::int64_t pieces;
    std::uint64_t generation = 0;
    std::atomic<std::int64_t> next{0};
    std::atomic<int> running{0};  // helpers inside work()
    void work() {
      for (std::int64_t piece; (piece = next.fetch_add(1, std::memory_order_relaxed)) < pieces;) (*body)(piece);
    }
  };

  void serve() {
    std::uint64_t seen = 0;
    for (;;) {
      Job* job = nullptr;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        wake_.wait(lock, [&] { return stop_ || (current_ && current_->generation != seen); });
        if (stop_) return;
        job = current_;
        seen = job->generation;
        job->running.fetch_add(1, std::memory_order_relaxed);  // under the lock: the caller waits for it
      }
      job->work();
      job->running.fetch_sub(1, std::memory_order_release);
    }
  }

  std::vector<std::thread> helpers_;
  std::mutex run_mutex_;  // one job at a time
  std::mutex mutex_;      // guards current_, generation_, stop_
  std::condition_variable wake_;
  Job* current_ = nullptr;
  std::uint64_t generation_ = 0;
  bool stop_ = false;
};

// The process-wide pool with `threads - 1` helpers (made on first use, kept until exit); nullptr for
// threads <= 1.
WorkerPool* shared_worker_pool(int threads);

// Calls body(piece) once for each piece in [0, pieces): on this thread alone when threads <= 1 or there
// is a single piece, else shared with the pool's helpers (dynamic claiming, so uneven progress of the
// threads costs nothing).
template <typename Body>
void parallel_pieces(std::int64_t pieces, int threads, Body&& body) {
  if (threads > 1 && pieces > 1) {
    WorkerPool* pool = shared_worker_pool(threads);
    const std::function<void(std::int64_t)> call = [&body](std::int64_t piece) { body(piece); };
    if (pool && pool->try_run(pieces, call)) return;
  }
  for (std::int64_t piece = 0; piece < pieces; ++piece) body(piece);
}

}  // namespace headscope::analysis::ib
