// balanced_shares and parse_shard (see shares.h).
#include "core/util/shares.h"

#include <cstdlib>

namespace headscope::util {

std::vector<std::int64_t> balanced_shares(const std::vector<std::int64_t>& weights, int count) {
  std::vector<std::int64_t> bounds(static_cast<std::size_t>(count) + 1, 0);
  if (count < 1) return {0};
  long double total = 0;
  for (auto weight : weights) total += static_cast<long double>(std::max<std::int64_t>(weight, 1));
  long double before = 0;
  int share = 0;
  for (std::size_t i = 0; i < weights.size(); ++i) {
    const long double weight = static_cast<long double>(std::max<std::int64_t>(weights[i], 1));
    const long double midpoint = before + weight / 2;
    while (share + 1 < count && midpoint >= total * (share + 1) / count) bounds[static_cast<std::size_t>(++share)] = static_cast<std::int64_t>(i);
    before += weight;
  }
  while (share + 1 <= count) bounds[static_cast<std::size_t>(++share)] = static_cast<std::int64_t>(weights.size());
  bounds[static_cast<std::size_t>(count)] = static_cast<std::int64_t>(weights.size());
  return bounds;
}

std::optional<ShardSpec> parse_shard(const std::string& text) {
  const auto slash = text.find('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 >= text.size()) return std::nullopt;
  for (std::size_t i = 0; i < text.size(); ++i)
    if (i != slash && (text[i] < '0' || text[i] > '9')) return std::nullopt;
  if (slash > 6 || text.size() - slash - 1 > 6) return std::nullopt;  // a million shards is far past any cluster
  ShardSpec spec{std::atoi(text.substr(0, slash).c_str()), std::atoi(text.substr(slash + 1).c_str())};
  if (spec.count < 1 || spec.index >= spec.count) return std::nullopt;
  return spec;
}

}  // namespace headscope::util
