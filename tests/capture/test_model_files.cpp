// Loading checkpoints through the torch-free Runtime facade: bad inputs (corrupt safetensors headers,
// truncated files, missing tensors, bad config.json, legacy pickle checkpoints) must each raise a ModelError
// that names the file and the field or tensor, never crash; sharded and reduced-precision checkpoints
// written by our own writer load and generate; seeded sampling is reproducible.
#include <gtest/gtest.h>

#include <cstring>
#include <functional>
#include <limits>
#include <fstream>
#include <nlohmann/json.hpp>

#include "capture/model/config.h"
#include "capture/model/runtime.h"
#include "capture/model/safetensors.h"
#include "capture/model/safetensors_writer.h"
#include "test_support.h"

namespace hm = headscope::model;
namespace fs = std::filesystem;

namespace {

const std::vector<std::int64_t> kPrompt = {47, 211, 38, 53, 204, 116, 152, 249, 143, 177};
const std::vector<std::int64_t> kGpt2Greedy = {9, 127, 203, 9, 157, 9, 9, 127};
const std::vector<std::int64_t> kLlamaGreedy = {76, 41, 226, 222, 210, 20, 157, 106};

fs::path fixture(const std::string& model) { return headscope::test::fixtures_dir() / "hf-reference" / model; }

void write_bytes(const fs::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::string read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// A safetensors image from a header text and `data_bytes` zero bytes; `declared_length` overrides
// the 8-byte header length when non-zero.
std::string safetensors_image(const std::string& header, std::size_t data_bytes, std::uint64_t declared_length = 0) {
  const std::uint64_t length = declared_length ? declared_length : header.size();
  std::string image(8, '\0');
  for (int i = 0; i < 8; ++i) image[static_cast<std::size_t>(i)] = static_cast<char>((length >> (8 * i)) & 0xFF);
  return image + header + std::string(data_bytes, '\0');
}

// Expects `action` to throw a ModelError whose message contains every fragment.
template <typename Action>
void expect_model_error(Action action, const std::vector<std::string>& fragments) {
  try {
    action();
    ADD_FAILURE() << "no ModelError thrown";
  } catch (const hm::ModelError& e) {
    for (const auto& fragment : fragments)
      EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << "'" << fragment << "' not in: " << e.what();
  }
}

void expect_bad_header(const std::string& image, const std::vector<std::string>& fragments) {
  const auto path = headscope::test::temp_dir() / "bad.safetensors";
  write_bytes(path, image);
  auto with_file = fragments;
  with_file.push_back("bad.safetensors");
  expect_model_error([&] { hm::SafetensorsFile file(path); }, with_file);
}

// A copy of a fixture model folder (config.json + model.safetensors) that a test may damage.
fs::path copy_model(const std::string& model) {
  const auto folder = headscope::test::temp_dir() / model;
  fs::create_directories(folder);
  fs::copy_file(fixture(model) / "config.json", folder / "config.json");
  fs::copy_file(fixture(model) / "model.safetensors", folder / "model.safetensors");
  return folder;
}

void edit_config(const fs::path& folder, const std::function<void(nlohmann::json&)>& edit) {
  auto config = nlohmann::json::parse(read_bytes(folder / "config.json"));
  edit(config);
  write_bytes(folder / "config.json", config.dump(2));
}

// Rewrites `source` into `target` with our writer, dropping `skip`, changing values by `edit` and
// converting F32 to `dtype`.
void rewrite(const fs::path& source, const fs::path& target, const std::string& skip = "",
             hm::StDtype dtype = hm::StDtype::f32,
             const std::function<void(const std::string& name, std::vector<float>& values)>& edit = {}) {
  hm::SafetensorsFile file(source);
  hm::SafetensorsWriter writer;
  writer.set_metadata("format", "pt");
  for (const auto& info : file.tensors()) {
    if (info.name == skip) continue;
    std::vector<float> values(static_cast<std::size_t>(info.element_count()));
    std::memcpy(values.data(), file.data(info), values.size() * sizeof(float));
    if (edit) edit(info.name, values);
    if (dtype == hm::StDtype::f32) {
      writer.add_f32(info.name, info.shape, values);
      continue;
    }
    std::vector<std::uint16_t> half(values.size());
    for (std::size_t i = 0; i < values.size(); ++i)
      half[i] = dtype == hm::StDtype::bf16 ? hm::float_to_bf16_bits(values[i]) : hm::float_to_f16_bits(values[i]);
    writer.add(info.name, dtype, info.shape, half.data(), half.size() * 2);
  }
  writer.write(target);
}

hm::GenerateOptions greedy(int count) {
  hm::GenerateOptions options;
  options.max_new_tokens = count;
  return options;
}

TEST(SafetensorsHeader, FileShorterThanTheLengthField) {
  expect_bad_header("abc", {"fewer than the 8-byte header length"});
  expect_bad_header("", {"fewer than the 8-byte header length"});
}

TEST(SafetensorsHeader, HeaderLengthPastEndOfFile) {
  expect_bad_header(safetensors_image("{}", 0, 1000), {"header length 1000 runs past the end of the file"});
  expect_bad_header(safetensors_image("{}", 0, ~0ULL), {"runs past the end of the file"});
}

TEST(SafetensorsHeader, MalformedJson) {
  expect_bad_header(safetensors_image("{\"a\": [1, 2", 0), {"header is not valid JSON"});
  expect_bad_header(safetensors_image("[1, 2]", 0), {"header is not a JSON object"});
  expect_bad_header(safetensors_image(R"({"__metadata__": {"format": 3}})", 0), {"'__metadata__' field 'format'"});
  expect_bad_header(safetensors_image(R"({"w": 5})", 0), {"tensor 'w' is not a JSON object"});
}

TEST(SafetensorsHeader, TruncatedData) {
  expect_bad_header(safetensors_image(R"({"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}})", 8),
                    {"tensor 'w'", "past the data area", "truncated"});
}

