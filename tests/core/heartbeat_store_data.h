// A store where the two heartbeat definitions disagree, for the tests that check analyze, heartbeats and
// the heartbeat view count the same: the planted store (planted_store_data.h), and head L0H0 carrying
// METRICS.md's first example trace [.9,.9, .1x7, .9, .1x7, .9,.9] (drop 2, debounced 1) after each prompt.
#pragma once
#include <string>

#include "core/store/writer.h"
#include "planted_store_data.h"
#include "test_support.h"

namespace headscope::test {

inline std::string heartbeat_definitions_store(const std::string& name) {
  const auto path = (temp_dir() / name).string();
  auto writer = store::StoreWriter::create(path, planted_layout(), {});
  int index = 0;
  for (int level = 1; level <= 3; ++level)
    for (int copy = 0; copy < 2; ++copy) {
      auto sample = planted_sample(index++, level);
      const int iaf = 4, heads = 4;
      const float pattern[] = {.9f, .9f, .1f, .1f, .1f, .1f, .1f, .1f, .1f, .9f, .1f, .1f, .1f, .1f, .1f, .1f, .1f, .9f, .9f};
      for (int t = 0; t < 19; ++t) sample.metrics[iaf][static_cast<std::size_t>((sample.prompt_length + t) * heads)] = pattern[t];
      writer->append(sample);
    }
  return path;
}

}  // namespace headscope::test
