// PEFT LoRA adapters merged at load (--adapter), against adapters and merges written by Debian's torch
// (tests/capture/lora_adapters.py): Llama (safetensors adapter, rsLoRA, merged before q|k|v and gate|up
// are fused) and GPT-2 (Conv1D, fan_in_fan_out, .bin adapter with '.default' keys). Our merge equals
// Python's within 1e-6 (float32 matmuls of different order), the capture with --adapter equals the capture
// of the merged folder within 1e-5, the adapter changes results, and bad adapters raise a ModelError.
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

class LoraAdapter : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = fs::path(HEADSCOPE_TEST_BINARY_DIR) / "test-tmp" / "LoraAdapter.files";
    fs::remove_all(dir_);
    if (!fs::exists("/usr/bin/python3")) return;
    const auto script = fs::path(HEADSCOPE_TEST_FIXTURES).parent_path() / "capture" / "lora_adapters.py";
    const auto command = "/usr/bin/python3 " + script.string() + " " + dir_.string() + " " +
                         (fs::path(HEADSCOPE_TEST_FIXTURES) / "hf-reference").string() + " > " + dir_.string() + ".log 2>&1";
    written_ = std::system(command.c_str()) == 0;
  }
  void SetUp() override {
    ASSERT_TRUE(fs::exists("/usr/bin/python3")) << "Debian's python3-torch (scripts/install-deps.sh) is missing";
    ASSERT_TRUE(written_) << "lora_adapters.py failed: see " << dir_.string() << ".log";
  }
  static fs::path base(const std::string& model) { return fs::path(HEADSCOPE_TEST_FIXTURES) / "hf-reference" / model; }
  static hm::LoadOptions options(const std::string& adapter = "") {
    hm::LoadOptions load;
    load.threads = 1;
    load.dtype = "float32";
    load.adapter = adapter;
    return load;
  }
  static fs::path dir_;
  static bool written_;
};
fs::path LoraAdapter::dir_;
bool LoraAdapter::written_ = false;

TEST_F(LoraAdapter, MergeAtLoadEqualsPythonMergeAndChangesTheModel) {
  c10::InferenceMode inference;
  const auto ids = at::arange(3, 15, at::kLong).unsqueeze(0);
  for (const std::string model : {"llama", "gpt2"}) {
    SCOPED_TRACE(model);
    auto adapted = hm::Model::load(base(model), options((dir_ / (model + "-adapter")).string()));
    auto merged = hm::Model::load(dir_ / (model + "-merged"), options());
    auto plain = hm::Model::load(base(model), options());
    const auto adapted_parameters = adapted->named_parameters(), merged_parameters = merged->named_parameters();
    ASSERT_EQ(adapted_parameters.size(), merged_parameters.size());
    for (std::size_t i = 0; i < adapted_parameters.size(); ++i)
      EXPECT_TRUE(at::allclose(adapted_parameters[i].second, merged_parameters[i].second, 0.0, 1e-6)) << adapted_parameters[i].first;
    const auto adapted_logits = adapted->forward(ids).logits;
    EXPECT_TRUE(at::allclose(adapted_logits, merged->forward(ids).logits, 0.0, 1e-5));
    EXPECT_GT((adapted_logits - plain->forward(ids).logits).abs().max().item<double>(), 1e-3) << "the adapter changed nothing";
  }
}

