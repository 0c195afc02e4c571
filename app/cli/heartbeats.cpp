// `headscope heartbeats FILE.h5`: the heartbeat calibration table of a generation capture by level, and
// the most telegraph-like heads (computed by core/analysis/heartbeat_run.h, the computation `analyze`
// and the heartbeat view use; printed here).
#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>

#include "app/cli/bind_options.h"
#include "app/cli/registry.h"
#include "core/analysis/heartbeat_run.h"
#include "core/store/reader.h"

namespace {

namespace analysis = headscope::analysis;
namespace store = headscope::store;

struct HeartbeatsOptions {
  std::string path;
  std::string definition = "debounced";
  analysis::HeartbeatOptions heartbeat;
  int top = 10;
  int listed = 5;
};

void run_heartbeats(HeartbeatsOptions o) {
  o.heartbeat.definition = analysis::parse_heartbeat_definition(o.definition);
  const auto run = analysis::compute_heartbeat_run(*store::StoreReader::open(o.path), o.heartbeat, o.top);
  if (!run.has_generation())
    throw std::runtime_error(o.path + ": no generated steps with an iaf metric (capture with --generate N)");
  std::printf("heartbeats over the generated steps of %d samples, %s\n%s", run.sample_count, o.path.c_str(),
              analysis::format_heartbeat_run(run, o.listed).c_str());
}

void setup(CLI::App& app) {
  auto* cmd = app.add_subcommand("heartbeats", "Heartbeat counts on IAF traces of a generation capture, by level");
  auto o = std::make_shared<HeartbeatsOptions>();
  cmd->add_option("store", o->path, "Store captured with --generate")->required();
  cmd->add_option("--definition", o->definition, "debounced (default) or drop (METRICS.md)")
      ->check(CLI::IsMember({"debounced", "drop"}));
  cmd->add_option("--threshold", o->heartbeat.threshold, "High when IAF >= threshold")->check(headscope::cli::in_range("--threshold", 0, 1));
  cmd->add_option("--min-run", o->heartbeat.min_run, "Minimum run length L")->check(headscope::cli::in_range("--min-run", 1, 1e6));
  cmd->add_option("--telegraph-heads", o->top, "Top telegraph heads the calibration averages (as analyze's)")
      ->check(headscope::cli::in_range("--telegraph-heads", 1, 1e6));
  cmd->add_option("--top", o->listed, "Number of most telegraph-like heads to list")
      ->check(headscope::cli::in_range("--top", 1, 1e6));
  cmd->callback([o] { run_heartbeats(*o); });
}

HEADSCOPE_REGISTER_SUBCOMMAND(setup);

}  // namespace