TEST(SafetensorsHeader, OverlappingAndReversedOffsets) {
  expect_bad_header(safetensors_image(R"({"a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]},
                                          "b": {"dtype": "F32", "shape": [4], "data_offsets": [8, 24]}})", 24),
                    {"tensors 'a' and 'b' overlap"});
  expect_bad_header(safetensors_image(R"({"a": {"dtype": "F32", "shape": [0], "data_offsets": [16, 8]}})", 24),
                    {"tensor 'a'", "begin 16 after end 8"});
  expect_bad_header(safetensors_image(R"({"a": {"dtype": "F32", "shape": [4], "data_offsets": [-4, 12]}})", 24),
                    {"tensor 'a'", "data_offsets"});
}

TEST(SafetensorsHeader, DtypeAndShapeMustAgreeWithTheBytes) {
  expect_bad_header(safetensors_image(R"({"w": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 8]}})", 8),
                    {"tensor 'w' spans 8 bytes but dtype F32 with its shape needs 16"});
  expect_bad_header(safetensors_image(R"({"w": {"dtype": "F7", "shape": [2], "data_offsets": [0, 8]}})", 8),
                    {"tensor 'w' has unknown dtype 'F7'"});
  expect_bad_header(safetensors_image(R"({"w": {"dtype": "F32", "shape": [-2], "data_offsets": [0, 8]}})", 8),
                    {"tensor 'w'", "not a non-negative integer"});
  expect_bad_header(
      safetensors_image(R"({"w": {"dtype": "F64", "shape": [4294967296, 4294967296], "data_offsets": [0, 8]}})", 8),
      {"tensor 'w'", "overflows"});
  expect_bad_header(safetensors_image(R"({"w": {"shape": [2], "data_offsets": [0, 8]}})", 8),
                    {"tensor 'w' has no string field 'dtype'"});
}

