// A synthetic store for benchmarks, screenshots and the views' tests: any number of layers, heads,
// samples and tokens, with per-head patterns (previous-token, sink, broad, local window) that make the
// views show structure, plausible values for every standard metric, token text, a generated tail and a
// few pinned heads with full attention. Long samples (32k tokens) are written in seconds, chunked as a
// capture of that length would be (store::schema::chunk_tokens_for_samples). Not a model's output: its provenance says "synthetic".
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/store/layout.h"

namespace headscope::app {

struct DemoStoreOptions {
  int layer_count = 32;
  int head_count = 32;
  int sample_count = 4;
  int token_count = 1024;                 // tokens of the first sample; later ones are a little shorter
  std::vector<int> sample_tokens;         // non-empty: the tokens of each sample (sample_count = its size)
  std::vector<store::HeadRef> pinned = {{0, 0}, {5, 1}, {15, 3}, {31, 7}};  // out-of-range ones are dropped
  std::string model_path;                 // non-empty: recorded as the run's model, so the workbench can
                                          // recompute unpinned heads (token ids are < 41: any vocabulary)
  int chunk_tokens = 0;                   // metric chunk token extent; 0 = as a capture of these lengths would
  int max_pinned_tokens = 4096;           // a longer sample stores no pinned heads (T² values each): none pinned
  std::uint32_t seed = 7;
  int delay_between_samples_ms = 0;       // > 0: sleep between appends, to play a live capture
};

// Writes the store (overwriting `path`); calls `progress(i)` after each appended sample if given.
void write_demo_store(const std::string& path, const DemoStoreOptions& options,
                      const std::function<void(int)>& progress = nullptr);

}  // namespace headscope::app
