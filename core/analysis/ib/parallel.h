// A minimal parallel loop for the IB and k-means kernels: splits [begin, end) into one contiguous range
// per thread (std::thread, no pool) and runs small jobs inline, where starting threads would cost more
// than the work. Ranges are fixed by the thread count alone, so results never depend on timing.
#pragma once
#include <algorithm>
#include <cstdint>
#include <thread>
#include <vector>

namespace headscope::analysis::ib {

// Threads to use when the caller asked for `requested` (0 = all the machine has).
inline int resolve_thread_count(int requested) {
  const int available = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  return requested <= 0 ? available : std::max(1, requested);
}

// Calls body(part, range_begin, range_end) for `parts` contiguous ranges; inline when parts == 1.
template <typename Body>
void parallel_ranges(std::int64_t begin, std::int64_t end, int parts, Body&& body) {
  const std::int64_t count = end - begin;
  parts = static_cast<int>(std::max<std::int64_t>(1, std::min<std::int64_t>(parts, count)));
  if (parts == 1) {
    body(0, begin, end);
    return;
  }
  std::vector<std::thread> workers;
  for (int part = 1; part < parts; ++part) {
    workers.emplace_back([&, part] { body(part, begin + count * part / parts, begin + count * (part + 1) / parts); });
  }
  body(0, begin, begin + count / parts);
  for (auto& worker : workers) worker.join();
}

}  // namespace headscope::analysis::ib
