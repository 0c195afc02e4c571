// Prefill throughput of HeadScope's model runtime (tokens per second of a full forward pass with
// logits, no cache, explicit attention), to compare with bench/python_prefill.py's eager plain-torch
// baseline on the same models and thread count (bench/run_runtime_bench.sh runs both side by side).
//   bench_runtime [--threads N] [--repeats R] MODEL_DIR:SEQ ...      -> "ours <model> <seq> <tokens/s>"
//   bench_runtime --make-random DIR --family llama|gpt2 [--layers 4 --hidden 256 --heads 8 --kv-heads 4
//                 --vocab 4096 --positions 1024]   writes a random checkpoint with our safetensors writer
//   bench_runtime --make-real NAME DIR     a bfloat16 random checkpoint with a real model's published config
//                                          (llama-3.2-1b, qwen2.5-0.5b, llama-3-8b; bench/real_models.h)
//   bench_runtime --make-shard FILE.npz --rows R --columns C --vocab V   random token ids for capture --shards
// Timing options: --dtype auto|float32|bfloat16 (default auto: as stored), --logits all|last|none (default all).
#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <c10/core/InferenceMode.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "capture/model/model_torch.h"
#include "bench/real_models.h"
#include "capture/model/safetensors_writer.h"

namespace hm = headscope::model;

