// CODI checkpoints (the CODI authors' whole-module pytorch_model.bin: base model under
// "codi.base_model.model." with PEFT LoRA, resized embeddings, the projection prj.*) against the same model
// written as a plain latent model folder (merged weights, config.json's "latent" block), both made by
// Debian's torch (tests/capture/codi_checkpoints.py) for the tiny GPT-2 (.base_layer names, alpha from the
// authors' default 32) and Llama (plain names, alpha 16 from adapter_config.json): the CODI folder loads as
// that model (weights within 1e-6, the latent settings filled), and `capture --latent 6 --flow latent`
// gives its 6x6 flow matrices within 1e-4.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>

#include "capture/model/model_torch.h"
#include "core/store/reader.h"
#include "test_support.h"

namespace hm = headscope::model;
namespace fs = std::filesystem;

namespace {

class CodiCheckpoint : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = fs::path(HEADSCOPE_TEST_BINARY_DIR) / "test-tmp" / "CodiCheckpoint.files";
    fs::remove_all(dir_);
    if (!fs::exists("/usr/bin/python3")) return;
    const auto script = fs::path(HEADSCOPE_TEST_FIXTURES).parent_path() / "capture" / "codi_checkpoints.py";
    const auto command = "/usr/bin/python3 " + script.string() + " " + dir_.string() + " " +
                         (fs::path(HEADSCOPE_TEST_FIXTURES) / "hf-reference").string() + " > " + dir_.string() + ".log 2>&1";
    written_ = std::system(command.c_str()) == 0;
  }
  void SetUp() override {
    ASSERT_TRUE(fs::exists("/usr/bin/python3")) << "Debian's python3-torch (scripts/install-deps.sh) is missing";
    ASSERT_TRUE(written_) << "codi_checkpoints.py failed: see " << dir_.string() << ".log";
  }
  static hm::LoadOptions options() {
    hm::LoadOptions load;
    load.threads = 1;
    load.dtype = "float32";
    return load;
  }
  static fs::path dir_;
  static bool written_;
};
fs::path CodiCheckpoint::dir_;
bool CodiCheckpoint::written_ = false;

TEST_F(CodiCheckpoint, LoadsAsItsMergedLatentModel) {
  c10::InferenceMode inference;
  const auto ids = at::arange(3, 15, at::kLong).unsqueeze(0);
  for (const std::string model : {"gpt2", "llama"}) {
    SCOPED_TRACE(model);
    auto codi = hm::Model::load(dir_ / (model + "-codi"), options());
    auto merged = hm::Model::load(dir_ / (model + "-merged"), options());
    ASSERT_TRUE(codi->config().latent.has_value());
    const auto& latent = *codi->config().latent;
    const auto& expected = *merged->config().latent;
    EXPECT_EQ(codi->config().vocab_size, merged->config().vocab_size);
    EXPECT_EQ(latent.steps, expected.steps);
    EXPECT_EQ(latent.bot_id, expected.bot_id);
    EXPECT_EQ(latent.eot_id, expected.eot_id);
    EXPECT_EQ(latent.projection, expected.projection);
    EXPECT_EQ(latent.projection_dim, expected.projection_dim);
    EXPECT_EQ(latent.projection_layer_norm, expected.projection_layer_norm);
    auto codi_parameters = codi->named_parameters(), merged_parameters = merged->named_parameters();
    for (auto& named : codi->latent_parameters()) codi_parameters.push_back(named);
    for (auto& named : merged->latent_parameters()) merged_parameters.push_back(named);
    ASSERT_EQ(codi_parameters.size(), merged_parameters.size());
    for (std::size_t i = 0; i < codi_parameters.size(); ++i) {
      EXPECT_EQ(codi_parameters[i].first, merged_parameters[i].first);
      EXPECT_TRUE(at::allclose(codi_parameters[i].second, merged_parameters[i].second, 0.0, 1e-6)) << codi_parameters[i].first;
    }
    EXPECT_TRUE(at::allclose(codi->forward(ids).logits, merged->forward(ids).logits, 0.0, 1e-5));
  }
}

TEST_F(CodiCheckpoint, LatentCaptureGivesTheMergedModelsFlowMatrices) {
  const auto out = headscope::test::temp_dir();
  std::ofstream(out / "prompts.jsonl") << "{\"id\": \"a\", \"ids\": [5, 17, 42, 99, 3, 8, 120]}\n{\"id\": \"b\", \"ids\": [250, 1, 2, 3, 200]}\n";
  const auto exe = headscope::test::headscope_exe().string();
  for (const std::string model : {"gpt2", "llama"}) {
    SCOPED_TRACE(model);
    auto capture = [&](const std::string& variant) {
      const auto store = out / (model + "-" + variant + ".h5");
      const auto command = exe + " capture --model " + (dir_ / (model + "-" + variant)).string() +
                           // the CODI folder without --latent: the step count its layout gave the model
                           (variant == "codi" ? " --flow latent" : " --latent 6 --flow latent") +
                           " --prompts " + (out / "prompts.jsonl").string() + " --out " + store.string() +
                           " --threads 1 --dtype float32 > " + store.string() + ".log 2>&1";
      EXPECT_EQ(std::system(command.c_str()), 0) << "see " << store.string() << ".log";
      return headscope::store::StoreReader::open(store.string());
    };
    auto codi = capture("codi");
    auto merged = capture("merged");
    ASSERT_EQ(codi->sample_count(), 2);
    for (std::int64_t sample = 0; sample < 2; ++sample) {
      const auto a = codi->flow(sample), b = merged->flow(sample);
      ASSERT_EQ(a.size(), b.size());
      ASSERT_FALSE(a.empty());
      double gap = 0;
      for (std::size_t i = 0; i < a.size(); ++i)
        if (!std::isnan(a[i]) || !std::isnan(b[i])) gap = std::max(gap, static_cast<double>(std::abs(a[i] - b[i])));
      EXPECT_LT(gap, 1e-4) << "sample " << sample;
      EXPECT_EQ(codi->flow_positions(sample), merged->flow_positions(sample));
    }
  }
}

}  // namespace
