// A writer in a child process, as a capture is beside a reader: creates `path` and appends samples
// 0..count-1 of store_test_data.h's run, pausing between appends; exits 0, or 3 on any error.
#pragma once
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>

#include "core/store/writer.h"
#include "store_test_data.h"

namespace headscope::test {

inline pid_t spawn_writer(const std::string& path, int count, std::chrono::milliseconds pause) {
  const pid_t pid = fork();
  if (pid == 0) {
    try {
      const auto layout = small_layout();
      auto writer = store::StoreWriter::create(path, layout, {});
      for (int i = 0; i < count; ++i) {
        writer->append(make_sample(layout, i));
        std::this_thread::sleep_for(pause);
      }
      writer->close();
      _exit(0);
    } catch (...) {
      _exit(3);
    }
  }
  return pid;
}

}  // namespace headscope::test