TEST(SafetensorsWriter, RoundTripWithMetadataAndReducedPrecision) {
  const auto path = headscope::test::temp_dir() / "round.safetensors";
  hm::SafetensorsWriter writer;
  writer.set_metadata("format", "pt");
  writer.add_f32("a", {2, 3}, {1, 2, 3, 4, 5, 6});
  const std::uint16_t halves[2] = {hm::float_to_f16_bits(1.5f), hm::float_to_f16_bits(-65504.0f)};
  writer.add("b", hm::StDtype::f16, {2}, halves, sizeof halves);
  EXPECT_THROW(writer.add_f32("c", {4}, {1, 2}), hm::ModelError);
  writer.write(path);
  EXPECT_EQ((fs::file_size(path) - 6 * 4 - 2 * 2) % 8, 0u);  // 8-byte length + header padded to 8
  hm::SafetensorsFile file(path);
  EXPECT_EQ(file.metadata().at("format"), "pt");
  ASSERT_EQ(file.tensors().size(), 2u);
  float sixth = 0;
  std::memcpy(&sixth, file.data(file.info("a")) + 20, 4);
  EXPECT_EQ(sixth, 6.0f);
  EXPECT_EQ(hm::float_to_f16_bits(1.5f), 0x3E00);
  EXPECT_EQ(hm::float_to_f16_bits(-65504.0f), 0xFBFF);
  EXPECT_EQ(hm::float_to_f16_bits(1e-7f), 0x0002);  // subnormal: 1e-7 / 2^-24 = 1.68 -> 2
  EXPECT_EQ(hm::float_to_bf16_bits(1.0f), 0x3F80);
  EXPECT_EQ(hm::float_to_bf16_bits(1.00390625f), 0x3F80);  // halfway rounds to even
  expect_model_error([&] { (void)file.info("missing"); }, {"missing tensor 'missing'", "round.safetensors"});
}

TEST(ModelFolder, TruncatedWeightsFile) {
  const auto folder = copy_model("gpt2");
  const auto bytes = read_bytes(folder / "model.safetensors");
  write_bytes(folder / "model.safetensors", bytes.substr(0, bytes.size() / 2));
  expect_model_error([&] { hm::Runtime runtime(folder); }, {"model.safetensors", "past the data area"});
}

TEST(ModelFolder, MissingTensorIsNamed) {
  const auto folder = copy_model("gpt2");
  rewrite(fixture("gpt2") / "model.safetensors", folder / "model.safetensors", "transformer.h.1.mlp.c_fc.bias");
  expect_model_error([&] { hm::Runtime runtime(folder); }, {"missing tensor 'transformer.h.1.mlp.c_fc.bias'"});
}

TEST(ModelFolder, WeightShapeMustMatchConfig) {
  const auto folder = copy_model("llama");
  edit_config(folder, [](nlohmann::json& config) { config["intermediate_size"] = 96; });
  expect_model_error([&] { hm::Runtime runtime(folder); },
                     {"model.safetensors", "tensor 'model.layers.0.mlp.gate_proj.weight' has shape [128,64]", "[96,64]"});
}

TEST(ModelFolder, UnknownModelTypeAndMissingFields) {
  const auto folder = copy_model("llama");
  edit_config(folder, [](nlohmann::json& config) { config["model_type"] = "bert"; });
  expect_model_error([&] { hm::Runtime runtime(folder); }, {"config.json", "'model_type'", "'bert' is not supported"});
  edit_config(folder, [](nlohmann::json& config) { config.erase("model_type"); });
  expect_model_error([&] { hm::Runtime runtime(folder); }, {"config.json", "'model_type' is missing"});
  edit_config(folder, [](nlohmann::json& config) {
    config["model_type"] = "llama";
    config.erase("num_attention_heads");
  });
  expect_model_error([&] { hm::Runtime runtime(folder); }, {"config.json", "'num_attention_heads' is missing"});
  edit_config(folder, [](nlohmann::json& config) {
    config["num_attention_heads"] = 4;
    config["rope_scaling"] = {{"rope_type", "yarn"}, {"factor", 4}};
  });
  expect_model_error([&] { hm::Runtime runtime(folder); }, {"'rope_scaling.rope_type'", "'yarn' is not supported"});
  write_bytes(folder / "config.json", "{ not json");
  expect_model_error([&] { hm::Runtime runtime(folder); }, {"config.json", "not valid JSON"});
  fs::remove(folder / "config.json");
  expect_model_error([&] { hm::Runtime runtime(folder); }, {"config.json", "cannot open"});
}

TEST(ModelFolder, HfDefaultsApplyToMissingFields) {
  const auto gpt2 = hm::read_model_config(fixture("gpt2") / "config.json");
  EXPECT_TRUE(gpt2.tie_word_embeddings);  // absent from the file: GPT-2's default
  EXPECT_EQ(gpt2.intermediate_size, 256);  // n_inner null -> 4 x n_embd
  const auto mistral = hm::read_model_config(fixture("mistral-swa8") / "config.json");
  EXPECT_EQ(mistral.head_dim, 16);
  EXPECT_EQ(mistral.sliding_window, 8);
  const auto qwen2 = hm::read_model_config(fixture("qwen2") / "config.json");
  EXPECT_TRUE(qwen2.qkv_bias);
  EXPECT_FALSE(qwen2.sliding_window.has_value());
  const auto llama3 = hm::read_model_config(fixture("llama3-rope") / "config.json");
  EXPECT_EQ(llama3.rope.scaling_type, "llama3");
  EXPECT_EQ(llama3.kv_head_count, 2);
}

