// `headscope compare A.h5 B.h5`: two captures of different models over the same prompts, compared on their
// K×K flow scores — heads over the composite threshold, concentration of the composite mass, hub
// positions, per layer, the top heads. The figure of the same numbers is `headscope export --view compare`.
// `--trace jsd`: instead, their model-level traces (core/analysis/model_trace.h) over the samples they share,
// e.g. a native capture against an imported JSD store (a 1 x 1 model-level store).
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <memory>

#include "app/cli/bind_options.h"
#include "app/cli/registry.h"
#include "core/analysis/flow_comparison.h"
#include "core/analysis/model_trace.h"
#include "core/store/reader.h"

namespace {

void setup(CLI::App& app) {
  auto* cmd = app.add_subcommand("compare", "Compare two captures (two models, same prompts) on their flow scores");
  auto files = std::make_shared<std::vector<std::string>>();
  auto options = std::make_shared<headscope::analysis::FlowComparisonOptions>();
  auto joint = std::make_shared<bool>(false);
  auto top = std::make_shared<int>(5);
  auto trace = std::make_shared<std::string>();
  cmd->add_option("files", *files, "Two capture stores (.h5): A and B")->required()->expected(2)->check(CLI::ExistingFile);
  cmd->add_option("--threshold", options->composite_threshold, "Composite threshold of 'heads over the threshold' (default 0.6)")
      ->check(headscope::cli::in_range("--threshold", 0, 1));
  cmd->add_option("--top-fraction", options->top_fraction, "Concentration: share of the composite mass in this fraction of heads (default 0.1)")
      ->check(headscope::cli::in_range("--top-fraction", 1e-9, 1));
  cmd->add_flag("--joint", *joint, "Normalise hub and skip over the heads of both runs (one scale) instead of per run");
  cmd->add_option("--top", *top, "Rows of the top-heads table (default 5)")->check(headscope::cli::in_range("--top", 1, 1e6));
  cmd->add_option("--trace", *trace, "Compare the model-level trace of this metric (mean over heads; e.g. jsd) instead of flow");
  cmd->callback([=] {
    using namespace headscope;
    if (!trace->empty()) {
      const auto a = store::StoreReader::open((*files)[0]);
      const auto b = store::StoreReader::open((*files)[1]);
      std::printf("A  %s\nB  %s\n\n%s", (*files)[0].c_str(), (*files)[1].c_str(),
                  analysis::format_trace_comparison(analysis::compare_model_traces(*a, *b, *trace), std::max(*top, 10)).c_str());
      return;
    }
    if (*joint) options->normalization = analysis::ComparisonNormalization::joint;
    const auto a = store::StoreReader::open((*files)[0]);
    const auto b = store::StoreReader::open((*files)[1]);
    const analysis::FlowComparison comparison = analysis::compare_stores(*a, *b, *options);
    std::printf("A  %s\nB  %s\n\n%s", (*files)[0].c_str(), (*files)[1].c_str(),
                analysis::format_flow_comparison(comparison, *top).c_str());
  });
}

HEADSCOPE_REGISTER_SUBCOMMAND(setup);

}  // namespace