namespace {

void add_random(hm::SafetensorsWriter& writer, const std::string& name, std::vector<std::int64_t> shape, double scale,
                double offset = 0.0) {
  auto values = (at::randn(shape) * scale + offset).contiguous();
  writer.add(name, hm::StDtype::f32, shape, values.data_ptr<float>(), static_cast<std::size_t>(values.numel()) * 4);
}

void make_random_model(const std::string& folder, const std::map<std::string, std::string>& flags) {
  auto flag = [&](const std::string& key, int fallback) {
    auto it = flags.find(key);
    return it == flags.end() ? fallback : std::stoi(it->second);
  };
  const std::string family = flags.count("--family") ? flags.at("--family") : "llama";
  const int layers = flag("--layers", 4), hidden = flag("--hidden", 256), heads = flag("--heads", 8);
  const int kv_heads = flag("--kv-heads", family == "gpt2" ? heads : 4), vocab = flag("--vocab", 4096);
  const int positions = flag("--positions", 1024), inner = family == "gpt2" ? 4 * hidden : hidden * 8 / 3;
  const int head_dim = hidden / heads;
  at::manual_seed(1);
  std::filesystem::create_directories(folder);
  nlohmann::json config;
  hm::SafetensorsWriter writer;
  writer.set_metadata("format", "pt");
  if (family == "gpt2") {
    config = {{"model_type", "gpt2"}, {"n_embd", hidden}, {"n_layer", layers}, {"n_head", heads},
              {"vocab_size", vocab}, {"n_positions", positions}, {"n_inner", nullptr}};
    add_random(writer, "transformer.wte.weight", {vocab, hidden}, 0.02);
    add_random(writer, "transformer.wpe.weight", {positions, hidden}, 0.02);
    add_random(writer, "transformer.ln_f.weight", {hidden}, 0.1, 1.0);
    add_random(writer, "transformer.ln_f.bias", {hidden}, 0.1);
    for (int layer = 0; layer < layers; ++layer) {
      const std::string p = "transformer.h." + std::to_string(layer) + ".";
      for (const char* norm : {"ln_1", "ln_2"}) {
        add_random(writer, p + norm + ".weight", {hidden}, 0.1, 1.0);
        add_random(writer, p + norm + ".bias", {hidden}, 0.1);
      }
      add_random(writer, p + "attn.c_attn.weight", {hidden, 3 * hidden}, 0.05);
      add_random(writer, p + "attn.c_attn.bias", {3 * hidden}, 0.02);
      add_random(writer, p + "attn.c_proj.weight", {hidden, hidden}, 0.02);
      add_random(writer, p + "attn.c_proj.bias", {hidden}, 0.02);
      add_random(writer, p + "mlp.c_fc.weight", {hidden, inner}, 0.02);
      add_random(writer, p + "mlp.c_fc.bias", {inner}, 0.02);
      add_random(writer, p + "mlp.c_proj.weight", {inner, hidden}, 0.02);
      add_random(writer, p + "mlp.c_proj.bias", {hidden}, 0.02);
    }
  } else {
    config = {{"model_type", "llama"}, {"hidden_size", hidden}, {"num_hidden_layers", layers},
              {"num_attention_heads", heads}, {"num_key_value_heads", kv_heads}, {"intermediate_size", inner},
              {"vocab_size", vocab}, {"max_position_embeddings", positions}, {"rms_norm_eps", 1e-6},
              {"rope_theta", 10000.0}, {"rope_scaling", nullptr}, {"tie_word_embeddings", false}};
    add_random(writer, "model.embed_tokens.weight", {vocab, hidden}, 0.02);
    add_random(writer, "lm_head.weight", {vocab, hidden}, 0.02);
    add_random(writer, "model.norm.weight", {hidden}, 0.1, 1.0);
    for (int layer = 0; layer < layers; ++layer) {
      const std::string p = "model.layers." + std::to_string(layer) + ".";
      add_random(writer, p + "input_layernorm.weight", {hidden}, 0.1, 1.0);
      add_random(writer, p + "post_attention_layernorm.weight", {hidden}, 0.1, 1.0);
      add_random(writer, p + "self_attn.q_proj.weight", {heads * head_dim, hidden}, 0.05);
      add_random(writer, p + "self_attn.k_proj.weight", {kv_heads * head_dim, hidden}, 0.05);
      add_random(writer, p + "self_attn.v_proj.weight", {kv_heads * head_dim, hidden}, 0.05);
      add_random(writer, p + "self_attn.o_proj.weight", {hidden, heads * head_dim}, 0.02);
      add_random(writer, p + "mlp.gate_proj.weight", {inner, hidden}, 0.02);
      add_random(writer, p + "mlp.up_proj.weight", {inner, hidden}, 0.02);
      add_random(writer, p + "mlp.down_proj.weight", {hidden, inner}, 0.02);
    }
  }
  config["torch_dtype"] = "float32";
  std::ofstream(folder + "/config.json") << config.dump(2);
  writer.write(folder + "/model.safetensors");
}

double prefill_tokens_per_second(hm::Model& model, std::int64_t seq, int repeats, hm::LogitsMode logits) {
  c10::InferenceMode inference;
  hm::ForwardOptions forward;
  forward.logits = logits;
  auto generator = at::make_generator<at::CPUGeneratorImpl>(7);
  auto ids = at::randint(model.config().vocab_size, {1, seq}, generator, at::TensorOptions().dtype(at::kLong));
  for (int warm = 0; warm < 2; ++warm) model.forward(ids, nullptr, forward);
  std::vector<double> seconds;
  for (int run = 0; run < repeats; ++run) {
    const auto start = std::chrono::steady_clock::now();
    model.forward(ids, nullptr, forward);
    seconds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  std::sort(seconds.begin(), seconds.end());
  return static_cast<double>(seq) / seconds[seconds.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  try {
    std::map<std::string, std::string> flags;
    std::vector<std::string> models;
    for (int i = 1; i < argc; ++i) {
      std::string arg = argv[i];
      if (arg.rfind("--", 0) == 0 && i + 1 < argc) flags[arg] = argv[++i];
      else models.push_back(arg);
    }
    if (flags.count("--make-random")) {
      make_random_model(flags["--make-random"], flags);
      return 0;
    }
    if (flags.count("--make-real")) {
      if (models.size() != 1) throw std::runtime_error("--make-real NAME DIR");
      const auto bytes = headscope::bench::write_real_model(headscope::bench::find_real_model(flags["--make-real"]), models[0]);
      std::printf("%s: %s, %.2f GB\n", models[0].c_str(), flags["--make-real"].c_str(), static_cast<double>(bytes) / 1e9);
      return 0;
    }
    if (flags.count("--make-shard")) {
      headscope::bench::write_token_shard(flags["--make-shard"], std::stoi(flags.at("--rows")),
                                          std::stoi(flags.at("--columns")), std::stoi(flags.at("--vocab")));
      return 0;
    }
    hm::LoadOptions options;
    options.dtype = flags.count("--dtype") ? flags["--dtype"] : "auto";
    const std::string logits_name = flags.count("--logits") ? flags["--logits"] : "all";
    const auto logits = logits_name == "none" ? hm::LogitsMode::none
                        : logits_name == "last" ? hm::LogitsMode::last : hm::LogitsMode::all;
    options.threads = flags.count("--threads") ? std::stoi(flags["--threads"]) : 0;
    const int repeats = flags.count("--repeats") ? std::stoi(flags["--repeats"]) : 5;
    for (const auto& spec : models) {
      const auto colon = spec.rfind(':');
      const std::string folder = spec.substr(0, colon);
      const std::int64_t seq = std::stoll(spec.substr(colon + 1));
      auto model = hm::Model::load(folder, options);
      const double rate = prefill_tokens_per_second(*model, seq, repeats, logits);
      std::printf("ours %s %lld %.1f\n", std::filesystem::path(folder).filename().c_str(), static_cast<long long>(seq), rate);
      std::fflush(stdout);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_runtime: %s\n", e.what());
    return 1;
  }
  return 0;
}