// A bare pickle stream (the legacy, pre-1.6 torch.save format) is refused, naming the file; the zip
// checkpoints torch.save writes now are read by the restricted reader (test_torch_checkpoint.cpp).
TEST(ModelFolder, LegacyPickleCheckpointsAreRefused) {
  const auto folder = headscope::test::temp_dir() / "pickled";
  fs::create_directories(folder);
  fs::copy_file(fixture("gpt2") / "config.json", folder / "config.json");
  write_bytes(folder / "pytorch_model.bin", "\x80\x02}q\x00.");  // a pickle opcode stream
  expect_model_error([&] { hm::Runtime runtime(folder); }, {"pytorch_model.bin", "legacy"});
  write_bytes(folder / "weights.pt", "\x80\x02}q\x00.");
  expect_model_error([&] { hm::Runtime runtime(folder / "weights.pt"); }, {"weights.pt", "legacy"});
}

TEST(ModelFolder, BadDeviceDtypeAndTokenIds) {
  hm::RuntimeOptions options;
  options.device = "tpu:7";
  expect_model_error([&] { hm::Runtime runtime(fixture("gpt2"), options); }, {"device 'tpu:7'"});
  options.device = "cpu";
  options.dtype = "int8";
  expect_model_error([&] { hm::Runtime runtime(fixture("gpt2"), options); }, {"dtype 'int8'"});
  hm::Runtime runtime(fixture("gpt2"));
  expect_model_error([&] { runtime.generate({1, 256}, greedy(1)); }, {"token id 256", "outside the vocabulary"});
  expect_model_error([&] { runtime.generate({}, greedy(1)); }, {"no tokens"});
}

// Issue 15 item 11: a NaN or infinite weight, rope_theta <= 0 or a negative epsilon made an all-NaN store.
TEST(ModelFolder, NonFiniteWeightsAndBadNumbersAreRefused) {
  const auto folder = copy_model("llama");
  const std::string poisoned = "model.layers.1.self_attn.k_proj.weight";
  for (float bad : {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity()}) {
    rewrite(fixture("llama") / "model.safetensors", folder / "model.safetensors", "", hm::StDtype::f32,
            [&](const std::string& name, std::vector<float>& values) {
              if (name == poisoned) values[values.size() / 2] = bad;
            });
    expect_model_error([&] { hm::Runtime runtime(folder); }, {"model.safetensors", poisoned, "NaN or infinite"});
  }
  rewrite(fixture("llama") / "model.safetensors", folder / "model.safetensors", "", hm::StDtype::f32,
          [&](const std::string& name, std::vector<float>& values) {
            if (name == poisoned) values[0] = 1e30f;  // finite in float32, beyond float16
          });
  {
    hm::Runtime as_float(folder);  // float32 holds it
  }
  hm::RuntimeOptions bf16;
  bf16.dtype = "bfloat16";
  { hm::Runtime as_bf16(folder, bf16); }  // so does bfloat16's float32 range
  fs::copy_file(fixture("llama") / "model.safetensors", folder / "model.safetensors", fs::copy_options::overwrite_existing);
  for (double theta : {0.0, -10000.0}) {
    edit_config(folder, [&](nlohmann::json& config) { config["rope_theta"] = theta; });
    expect_model_error([&] { hm::Runtime runtime(folder); }, {"config.json", "'rope_theta'", "finite number > 0"});
  }
  edit_config(folder, [](nlohmann::json& config) {
    config["rope_theta"] = 10000.0;
    config["rms_norm_eps"] = -1e-6;
  });
  expect_model_error([&] { hm::Runtime runtime(folder); }, {"config.json", "'rms_norm_eps'", ">= 0"});
  const auto gpt2 = copy_model("gpt2");
  edit_config(gpt2, [](nlohmann::json& config) { config["layer_norm_epsilon"] = -0.5; });
  expect_model_error([&] { hm::Runtime runtime(gpt2); }, {"config.json", "'layer_norm_epsilon'"});
}

