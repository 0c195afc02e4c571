// A store with planted phase-0 structure (core/analysis/phase0.h) for the core and views tests: the
// planted samples of planted_store_data.h with query norm t + 1 on every head and entropy that falls
// with it on L1H0 (r = -1), rises with it on L0H0 (r = +1), wanders on L0H1 and is constant on L1H1
// (no r); so the ranking is L1H0, L0H1, L0H0. L0H0's first entropy of each sample is NaN.
#pragma once
#include <string>

#include "core/store/writer.h"
#include "planted_store_data.h"
#include "test_support.h"

namespace headscope::test {

inline std::string phase0_store(const std::string& name, int samples = 3) {
  const auto path = (temp_dir() / name).string();
  auto writer = store::StoreWriter::create(path, planted_layout(), {});
  const int query_norm = 0, entropy = 1;
  for (int index = 0; index < samples; ++index) {
    auto sample = planted_sample(index, 1 + index % 3);
    const std::size_t tokens = sample.tokens.size();
    for (std::size_t t = 0; t < tokens; ++t) {
      const float norm = static_cast<float>(t + 1);
      for (int head = 0; head < 4; ++head) sample.metrics[query_norm][t * 4 + static_cast<std::size_t>(head)] = norm;
      sample.metrics[entropy][t * 4 + 0] = 0.25f * norm;                                  // L0H0
      sample.metrics[entropy][t * 4 + 1] = static_cast<float>((t * 7) % 5);               // L0H1
      sample.metrics[entropy][t * 4 + 2] = 40.0f - 0.5f * norm;                           // L1H0
      sample.metrics[entropy][t * 4 + 3] = 1.5f;                                          // L1H1
    }
    sample.metrics[entropy][0] = std::nanf("");  // L0H0 at t = 0: a NaN pair (--nan-first 1), skipped
    writer->append(sample);
  }
  return path;
}

}  // namespace headscope::test
