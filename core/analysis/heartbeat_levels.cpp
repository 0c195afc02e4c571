// The heartbeat calibration by level (see heartbeat_levels.h): one pass over samples and heads, then
// the ranking and the table.
#include "core/analysis/heartbeat_levels.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <optional>
#include <stdexcept>

#include "core/store/reader.h"

namespace headscope::analysis {

HeartbeatDefinition parse_heartbeat_definition(const std::string& text) {
  if (text == "drop") return HeartbeatDefinition::drop;
  if (text != "debounced") throw std::runtime_error("--definition must be debounced or drop");
  return HeartbeatDefinition::debounced;
}

HeartbeatLevels heartbeat_levels(const store::StoreReader& reader, const HeartbeatOptions& options, int top) {
  const auto& layout = reader.layout();
  if (reader.metric_index("iaf") < 0) throw std::runtime_error(reader.path() + ": the store has no iaf metric");
  std::optional<std::int64_t> eos;
  try {
    const auto config = nlohmann::json::parse(reader.provenance().model_config_json);
    if (config.contains("eos_token_id") && config["eos_token_id"].is_number_integer()) eos = config["eos_token_id"].get<std::int64_t>();
  } catch (const nlohmann::json::exception&) {
  }

  std::vector<TelegraphHead> heads;
  for (int layer = 0; layer < layout.layer_count; ++layer)
    for (int head = 0; head < layout.head_count; ++head) {
      TelegraphHead stats;
      stats.head = {layer, head};
      heads.push_back(stats);
    }
  std::map<int, std::pair<double, int>> steps_by_level;  // level -> (generated steps sum, samples)
  for (std::int64_t s = 0; s < reader.sample_count(); ++s) {
    const auto info = reader.sample(s);
    const int level = info.facts.level.value_or(0);
    const auto tokens = reader.tokens(s);
    int end = info.token_count;
    if (eos)
      for (int t = info.prompt_length; t < info.token_count; ++t)
        if (tokens[static_cast<std::size_t>(t)] == *eos) { end = t + 1; break; }
    const int steps = end - info.prompt_length;
    if (steps <= 0) continue;
    steps_by_level[level].first += steps;
    ++steps_by_level[level].second;
    for (auto& stats : heads) {
      const auto trace = reader.head_trace("iaf", s, stats.head);
      const float* generated = trace.data() + info.prompt_length;
      const auto result = detect_heartbeats(generated, steps, options);
      double bimodal = 0;
      for (int t = 0; t < steps; ++t) bimodal += std::isfinite(generated[t]) ? std::fabs(2.0 * generated[t] - 1.0) : 0.0;
      stats.count_sum += result.count;
      stats.bimodality_sum += bimodal / steps;
      ++stats.samples;
      stats.by_level[level].first += result.count;
      ++stats.by_level[level].second;
    }
  }
  std::vector<const TelegraphHead*> ranked;
  for (const auto& stats : heads) ranked.push_back(&stats);
  std::stable_sort(ranked.begin(), ranked.end(), [](const TelegraphHead* a, const TelegraphHead* b) {
    if (a->mean_count() != b->mean_count()) return a->mean_count() > b->mean_count();
    return a->bimodality() > b->bimodality();
  });
  top = std::min<int>(top, static_cast<int>(ranked.size()));

  HeartbeatLevels table;
  table.sample_count = reader.sample_count();
  for (const auto& [level, steps] : steps_by_level) {
    double all = 0, best = 0;
    int all_n = 0, best_n = 0;
    for (std::size_t i = 0; i < ranked.size(); ++i) {
      const auto it = ranked[i]->by_level.find(level);
      if (it == ranked[i]->by_level.end()) continue;
      all += it->second.first;
      all_n += it->second.second;
      if (static_cast<int>(i) < top) {
        best += it->second.first;
        best_n += it->second.second;
      }
    }
    table.levels.push_back({level, steps.second, steps.first / steps.second, all_n ? all / all_n : 0.0, best_n ? best / best_n : 0.0});
  }
  for (int i = 0; i < top; ++i) table.top_heads.push_back(*ranked[static_cast<std::size_t>(i)]);
  return table;
}

}  // namespace headscope::analysis
