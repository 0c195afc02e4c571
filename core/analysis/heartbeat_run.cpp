// The run's heartbeats (see heartbeat_run.h): one pass over samples and layers, the telegraph ranking,
// the calibration by level, and the printed table.
#include "core/analysis/heartbeat_run.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <numeric>
#include <sstream>
#include <stdexcept>

#include "core/store/reader.h"

namespace headscope::analysis {

int generated_heartbeat_steps(const std::vector<std::int32_t>& tokens, int prompt_length, std::optional<std::int64_t> eos) {
  const int token_count = static_cast<int>(tokens.size());
  if (eos)
    for (int t = prompt_length; t < token_count; ++t)
      if (tokens[static_cast<std::size_t>(t)] == *eos) return t + 1 - prompt_length;
  return std::max(0, token_count - prompt_length);
}

std::optional<std::int64_t> eos_of_model_config(const std::string& model_config_json) {
  try {
    const auto config = nlohmann::json::parse(model_config_json);
    if (config.is_object() && config.contains("eos_token_id") && config["eos_token_id"].is_number_integer())
      return config["eos_token_id"].get<std::int64_t>();
  } catch (const nlohmann::json::exception&) {
  }
  return std::nullopt;
}

HeartbeatResult sample_head_heartbeats(const float* trace, int prompt_length, int steps, const HeartbeatOptions& options) {
  return detect_heartbeats(trace + prompt_length, std::max(0, steps), options);
}

HeartbeatDefinition parse_heartbeat_definition(const std::string& text) {
  if (text == "drop") return HeartbeatDefinition::drop;
  if (text != "debounced") throw std::runtime_error("--definition must be debounced or drop, not '" + text + "'");
  return HeartbeatDefinition::debounced;
}

std::vector<GroupStats> HeartbeatRun::calibration() const {
  std::vector<int> keys;
  std::vector<double> values;
  for (int s = 0; s < sample_count; ++s)
    if (steps[static_cast<std::size_t>(s)] > 0) {
      keys.push_back(levels[static_cast<std::size_t>(s)]);
      values.push_back(sample_top_mean[static_cast<std::size_t>(s)]);
    }
  return group_by_key(keys, values);
}

HeartbeatRun compute_heartbeat_run(const store::StoreReader& reader, const HeartbeatOptions& options, int top_heads) {
  HeartbeatRun run;
  const auto& layout = reader.layout();
  run.options = options;
  run.sample_count = static_cast<int>(reader.sample_count());
  run.layer_count = layout.layer_count;
  run.head_count = layout.head_count;
  const int L = run.layer_count, H = run.head_count, S = run.sample_count, heads = L * H;
  run.top_heads = std::max(0, std::min(top_heads, heads));
  run.counts.assign(static_cast<std::size_t>(S) * heads, -1);
  run.steps.assign(S, 0);
  run.sample_top_mean.assign(S, std::nan(""));
  const bool has_iaf = reader.metric_index("iaf") >= 0;
  const auto eos = eos_of_model_config(reader.provenance().model_config_json);

  std::vector<double> far_sum(heads, 0.0), pulsing(heads, 0.0), count_sum(heads, 0.0);
  int generated_samples = 0;
  for (int s = 0; s < S; ++s) {
    const auto info = reader.sample(s);
    run.levels.push_back(info.facts.level.value_or(-1));
    if (!has_iaf || info.token_count <= info.prompt_length) continue;
    const int steps = generated_heartbeat_steps(reader.tokens(s), info.prompt_length, eos);
    run.steps[static_cast<std::size_t>(s)] = steps;
    if (steps <= 0) continue;
    ++generated_samples;
    std::vector<float> trace(static_cast<std::size_t>(info.token_count));
    for (int layer = 0; layer < L; ++layer) {
      const auto slice = reader.layer_slice("iaf", s, layer);  // [token, head]
      for (int head = 0; head < H; ++head) {
        for (int t = 0; t < info.token_count; ++t) trace[static_cast<std::size_t>(t)] = slice[static_cast<std::size_t>(t) * H + head];
        const auto result = sample_head_heartbeats(trace.data(), info.prompt_length, steps, options);
        double far = 0;
        for (int t = 0; t < steps; ++t) {
          const float v = trace[static_cast<std::size_t>(info.prompt_length + t)];
          if (std::isfinite(v) && std::fabs(v - options.threshold) >= 0.3) far += 1;
        }
        const int index = layer * H + head;
        run.counts[static_cast<std::size_t>(s) * heads + index] = result.count;
        count_sum[index] += result.count;
        pulsing[index] += result.count > 0 ? 1 : 0;
        far_sum[index] += far / steps;
      }
    }
  }
  if (generated_samples == 0) return run;

  for (int index = 0; index < heads; ++index)
    run.ranking.push_back({index / H, index % H, count_sum[index] / generated_samples, far_sum[index] / generated_samples,
                           pulsing[index] / generated_samples});
  std::stable_sort(run.ranking.begin(), run.ranking.end(), [](const HeadHeartbeats& a, const HeadHeartbeats& b) {
    if (a.rank_score() != b.rank_score()) return a.rank_score() > b.rank_score();
    return a.mean_count > b.mean_count;
  });

  // Per sample: the mean over the top heads and over all heads; then by level.
  struct LevelSums { double steps = 0, all = 0; int samples = 0; };
  std::map<int, LevelSums> by_level;
  for (int s = 0; s < S; ++s) {
    if (run.steps[static_cast<std::size_t>(s)] <= 0) continue;
    const auto* counts = run.counts.data() + static_cast<std::size_t>(s) * heads;
    double top = 0;
    for (int r = 0; r < run.top_heads; ++r) top += counts[run.ranking[r].layer * H + run.ranking[r].head];
    run.sample_top_mean[static_cast<std::size_t>(s)] = run.top_heads ? top / run.top_heads : std::nan("");
    auto& sums = by_level[run.levels[static_cast<std::size_t>(s)]];
    sums.steps += run.steps[static_cast<std::size_t>(s)];
    sums.all += std::accumulate(counts, counts + heads, 0.0) / heads;
    ++sums.samples;
  }
  for (const auto& group : run.calibration()) {
    const auto& sums = by_level[group.key];
    run.levels_table.push_back({group.key, sums.samples, sums.steps / sums.samples, sums.all / sums.samples, group.mean, group.std});
  }
  return run;
}

std::string format_heartbeat_run(const HeartbeatRun& run, int listed_heads) {
  std::ostringstream out;
  char line[256];
  out << "calibration: heartbeats per sample by level (" << heartbeat_definition_name(run.options.definition)
      << ", IAF threshold " << run.options.threshold << ", min run " << run.options.min_run << ", top " << run.top_heads
      << " telegraph heads)\n  level  samples  mean_steps  all_heads  top_heads    std\n";
  for (const auto& row : run.levels_table) {
    std::snprintf(line, sizeof line, "  %5d  %7d  %10.1f  %9.2f  %9.2f  %5.2f\n", row.level, row.samples, row.mean_steps,
                  row.mean_all_heads, row.mean_top_heads, row.std_top_heads);
    out << line;
  }
  out << "\nmost telegraph-like IAF heads (score = telegraph x pulse coverage)\n"
         "  head     telegraph  heartbeats/sample  samples_with_pulses\n";
  for (int r = 0; r < std::min<int>(listed_heads, static_cast<int>(run.ranking.size())); ++r) {
    const auto& h = run.ranking[static_cast<std::size_t>(r)];
    std::snprintf(line, sizeof line, "  L%dH%-4d  %9.3f  %17.2f  %19.2f\n", h.layer, h.head, h.telegraph_score, h.mean_count,
                  h.pulse_coverage);
    out << line;
  }
  return out.str();
}

}  // namespace headscope::analysis