// Issue 15 item 14: --dtype float16 on the CPU ended in a libtorch stack trace.
TEST(ModelFolder, Float16ComputeOnTheCpuIsAClearError) {
  hm::RuntimeOptions options;
  options.dtype = "float16";
  expect_model_error([&] { hm::Runtime runtime(fixture("llama"), options); }, {"float16", "bfloat16 or float32"});
}

TEST(ModelFolder, ShardedCheckpointGivesTheSameIds) {
  const auto folder = headscope::test::temp_dir() / "sharded";
  fs::create_directories(folder);
  fs::copy_file(fixture("gpt2") / "config.json", folder / "config.json");
  hm::SafetensorsFile source(fixture("gpt2") / "model.safetensors");
  hm::SafetensorsWriter shards[2];
  nlohmann::json weight_map;
  std::size_t index = 0;
  for (const auto& info : source.tensors()) {
    const std::size_t shard = index++ % 2;
    shards[shard].add(info.name, info.dtype, info.shape, source.data(info), info.end - info.begin);
    weight_map[info.name] = "model-0000" + std::to_string(shard + 1) + "-of-00002.safetensors";
  }
  shards[0].write(folder / "model-00001-of-00002.safetensors");
  shards[1].write(folder / "model-00002-of-00002.safetensors");
  write_bytes(folder / "model.safetensors.index.json", nlohmann::json{{"metadata", {}}, {"weight_map", weight_map}}.dump());
  hm::Runtime runtime(folder);
  EXPECT_EQ(runtime.generate(kPrompt, greedy(8)), kGpt2Greedy);

  const bool in_first = weight_map["transformer.ln_f.bias"] == "model-00001-of-00002.safetensors";
  weight_map["transformer.ln_f.bias"] = in_first ? "model-00002-of-00002.safetensors" : "model-00001-of-00002.safetensors";
  write_bytes(folder / "model.safetensors.index.json", nlohmann::json{{"weight_map", weight_map}}.dump());
  expect_model_error([&] { hm::Runtime broken(folder); }, {"index.json", "'transformer.ln_f.bias'", "does not hold it"});
}

TEST(ModelFolder, Bf16AndF16CheckpointsLoadAndRunInEachDtype) {
  for (auto stored : {hm::StDtype::bf16, hm::StDtype::f16}) {
    const auto folder = copy_model("llama");
    rewrite(fixture("llama") / "model.safetensors", folder / "model.safetensors", "", stored);
    hm::Runtime as_float(folder);
    EXPECT_EQ(as_float.generate(kPrompt, greedy(8)).size(), 8u);
    hm::RuntimeOptions bf16;
    bf16.dtype = "bfloat16";
    hm::Runtime as_bf16(folder, bf16);
    EXPECT_EQ(as_bf16.info().run_dtype, "bfloat16");
    EXPECT_EQ(as_bf16.generate(kPrompt, greedy(8)).size(), 8u);
  }
}

TEST(Generation, GreedyThroughTheFacadeAndSeededSampling) {
  hm::Runtime runtime(fixture("llama"));
  EXPECT_EQ(runtime.info().family, "llama");
  EXPECT_EQ(runtime.info().kv_head_count, 2);
  EXPECT_EQ(runtime.generate(kPrompt, greedy(8)), kLlamaGreedy);
  hm::GenerateOptions sampled = greedy(12);
  sampled.greedy = false;
  sampled.seed = 42;
  const auto first = runtime.generate(kPrompt, sampled);
  EXPECT_EQ(first.size(), 12u);
  EXPECT_EQ(runtime.generate(kPrompt, sampled), first);  // same seed, same ids
  sampled.seed = 43;
  EXPECT_NE(runtime.generate(kPrompt, sampled), first);
  sampled.top_k = 1;  // top-1 sampling is greedy
  sampled.max_new_tokens = 8;
  EXPECT_EQ(runtime.generate(kPrompt, sampled), kLlamaGreedy);
  hm::GenerateOptions stopping = greedy(8);
  stopping.stop_ids = {226};
  EXPECT_EQ(runtime.generate(kPrompt, stopping), (std::vector<std::int64_t>{76, 41, 226}));
}

}  // namespace
