// The token ids a sweep or gain scan runs on (private to capture/sweep/): a JSONL prompt set, encoded
// with the model folder's tokenizer exactly as the capture does (BOS first when the tokenizer has one),
// or token shards read by the capture's own rule (core/io/sample_source.h), so a shard's samples and
// ids are the capture's. Torch-free.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "capture/sweep/sweep.h"

namespace headscope::sweep {

struct SweepSample {
  std::string id;
  std::vector<std::int64_t> ids;  // [token]
};

// Every sample of `source` (up to max_samples). Throws std::runtime_error naming the file and line or
// member: no source or both given, an empty set, a token outside [0, vocab_size), a sample under 2 tokens.
std::vector<SweepSample> load_sweep_samples(const SampleSource& source, const std::string& model_dir, int vocab_size);

}  // namespace headscope::sweep
