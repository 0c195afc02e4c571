// Random-weight checkpoints with the exact published configs of real models, for benchmarks at real shapes:
// Llama-3.2-1B (16 x 32 heads, GQA 8, tied 128k vocabulary, llama3 rope), Qwen2.5-0.5B (24 x 14 heads, GQA 2,
// q/k/v biases, 152k vocabulary) and Llama-3-8B (32 x 32 heads, the Spectra seed's model). Weights are
// bfloat16 like the published ones, written as HF does: safetensors shards of at most 4 GiB with an index
// when there is more than one. Random weights have the real models' speed and memory, not their behaviour.
#pragma once
#include <filesystem>
#include <string>
#include <vector>

namespace headscope::bench {

struct RealModel {
  std::string name;         // "llama-3.2-1b"
  std::string config_json;  // config.json as published
};

const std::vector<RealModel>& real_models();
const RealModel& find_real_model(const std::string& name);  // throws std::runtime_error naming the known ones

// Writes config.json and bfloat16 weights drawn from normal(0, 0.02) (norm weights 1, biases normal(0, 0.02))
// into `folder`; returns the checkpoint's bytes on disk.
std::uintmax_t write_real_model(const RealModel& model, const std::filesystem::path& folder, unsigned seed = 1);

// A token shard for `headscope capture --shards`: `rows` prompts of `columns` ids drawn uniformly below `vocab`.
void write_token_shard(const std::filesystem::path& path, int rows, int columns, int vocab, unsigned seed = 7);

}  // namespace headscope::bench
