// `headscope analyze FILE.h5`: heartbeats and the calibration table by level, flow scores and rankings
// with the phase criteria, step-boundary precision/recall of the best JSD head, and Spectra's phase 0
// (query norm vs entropy per head); written into the store's /analysis group and printed.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>

#include "app/cli/bind_options.h"
#include "app/cli/registry.h"
#include "core/analysis/store_analysis.h"
#include "core/store/analysis_group.h"
#include "core/store/reader.h"

namespace {

void setup(CLI::App& app) {
  auto* cmd = app.add_subcommand("analyze", "Heartbeats, flow rankings, step boundaries and phase 0 of a capture; written into /analysis");
  auto file = std::make_shared<std::string>();
  auto options = std::make_shared<headscope::analysis::StoreAnalysisOptions>();
  auto drop = std::make_shared<bool>(false);
  auto definition = std::make_shared<std::string>("debounced");
  auto no_write = std::make_shared<bool>(false);
  auto top = std::make_shared<int>(10);
  cmd->add_option("file", *file, "A capture store (.h5)")->required();
  cmd->add_option("--threshold", options->heartbeat.threshold, "IAF high/low threshold")->check(headscope::cli::in_range("--threshold", 0, 1));
  cmd->add_option("--min-run", options->heartbeat.min_run, "Minimum run length L of a heartbeat state")
      ->check(headscope::cli::in_range("--min-run", 1, 1e6));
  cmd->add_option("--definition", *definition, "Heartbeat counting rule: debounced (default) or drop (the earlier pipeline's)")
      ->check(CLI::IsMember({"debounced", "drop"}));
  cmd->add_flag("--drop", *drop, "Same as --definition drop");
  cmd->add_option("--telegraph-heads", options->telegraph_heads, "Heads averaged in the calibration table")
      ->check(headscope::cli::in_range("--telegraph-heads", 1, 1e6));
  cmd->add_option("--tolerance", options->boundary_tolerance, "Boundary match tolerance in tokens")->check(headscope::cli::in_range("--tolerance", 0, 1e6));
  cmd->add_option("--top", *top, "Rows of the ranking tables")->check(headscope::cli::in_range("--top", 1, 1e6));
  cmd->add_flag("--no-write", *no_write, "Print only; leave the file untouched");
  cmd->callback([=] {
    options->heartbeat.definition = headscope::analysis::parse_heartbeat_definition(*drop ? "drop" : *definition);
    if (!*no_write) headscope::store::check_analysis_writable(*file);  // before the reading, not after
    headscope::analysis::StoreAnalysis analysis;
    {
      auto reader = headscope::store::StoreReader::open(*file);
      analysis = headscope::analysis::analyze_store(*reader, *options);
    }
    std::printf("%s", headscope::analysis::format_store_analysis(analysis, *top).c_str());
    if (!*no_write) {
      headscope::analysis::write_store_analysis(*file, analysis, *options);
      std::printf("\nwritten to %s:/analysis\n", file->c_str());
    }
  });
}

HEADSCOPE_REGISTER_SUBCOMMAND(setup);

}  // namespace
