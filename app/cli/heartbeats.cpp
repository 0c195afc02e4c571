// `headscope heartbeats FILE.h5`: the heartbeat calibration table of a generation capture. For every
// sample and head, the IAF trace over the generated steps (up to and including the first EOS, when the
// model's config names one) goes through core/analysis/heartbeat; the table gives the mean heartbeat
// count by level (from each sample's "level" metadata), over all heads and over the most telegraph-like
// heads (highest mean count, ties broken by how bimodal the IAF is: mean |2 IAF - 1|).
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>

#include "app/cli/registry.h"
#include "core/analysis/heartbeat.h"
#include "core/store/reader.h"

namespace {

namespace analysis = headscope::analysis;
namespace store = headscope::store;

struct HeartbeatsOptions {
  std::string path;
  std::string definition = "debounced";
  double threshold = 0.5;
  int min_run = 5;
  int top = 5;
};

struct HeadStats {
  store::HeadRef head;
  double count_sum = 0, bimodality_sum = 0;
  int samples = 0;
  std::map<int, std::pair<double, int>> by_level;  // level -> (count sum, samples)
  double mean_count() const { return samples ? count_sum / samples : 0; }
  double bimodality() const { return samples ? bimodality_sum / samples : 0; }
};

void run_heartbeats(const HeartbeatsOptions& o) {
  auto reader = store::StoreReader::open(o.path);
  const auto& layout = reader->layout();
  if (reader->metric_index("iaf") < 0) throw std::runtime_error(o.path + ": the store has no iaf metric");
  analysis::HeartbeatOptions options;
  if (o.definition == "drop") options.definition = analysis::HeartbeatDefinition::drop;
  else if (o.definition != "debounced") throw std::runtime_error("--definition must be debounced or drop");
  options.threshold = o.threshold;
  options.min_run = o.min_run;
  std::optional<std::int64_t> eos;
  try {
    const auto config = nlohmann::json::parse(reader->provenance().model_config_json);
    if (config.contains("eos_token_id") && config["eos_token_id"].is_number_integer()) eos = config["eos_token_id"].get<std::int64_t>();
  } catch (const nlohmann::json::exception&) {
  }

  std::vector<HeadStats> heads;
  for (int layer = 0; layer < layout.layer_count; ++layer)
    for (int head = 0; head < layout.head_count; ++head) {
      HeadStats stats;
      stats.head = {layer, head};
      heads.push_back(stats);
    }
  std::map<int, std::pair<double, int>> steps_by_level;  // level -> (generated steps sum, samples)
  for (std::int64_t s = 0; s < reader->sample_count(); ++s) {
    const auto info = reader->sample(s);
    const int level = info.facts.level.value_or(0);
    const auto tokens = reader->tokens(s);
    int end = info.token_count;
    if (eos)
      for (int t = info.prompt_length; t < info.token_count; ++t)
        if (tokens[static_cast<std::size_t>(t)] == *eos) { end = t + 1; break; }
    const int steps = end - info.prompt_length;
    if (steps <= 0) continue;
    steps_by_level[level].first += steps;
    ++steps_by_level[level].second;
    for (auto& stats : heads) {
      const auto trace = reader->head_trace("iaf", s, stats.head);
      const float* generated = trace.data() + info.prompt_length;
      const auto result = analysis::detect_heartbeats(generated, steps, options);
      double bimodal = 0;
      for (int t = 0; t < steps; ++t) bimodal += std::isfinite(generated[t]) ? std::fabs(2.0 * generated[t] - 1.0) : 0.0;
      stats.count_sum += result.count;
      stats.bimodality_sum += bimodal / steps;
      ++stats.samples;
      stats.by_level[level].first += result.count;
      ++stats.by_level[level].second;
    }
  }
  std::vector<const HeadStats*> ranked;
  for (const auto& stats : heads) ranked.push_back(&stats);
  std::stable_sort(ranked.begin(), ranked.end(), [](const HeadStats* a, const HeadStats* b) {
    if (a->mean_count() != b->mean_count()) return a->mean_count() > b->mean_count();
    return a->bimodality() > b->bimodality();
  });
  const int top = std::min<int>(o.top, static_cast<int>(ranked.size()));
  std::printf("heartbeats (%s, IAF threshold %.2f, min run %d) over the generated steps of %lld samples, %s\n",
              o.definition.c_str(), o.threshold, o.min_run, static_cast<long long>(reader->sample_count()), o.path.c_str());
  std::printf("level  samples  mean steps  mean heartbeats, all heads  mean heartbeats, top-%d heads\n", top);
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
    std::printf("%5d  %7d  %10.1f  %26.2f  %28.2f\n", level, steps.second, steps.first / steps.second, all_n ? all / all_n : 0.0,
                best_n ? best / best_n : 0.0);
  }
  std::printf("\nmost telegraph-like heads (mean heartbeats per sample; bimodality = mean |2 IAF - 1|)\n");
  std::printf("head    mean  bimodality  by level\n");
  for (int i = 0; i < top; ++i) {
    const auto& stats = *ranked[static_cast<std::size_t>(i)];
    std::printf("%-6s %5.2f  %10.2f ", store::head_name(stats.head).c_str(), stats.mean_count(), stats.bimodality());
    for (const auto& [level, sum] : stats.by_level) std::printf(" L%d %.2f", level, sum.first / sum.second);
    std::printf("\n");
  }
}

void setup(CLI::App& app) {
  auto* cmd = app.add_subcommand("heartbeats", "Heartbeat counts on IAF traces of a generation capture, by level");
  auto o = std::make_shared<HeartbeatsOptions>();
  cmd->add_option("store", o->path, "Store captured with --generate")->required();
  cmd->add_option("--definition", o->definition, "debounced (default) or drop (METRICS.md)");
  cmd->add_option("--threshold", o->threshold, "High when IAF >= threshold");
  cmd->add_option("--min-run", o->min_run, "Minimum run length L");
  cmd->add_option("--top", o->top, "Number of most telegraph-like heads to list");
  cmd->callback([o] { run_heartbeats(*o); });
}

HEADSCOPE_REGISTER_SUBCOMMAND(setup);

}  // namespace
