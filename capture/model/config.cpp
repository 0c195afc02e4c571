// config.json parsing: dispatch on model_type, the shared field readers (activation, RoPE and its
// scaling) and the GPT-2 and Llama parsers with HF 4.44's class defaults. Mistral and Qwen2 are in
// mistral.cpp and qwen2.cpp.
#include "capture/model/config.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>

#include "capture/model/config_reader.h"

namespace headscope::model {

const char* family_name(Family family) {
  switch (family) {
    case Family::gpt2: return "gpt2";
    case Family::llama: return "llama";
    case Family::mistral: return "mistral";
    case Family::qwen2: return "qwen2";
  }
  return "?";
}

Activation ConfigReader::activation(const std::string& field, const std::string& fallback) const {
  const std::string name = string_or(field, fallback);
  if (name == "gelu_new" || name == "gelu_pytorch_tanh" || name == "gelu_fast") return Activation::gelu_tanh;
  if (name == "gelu") return Activation::gelu_erf;
  if (name == "relu") return Activation::relu;
  if (name == "silu" || name == "swish") return Activation::silu;
  fail(field, "names an unsupported activation '" + name + "' (supported: gelu_new, gelu, relu, silu)");
}

RopeConfig ConfigReader::rope(double default_theta) const {
  RopeConfig rope;
  rope.theta = positive_number_or("rope_theta", default_theta);
  if (!has("rope_scaling")) return rope;
  const auto& scaling = at("rope_scaling");
  if (!scaling.is_object()) fail("rope_scaling", "is not an object");
  std::string type;
  if (scaling.contains("rope_type") && scaling["rope_type"].is_string()) type = scaling["rope_type"].get<std::string>();
  else if (scaling.contains("type") && scaling["type"].is_string()) type = scaling["type"].get<std::string>();
  else fail("rope_scaling.rope_type", "is missing");
  auto number = [&](const char* key) {
    if (!scaling.contains(key) || !scaling[key].is_number()) fail(std::string("rope_scaling.") + key, "is missing");
    const double value = scaling[key].get<double>();
    if (!std::isfinite(value) || value <= 0) fail(std::string("rope_scaling.") + key, "must be a finite number > 0");
    return value;
  };
  rope.scaling_type = type;
  if (type == "default") return rope;
  if (type == "linear") {
    rope.factor = number("factor");
    return rope;
  }
  if (type == "llama3") {
    rope.factor = number("factor");
    rope.low_freq_factor = number("low_freq_factor");
    rope.high_freq_factor = number("high_freq_factor");
    rope.original_max_positions = number("original_max_position_embeddings");
    if (rope.low_freq_factor == rope.high_freq_factor) fail("rope_scaling.high_freq_factor", "equals low_freq_factor");
    return rope;
  }
  fail("rope_scaling.rope_type", "'" + type + "' is not supported (supported: default, linear, llama3)");
}

// GPT2Config defaults: n_inner None (4 x n_embd), gelu_new, layer_norm_epsilon 1e-5, tied embeddings.
ModelConfig parse_gpt2_config(const ConfigReader& reader) {
  ModelConfig config;
  config.family = Family::gpt2;
  config.hidden_size = reader.required_int("n_embd");
  config.layer_count = reader.required_int("n_layer");
  config.head_count = reader.required_int("n_head");
  config.kv_head_count = config.head_count;
  config.vocab_size = reader.required_int("vocab_size");
  config.max_positions = reader.required_int("n_positions");
  if (config.hidden_size % config.head_count != 0) reader.fail("n_head", "does not divide n_embd");
  config.head_dim = config.hidden_size / config.head_count;
  config.intermediate_size = reader.int_or("n_inner", 4 * config.hidden_size);
  config.activation = reader.activation("activation_function", "gelu_new");
  config.norm_eps = reader.non_negative_number_or("layer_norm_epsilon", 1e-5);
  config.tie_word_embeddings = reader.bool_or("tie_word_embeddings", true);
  config.scale_attn_weights = reader.bool_or("scale_attn_weights", true);
  config.scale_attn_by_inverse_layer = reader.bool_or("scale_attn_by_inverse_layer_idx", false);
  config.bos_id = reader.token_id_or("bos_token_id", 50256);
  config.eos_id = reader.token_id_or("eos_token_id", 50256);
  return config;
}

void parse_llama_shape(const ConfigReader& reader, ModelConfig& config) {
  config.hidden_size = reader.required_int("hidden_size");
  config.layer_count = reader.required_int("num_hidden_layers");
  config.head_count = reader.required_int("num_attention_heads");
  config.kv_head_count = reader.int_or("num_key_value_heads", config.head_count);
  config.intermediate_size = reader.required_int("intermediate_size");
  config.vocab_size = reader.required_int("vocab_size");
  if (config.head_count % config.kv_head_count != 0)
    reader.fail("num_key_value_heads", "does not divide num_attention_heads");
  if (!reader.has("head_dim") && config.hidden_size % config.head_count != 0)
    reader.fail("num_attention_heads", "does not divide hidden_size (and head_dim is not given)");
  config.head_dim = reader.int_or("head_dim", config.hidden_size / std::max(config.head_count, 1));
  if (config.head_dim % 2 != 0) reader.fail("head_dim", "must be even for rotary embeddings");
  config.activation = reader.activation("hidden_act", "silu");
  config.norm_eps = reader.non_negative_number_or("rms_norm_eps", 1e-6);
  config.tie_word_embeddings = reader.bool_or("tie_word_embeddings", false);
  config.bos_id = reader.token_id_or("bos_token_id", 1);
  config.eos_id = reader.token_id_or("eos_token_id", 2);
}

// LlamaConfig defaults: max_position_embeddings 2048, no biases unless attention_bias / mlp_bias.
ModelConfig parse_llama_config(const ConfigReader& reader) {
  ModelConfig config;
  config.family = Family::llama;
  parse_llama_shape(reader, config);
  config.rope = reader.rope(10000.0);
  config.max_positions = reader.int_or("max_position_embeddings", 2048);
  config.qkv_bias = reader.bool_or("attention_bias", false);
  config.output_bias = config.qkv_bias;
  config.mlp_bias = reader.bool_or("mlp_bias", false);
  return config;
}

namespace {

LatentConfig parse_latent_config(const nlohmann::json& json, const std::string& origin, const ModelConfig& config) {
  if (!json.is_object()) throw ModelError(origin + ": config field 'latent' is not an object");
  ConfigReader reader(json, origin + " (latent)");
  LatentConfig latent;
  latent.steps = reader.int_or("steps", 6);
  latent.bot_id = reader.token_id_or("bot_token_id", std::nullopt);
  latent.eot_id = reader.token_id_or("eot_token_id", std::nullopt);
  for (const auto& [field, id] : {std::pair{"bot_token_id", latent.bot_id}, std::pair{"eot_token_id", latent.eot_id}})
    if (id && (*id < 0 || *id >= config.vocab_size))
      reader.fail(field, "is " + std::to_string(*id) + ", outside the vocabulary of " + std::to_string(config.vocab_size));
  latent.projection = reader.bool_or("projection", false);
  if (latent.projection) latent.projection_dim = reader.required_int("projection_dim");
  latent.projection_layer_norm = reader.bool_or("projection_layer_norm", true);
  return latent;
}

}  // namespace

ModelConfig parse_model_config(const std::string& json_text, const std::string& origin) {
  nlohmann::json json;
  try {
    json = nlohmann::json::parse(json_text);
  } catch (const nlohmann::json::exception& e) {
    throw ModelError(origin + ": not valid JSON: " + e.what());
  }
  if (!json.is_object()) throw ModelError(origin + ": not a JSON object");
  ConfigReader reader(json, origin);
  if (!reader.has("model_type")) reader.fail("model_type", "is missing");
  const std::string model_type = reader.string_or("model_type", "");
  ModelConfig config;
  if (model_type == "gpt2") config = parse_gpt2_config(reader);
  else if (model_type == "llama") config = parse_llama_config(reader);
  else if (model_type == "mistral") config = parse_mistral_config(reader);
  else if (model_type == "qwen2") config = parse_qwen2_config(reader);
  else
    reader.fail("model_type", "'" + model_type + "' is not supported (supported: gpt2, llama, mistral, qwen2)");
  config.model_type = model_type;
  if (reader.has("latent")) config.latent = parse_latent_config(json.at("latent"), origin, config);
  config.stored_dtype = reader.string_or("torch_dtype", "float32");
  config.json = json_text;
  return config;
}

ModelConfig read_model_config(const std::filesystem::path& config_json) {
  std::ifstream in(config_json, std::ios::binary);
  if (!in) throw ModelError(config_json.string() + ": cannot open (a model folder needs config.json)");
  std::ostringstream text;
  text << in.rdbuf();
  return parse_model_config(text.str(), config_json.string());
}

}  // namespace headscope::model
