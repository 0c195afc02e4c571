// Generated steps in a generation capture of a sample model (arith-gpt2, greedy, 100 % at levels 1-3):
// every "a op b = c" line the model writes becomes a span of the store's step table marked generated,
// labelled with its operator, in the order the problem's "ops" list them; analyze scores JSD peaks,
// the model-level trace and heartbeat pulse starts against those boundaries with the chance baseline;
// and `headscope ib STORE` takes the generated steps with their labels.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "../app/cli_support.h"
#include "core/analysis/store_analysis.h"
#include "core/store/reader.h"
#include "test_support.h"

namespace fs = std::filesystem;
using namespace headscope;

TEST(GeneratedSteps, ACaptureRecordsTheChainStepsAndAnalyzeAndIbUseThem) {
  const auto samples = test::fixtures_dir() / ".." / ".." / "samples";
  const auto dir = test::temp_dir();
  const auto store_path = (dir / "gen.h5").string();
  const auto capture = test::run_headscope("capture --model " + (samples / "models" / "arith-gpt2").string() + " --prompts " +
                                           (samples / "prompts" / "arith_heldout_prompt_only.jsonl").string() +
                                           " --generate 40 --max-samples 3 --threads 2 --out " + store_path);
  ASSERT_EQ(capture.exit_code, 0) << capture.err;

  auto reader = store::StoreReader::open(store_path);
  ASSERT_EQ(reader->sample_count(), 3);
  std::vector<std::string> expected_labels;
  for (std::int64_t i = 0; i < reader->sample_count(); ++i) {
    const auto info = reader->sample(i);
    const auto metadata = nlohmann::json::parse(info.metadata_json);
    const auto ops = metadata["ops"].get<std::vector<std::string>>();
    ASSERT_EQ(info.facts.generated_step_starts.size(), ops.size()) << info.id;
    for (int start : info.facts.generated_step_starts) EXPECT_GE(start, info.prompt_length);
    expected_labels.insert(expected_labels.end(), ops.begin(), ops.end());
  }
  const auto spans = reader->embeddings();
  EXPECT_EQ(spans.labels, expected_labels);  // the prompts have no labelled spans: every span is generated
  EXPECT_EQ(spans.generated, std::vector<std::int32_t>(expected_labels.size(), 1));

  const auto analysis = analysis::analyze_store(*reader);
  ASSERT_TRUE(analysis.has_boundaries);
  EXPECT_EQ(analysis.boundary_samples, 2);  // levels 2 and 3 have a boundary between steps
  EXPECT_EQ(analysis.model_boundary_chance.draws, 200);
  EXPECT_EQ(analysis.boundary_chance.size(), static_cast<std::size_t>(reader->layout().layer_count * reader->layout().head_count));
  EXPECT_TRUE(analysis.has_pulse_boundaries);
  reader.reset();

  const auto ib = test::run_headscope("ib --embeddings " + store_path + " --out " + (dir / "ib.h5").string() +
                                      " --min-size 1 --clusters-max 4 --beta-max 10 --quiet");
  EXPECT_EQ(ib.exit_code, 0) << ib.err;
  EXPECT_NE(ib.out.find(std::to_string(expected_labels.size()) + " steps"), std::string::npos) << ib.out;
}
