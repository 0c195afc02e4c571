// Splitting a run's samples among the processes of a sharded capture (MPI ranks or array jobs): each gets
// one contiguous range of samples, balanced by weight (tokens), so the shards finish together and the
// master lists the samples in prompt order. Every process computes the same split from the same inputs.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace headscope::util {

// Boundaries b[0] = 0 <= b[1] <= ... <= b[count] = weights.size(): share k holds items [b[k], b[k+1]),
// those whose weight's midpoint on the cumulative axis falls in [k W / count, (k+1) W / count).
std::vector<std::int64_t> balanced_shares(const std::vector<std::int64_t>& weights, int count);

struct ShardSpec {
  int index = 0, count = 0;  // count 0: not sharded
};
// "I/N" with 0 <= I < N; nullopt for anything else.
std::optional<ShardSpec> parse_shard(const std::string& text);

}  // namespace headscope::util
