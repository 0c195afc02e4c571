// How many threads a command runs with: 0 asks for every hardware thread; a request beyond the hardware
// is capped at it, with one notice on stderr, since more threads than cores only slow a CPU-bound run
// (and `--threads 100000` would spend minutes creating threads).
#pragma once
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <thread>

namespace headscope {

inline int hardware_threads() { return static_cast<int>(std::max(1u, std::thread::hardware_concurrency())); }

// `requested` <= 0: all hardware threads; otherwise min(requested, hardware), noting a cap on stderr.
inline int capped_thread_count(int requested) {
  const int available = hardware_threads();
  if (requested <= 0) return available;
  if (requested > available) {
    static std::atomic<bool> noted{false};
    if (!noted.exchange(true))
      std::fprintf(stderr, "note: --threads %d capped at this machine's %d hardware threads\n", requested,
                   available);
    return available;
  }
  return requested;
}

}  // namespace headscope