// headscope capture --adapter against headscope capture of the merged folder: every metric within 1e-5.
TEST_F(LoraAdapter, CaptureWithAdapterEqualsCaptureOfTheMergedFolder) {
  const auto out = headscope::test::temp_dir();
  {
    std::ofstream prompts(out / "prompts.jsonl");
    prompts << "{\"id\": \"a\", \"ids\": [5, 17, 42, 99, 3, 8, 120, 64, 33, 7]}\n{\"id\": \"b\", \"ids\": [250, 1, 2, 3, 200, 9]}\n";
  }
  const auto exe = headscope::test::headscope_exe().string();
  auto capture = [&](const fs::path& model, const std::string& extra, const fs::path& store) {
    const auto command = exe + " capture --model " + model.string() + extra + " --prompts " + (out / "prompts.jsonl").string() +
                         " --out " + store.string() + " --threads 1 --dtype float32 --flow-size 4 > " + store.string() + ".log 2>&1";
    return std::system(command.c_str());
  };
  ASSERT_EQ(capture(base("gpt2"), " --adapter " + (dir_ / "gpt2-adapter").string(), out / "adapted.h5"), 0);
  ASSERT_EQ(capture(dir_ / "gpt2-merged", "", out / "merged.h5"), 0);
  ASSERT_EQ(capture(base("gpt2"), "", out / "plain.h5"), 0);
  auto adapted = headscope::store::StoreReader::open((out / "adapted.h5").string());
  auto merged = headscope::store::StoreReader::open((out / "merged.h5").string());
  auto plain = headscope::store::StoreReader::open((out / "plain.h5").string());
  ASSERT_EQ(adapted->sample_count(), 2);
  double largest_gap = 0, largest_change = 0;
  for (std::int64_t sample = 0; sample < adapted->sample_count(); ++sample)
    for (const auto& metric : adapted->layout().metrics)
      for (int layer = 0; layer < adapted->layout().layer_count; ++layer) {
        const auto a = adapted->layer_slice(metric.name, sample, layer);
        const auto m = merged->layer_slice(metric.name, sample, layer);
        const auto p = plain->layer_slice(metric.name, sample, layer);
        ASSERT_EQ(a.size(), m.size());
        for (std::size_t i = 0; i < a.size(); ++i) {
          if (std::isnan(a[i]) || std::isnan(m[i])) {
            EXPECT_EQ(std::isnan(a[i]), std::isnan(m[i])) << metric.name;
            continue;
          }
          largest_gap = std::max(largest_gap, static_cast<double>(std::abs(a[i] - m[i])));
          if (!std::isnan(p[i])) largest_change = std::max(largest_change, static_cast<double>(std::abs(a[i] - p[i])));
        }
      }
  EXPECT_LT(largest_gap, 1e-4);
  EXPECT_GT(largest_change, 1e-3);
}

// A target module the model lacks, a rank that does not fit, a missing config: ModelErrors naming the file.
TEST_F(LoraAdapter, BadAdaptersRaiseModelErrors) {
  const auto out = headscope::test::temp_dir();
  auto copy_adapter = [&](const std::string& name) {
    fs::copy(dir_ / "llama-adapter", out / name);
    return out / name;
  };
  auto rewrite_config = [](const fs::path& adapter, const std::string& from, const std::string& to) {
    std::ifstream in(adapter / "adapter_config.json");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    text.replace(text.find(from), from.size(), to);
    std::ofstream(adapter / "adapter_config.json") << text;
  };
  const auto typo = copy_adapter("typo");
  rewrite_config(typo, "\"q_proj\"", "\"query_proj\"");
  EXPECT_THROW(hm::Model::load(base("llama"), options(typo.string())), hm::ModelError);
  const auto no_config = copy_adapter("no_config");
  fs::remove(no_config / "adapter_config.json");
  EXPECT_THROW(hm::Model::load(base("llama"), options(no_config.string())), hm::ModelError);
  // The Llama adapter on GPT-2: its modules do not exist there.
  EXPECT_THROW(hm::Model::load(base("gpt2"), options((dir_ / "llama-adapter").string())), hm::ModelError);
  // GPT-2's adapter read without fan_in_fan_out: B @ A has the transposed shape of the Conv1D weight.
  fs::copy(dir_ / "gpt2-adapter", out / "no_transpose");
  rewrite_config(out / "no_transpose", "\"fan_in_fan_out\": true", "\"fan_in_fan_out\": false");
  EXPECT_THROW(hm::Model::load(base("gpt2"), options((out / "no_transpose").string())), hm::ModelError);
}

}  // namespace
