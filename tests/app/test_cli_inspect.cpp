// `headscope inspect`: the summary of a store as text and JSON, and a clear error for a bad file.
#include <nlohmann/json.hpp>

#include "../core/store_test_data.h"
#include "cli_support.h"
#include "core/store/writer.h"

using namespace headscope;

TEST(CliInspect, SummarisesAStore) {
  const auto path = (test::temp_dir() / "run.h5").string();
  const auto layout = test::small_layout();
  {
    store::Provenance provenance;
    provenance.model_name = "tiny-gpt2";
    auto writer = store::StoreWriter::create(path, layout, provenance);
    for (int i = 0; i < 4; ++i) writer->append(test::make_sample(layout, i));
  }
  const auto text = test::run_headscope("inspect " + path);
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find("samples      4"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("tiny-gpt2"), std::string::npos);
  EXPECT_NE(text.out.find("max_attention"), std::string::npos);

  const auto json = test::run_headscope("inspect --json " + path);
  ASSERT_EQ(json.exit_code, 0) << json.err;
  const auto j = nlohmann::json::parse(json.out);
  EXPECT_EQ(j["samples"], 4);
  EXPECT_EQ(j["kind"], "capture");
  EXPECT_EQ(j["state"], "complete");
  EXPECT_EQ(j["metrics"].size(), layout.metrics.size());
}

TEST(CliInspect, BadFileIsAClearError) {
  const auto path = (test::temp_dir() / "notes.txt").string();
  std::ofstream(path) << "not a store\n";
  const auto result = test::run_headscope("inspect " + path);
  EXPECT_NE(result.exit_code, 0);
  EXPECT_NE(result.err.find(path), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("not an HDF5 file"), std::string::npos) << result.err;
}
