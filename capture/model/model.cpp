// Model: loading a folder (config, weights, family dispatch), the device / dtype / thread settings,
// the probe-site table and the forward loop shared by every family (embedding, blocks, final norm,
// logits, KV cache bookkeeping). Families implement the per-block math (gpt2.cpp, llama.cpp).
#include <ATen/Parallel.h>
#include <c10/core/InferenceMode.h>

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <thread>

#include "capture/model/blocks_torch.h"
#include "capture/model/weights_torch.h"
#include "core/util/threads.h"

namespace headscope::model {
namespace {

const char* const kLayerProbeNames[kLayerProbeCount] = {"attn.q_pre", "attn.k_pre",    "attn.v",   "attn.q_rot",
                                                        "attn.k_rot", "attn.pattern",  "attn.head_out",
                                                        "attn.out",   "mlp.out",       "out"};

}  // namespace

c10::Device parse_device(const std::string& text) {
  c10::Device device(c10::kCPU);
  try {
    device = c10::Device(text);
  } catch (const c10::Error&) {
    throw ModelError("device '" + text + "' is not valid (use cpu, cuda or cuda:N)");
  }
  if (device.is_cuda() && !at::hasCUDA())
    throw ModelError("device '" + text + "' requested, but this libtorch build has no CUDA device available");
  if (!device.is_cpu() && !device.is_cuda()) throw ModelError("device '" + text + "' is not supported (cpu or cuda)");
  return device;
}

at::ScalarType parse_dtype(const std::string& text) {
  if (text == "float32" || text == "fp32" || text == "float") return at::kFloat;
  if (text == "float16" || text == "fp16" || text == "half") return at::kHalf;
  if (text == "bfloat16" || text == "bf16") return at::kBFloat16;
  throw ModelError("dtype '" + text + "' is not supported (float32, float16, bfloat16 or auto)");
}

void configure_threads(int threads) {
  if (threads < 0) return;
  threads = capped_thread_count(threads);
  if (at::get_num_threads() != threads) at::set_num_threads(threads);
}

Model::Model(ModelConfig config, c10::Device device, at::ScalarType dtype)
    : config_(std::move(config)), device_(device), dtype_(dtype) {
  for (int layer = 0; layer < config_.layer_count; ++layer)
    for (int point = 0; point < kLayerProbeCount; ++point)
      sites_.push_back({static_cast<ProbePoint>(point + 1), layer,
                        "blocks." + std::to_string(layer) + "." + kLayerProbeNames[point]});
  sites_.push_back({ProbePoint::embed_out, -1, "embed.out"});
  sites_.push_back({ProbePoint::final_norm_out, -1, "final_norm.out"});
  sites_.push_back({ProbePoint::logits, -1, "logits"});
}

Model::~Model() = default;

const ProbeSite& Model::site(ProbePoint point, int layer) const {
  const auto global = static_cast<std::size_t>(config_.layer_count) * kLayerProbeCount;
  switch (point) {
    case ProbePoint::embed_out: return sites_[global];
    case ProbePoint::final_norm_out: return sites_[global + 1];
    case ProbePoint::logits: return sites_[global + 2];
    default: break;
  }
  return sites_[static_cast<std::size_t>(layer) * kLayerProbeCount + static_cast<std::size_t>(point) - 1];
}

std::unique_ptr<Model> Model::load(const std::filesystem::path& path, const LoadOptions& options) {
  namespace fs = std::filesystem;
  fs::path folder = path, checkpoint_file;
  if (fs::is_regular_file(path) && (path.extension() == ".safetensors" || is_pickle_checkpoint_name(path))) {
    folder = path.has_parent_path() ? path.parent_path() : fs::path(".");
    checkpoint_file = path;
  }
  if (!fs::is_directory(folder)) throw ModelError(path.string() + ": not a model folder");
  auto config = read_model_config(folder / "config.json");
  const auto device = parse_device(options.device);
  auto weights = WeightSource::open(folder, checkpoint_file);
  if (weights.is_codi()) {
    if (!options.adapter.empty())
      throw ModelError(options.adapter + ": " + weights.describe() + " is a CODI checkpoint and carries its own LoRA");
    adopt_codi_checkpoint(folder, config, weights, kCodiDefaultLoraAlpha);
  }
  if (!options.adapter.empty()) weights.attach_adapter(options.adapter);
  at::ScalarType dtype = at::kFloat;
  if (options.dtype == "auto") {
    // As stored (the dtype holding most of the checkpoint's bytes), so a bfloat16 model runs its GEMMs in
    // bfloat16 with no float32 copy; float16 runs as float32 on the CPU, whose half GEMMs are slow or missing.
    dtype = weights.stored_dtype();
    if (dtype == at::kHalf && device.is_cpu()) dtype = at::kFloat;
  } else {
    dtype = parse_dtype(options.dtype);
    if (dtype == at::kHalf && device.is_cpu())
      throw ModelError("--dtype float16 runs only on a GPU: this libtorch has no float16 matrix products on the CPU; "
                       "use --dtype bfloat16 or float32 (--dtype auto runs a float16 checkpoint as float32 here)");
  }
  configure_threads(options.threads);
  c10::InferenceMode inference;
  auto model = config.family == Family::gpt2 ? make_gpt2_model(config, weights, device, dtype)
                                             : make_llama_family_model(config, weights, device, dtype);
  model->attach_latent_projection(weights);
  if (const auto unused = weights.unused_adapter_targets(); !unused.empty())
    throw ModelError(options.adapter + ": the adapter changes '" + unused.front() + "', which this model never reads "
                     "(e.g. a tied lm_head); merging it would change nothing");
  return model;
}

void Model::attach_latent_projection(const WeightSource& weights) {
  if (!config_.latent || !config_.latent->projection) return;
  const std::int64_t hidden = config_.hidden_size, inner = config_.latent->projection_dim;
  auto load = [&](const std::string& name, std::vector<std::int64_t> shape) { return weights.load(name, shape, dtype_, device_); };
  auto& p = latent_projection_;
  p.up_weight = load("prj.1.weight", {inner, hidden});
  p.up_bias = load("prj.1.bias", {inner});
  p.down_weight = load("prj.3.weight", {hidden, inner});
  p.down_bias = load("prj.3.bias", {hidden});
  if (config_.latent->projection_layer_norm) {
    p.norm_weight = load("prj.ln.weight", {hidden});
    p.norm_bias = load("prj.ln.bias", {hidden});
  }
}

at::Tensor Model::project_latent(const at::Tensor& hidden) const {
  const auto& p = latent_projection_;
  if (!p.up_weight.defined()) return hidden;
  auto projected = at::linear(at::gelu(at::linear(hidden, p.up_weight, p.up_bias)), p.down_weight, p.down_bias);
  if (!p.norm_weight.defined()) return projected;
  return at::layer_norm(projected, {config_.hidden_size}, p.norm_weight, p.norm_bias, 1e-5);
}

std::vector<std::pair<std::string, at::Tensor>> Model::latent_parameters() const {
  const auto& p = latent_projection_;
  if (!p.up_weight.defined()) return {};
  std::vector<std::pair<std::string, at::Tensor>> named{{"prj.1.weight", p.up_weight}, {"prj.1.bias", p.up_bias},
                                                        {"prj.3.weight", p.down_weight}, {"prj.3.bias", p.down_bias}};
  if (p.norm_weight.defined()) {
    named.emplace_back("prj.ln.weight", p.norm_weight);
    named.emplace_back("prj.ln.bias", p.norm_bias);
  }
  return named;
}

KvCache Model::make_cache(std::int64_t batch, std::int64_t capacity) const {
  KvCache cache;
  cache.batch = batch;
  cache.keys.resize(static_cast<std::size_t>(config_.layer_count));
  cache.values.resize(static_cast<std::size_t>(config_.layer_count));
  if (capacity > 0) {
    auto options = at::TensorOptions().dtype(dtype_).device(device_);
    for (auto& keys : cache.keys) keys = at::empty({batch, config_.kv_head_count, capacity, config_.head_dim}, options);
    for (auto& values : cache.values)
      values = at::empty({batch, config_.kv_head_count, capacity, config_.head_dim}, options);
  }
  return cache;
}

at::Tensor Model::add_positions(const at::Tensor& embeddings, std::int64_t) const { return embeddings; }

Model::RopeTables Model::rope_tables(std::int64_t first, std::int64_t count) const {
  RopeTables tables;
  if (!inv_freq_.defined()) return tables;
  tables.inv_freq = inv_freq_;
  auto positions = at::arange(first, first + count, at::TensorOptions().dtype(at::kLong).device(device_)).to(at::kFloat);
  auto frequencies = positions.unsqueeze(1) * inv_freq_.unsqueeze(0);  // [count, head_dim / 2]
  auto angles = at::cat({frequencies, frequencies}, -1);                 // [count, head_dim]
  tables.cos = angles.cos();
  tables.sin = angles.sin();
  return tables;
}

std::uint64_t physical_memory_bytes() {
  const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
  return pages > 0 && page > 0 ? static_cast<std::uint64_t>(pages) * static_cast<std::uint64_t>(page) : 0;
}

std::uint64_t default_attention_budget() {
  return std::clamp<std::uint64_t>(physical_memory_bytes() / 16, std::uint64_t{128} << 20, std::uint64_t{512} << 20);
}

double Model::score_divisor(int layer) const {
  double divisor = config_.scale_attn_weights ? std::sqrt(static_cast<double>(config_.head_dim)) : 1.0;
  if (config_.scale_attn_by_inverse_layer) divisor *= layer + 1;
  return divisor;
}

std::unique_ptr<Model> Model::create_random(const ModelConfig& config, std::uint64_t seed, const std::string& device,
                                           double init_std) {
  const auto weights = WeightSource::random(seed, init_std);
  std::unique_ptr<Model> model = config.family == Family::gpt2
                                     ? make_gpt2_model(config, weights, parse_device(device), at::kFloat)
                                     : make_llama_family_model(config, weights, parse_device(device), at::kFloat);
  model->attach_latent_projection(weights);
  for (auto& named : model->named_parameters()) named.second.requires_grad_(true);
  for (auto& named : model->latent_parameters()) named.second.requires_grad_(true);
  return model;
}

ForwardResult Model::forward(const at::Tensor& input_ids, KvCache* cache, const ForwardOptions& options) {
  c10::InferenceMode inference(!options.autograd);
  if (input_ids.dim() != 2) throw ModelError("forward: input_ids must be [batch, token]");
  auto ids = input_ids.to(device_, at::kLong);
  if (ids.numel() > 0) {
    const auto smallest = ids.min().item<std::int64_t>();
    const auto largest = ids.max().item<std::int64_t>();
    if (smallest < 0 || largest >= config_.vocab_size)
      throw ModelError("forward: token id " + std::to_string(smallest < 0 ? smallest : largest) +
                       " is outside the vocabulary [0, " + std::to_string(config_.vocab_size) + ")");
  }
  return run(embed_tokens(ids), cache, options);
}

ForwardResult Model::forward_embeddings(const at::Tensor& embeddings, KvCache* cache, const ForwardOptions& options) {
  c10::InferenceMode inference(!options.autograd);
  if (embeddings.dim() != 3 || embeddings.size(2) != config_.hidden_size)
    throw ModelError("forward_embeddings: embeddings must be [batch, token, " + std::to_string(config_.hidden_size) + "]");
  return run(embeddings.to(device_, dtype_), cache, options);
}

ForwardResult Model::run(const at::Tensor& embeddings, KvCache* cache, const ForwardOptions& options) {
  const auto batch = embeddings.size(0);
  const auto token_count = embeddings.size(1);
  if (token_count == 0) throw ModelError("forward: no tokens");
  if (cache && cache->batch != batch)
    throw ModelError("forward: batch " + std::to_string(batch) + " does not match the cache's " + std::to_string(cache->batch));
  if (cache && options.stop_after_layer >= 0)
    throw ModelError("forward: stop_after_layer cannot be combined with a KV cache");
  if (options.interventions) {
    for (const auto& edit : options.interventions->heads) {
      if (edit.layer < 0 || edit.layer >= config_.layer_count || edit.head < 0 || edit.head >= config_.head_count)
        throw ModelError("intervention on L" + std::to_string(edit.layer) + "H" + std::to_string(edit.head) +
                         " is outside the model's layers x heads");
      if (edit.output == OutputAblation::mean && edit.mean_output.size() != static_cast<std::size_t>(config_.head_dim))
        throw ModelError("mean ablation of L" + std::to_string(edit.layer) + "H" + std::to_string(edit.head) +
                         " needs a mean output of head_dim values");
    }
  }
  BlockContext context;
  context.model = this;
  context.options = &options;
  context.cache = cache;
  context.first_position = cache ? cache->length : 0;
  context.query_count = token_count;
  if (inv_freq_.defined()) {
    auto tables = rope_tables(context.first_position, token_count);
    context.rope_cos = tables.cos.to(dtype_);
    context.rope_sin = tables.sin.to(dtype_);
  }

  auto hidden = add_positions(embeddings, context.first_position);  // [batch, token, hidden]
  if (context.wants(ProbePoint::embed_out, -1)) context.observe(ProbePoint::embed_out, -1, hidden);
  const int last_layer = options.stop_after_layer >= 0 ? std::min(options.stop_after_layer, config_.layer_count - 1)
                                                       : config_.layer_count - 1;
  const bool tail_wanted = !options.stop_after_attention || options.stop_after_layer >= 0 ||
                           options.logits != LogitsMode::none || context.wants(ProbePoint::mlp_out, last_layer) ||
                           context.wants(ProbePoint::block_out, last_layer) ||
                           context.wants(ProbePoint::final_norm_out, -1) || context.wants(ProbePoint::logits, -1);
  if (!tail_wanted) context.attention_only_layer = last_layer;
  for (int layer = 0; layer <= last_layer; ++layer) {
    hidden = run_block(layer, hidden, context);
    if (context.wants(ProbePoint::block_out, layer)) context.observe(ProbePoint::block_out, layer, hidden);
  }
  ForwardResult result;
  if (!tail_wanted) {
    if (cache) cache->length += token_count;
    return result;
  }
  if (options.stop_after_layer >= 0) {
    result.final_hidden = hidden;
    return result;
  }
  if (cache) cache->length += token_count;
  hidden = final_norm(hidden);
  if (context.wants(ProbePoint::final_norm_out, -1)) context.observe(ProbePoint::final_norm_out, -1, hidden);
  result.final_hidden = hidden;
  const bool logits_wanted = context.wants(ProbePoint::logits, -1);
  if (options.logits == LogitsMode::none && !logits_wanted) return result;
  auto head_input = options.logits == LogitsMode::last && !logits_wanted ? hidden.narrow(1, token_count - 1, 1) : hidden;
  result.logits = lm_head(head_input).to(at::kFloat);  // [batch, token or 1, vocab]
  if (logits_wanted) context.observe(ProbePoint::logits, -1, result.logits);
  if (options.logits == LogitsMode::last && result.logits.size(1) != 1)
    result.logits = result.logits.narrow(1, token_count - 1, 1);
  if (options.logits == LogitsMode::none) result.logits = at::Tensor();
  return result;
}

}  // namespace headscope::model
