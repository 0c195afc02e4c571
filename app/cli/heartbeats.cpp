// `headscope heartbeats FILE.h5`: the heartbeat calibration table of a generation capture by level, and
// the most telegraph-like heads (computed by core/analysis/heartbeat_levels.h; printed here).
#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>

#include "app/cli/bind_options.h"
#include "app/cli/registry.h"
#include "core/analysis/heartbeat_levels.h"
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

void run_heartbeats(const HeartbeatsOptions& o) {
  analysis::HeartbeatOptions options;
  options.definition = analysis::parse_heartbeat_definition(o.definition);
  options.threshold = o.threshold;
  options.min_run = o.min_run;
  const auto table = analysis::heartbeat_levels(*store::StoreReader::open(o.path), options, o.top);
  const int top = static_cast<int>(table.top_heads.size());
  std::printf("heartbeats (%s, IAF threshold %.2f, min run %d) over the generated steps of %lld samples, %s\n",
              o.definition.c_str(), o.threshold, o.min_run, static_cast<long long>(table.sample_count), o.path.c_str());
  std::printf("level  samples  mean steps  mean heartbeats, all heads  mean heartbeats, top-%d heads\n", top);
  for (const auto& row : table.levels)
    std::printf("%5d  %7d  %10.1f  %26.2f  %28.2f\n", row.level, row.samples, row.mean_steps, row.mean_all_heads, row.mean_top_heads);
  std::printf("\nmost telegraph-like heads (mean heartbeats per sample; bimodality = mean |2 IAF - 1|)\n");
  std::printf("head    mean  bimodality  by level\n");
  for (const auto& stats : table.top_heads) {
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
  cmd->add_option("--threshold", o->threshold, "High when IAF >= threshold")->check(headscope::cli::in_range("--threshold", 0, 1));
  cmd->add_option("--min-run", o->min_run, "Minimum run length L")->check(headscope::cli::in_range("--min-run", 1, 1e6));
  cmd->add_option("--top", o->top, "Number of most telegraph-like heads to list")
      ->check(headscope::cli::in_range("--top", 1, 1e6));
  cmd->callback([o] { run_heartbeats(*o); });
}

HEADSCOPE_REGISTER_SUBCOMMAND(setup);

}  // namespace
