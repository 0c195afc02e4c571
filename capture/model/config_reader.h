// Private helper for the per-family config parsers (config.cpp, mistral.cpp, qwen2.cpp): typed access
// to config.json fields with HF defaults, and errors that name the file and the field.
#pragma once
#include <nlohmann/json.hpp>
#include <cmath>
#include <optional>
#include <utility>
#include <string>

#include "capture/model/config.h"

namespace headscope::model {

class ConfigReader {
 public:
  ConfigReader(const nlohmann::json& json, std::string origin) : json_(json), origin_(std::move(origin)) {}

  [[noreturn]] void fail(const std::string& field, const std::string& what) const {
    throw ModelError(origin_ + ": config field '" + field + "' " + what);
  }
  bool has_key(const std::string& field) const { return json_.find(field) != json_.end(); }
  bool has(const std::string& field) const {
    auto it = json_.find(field);
    return it != json_.end() && !it->is_null();
  }
  const nlohmann::json& at(const std::string& field) const { return json_.at(field); }

  int required_int(const std::string& field) const {
    if (!has(field)) fail(field, "is missing (required for this model_type)");
    return positive_int(field);
  }
  int int_or(const std::string& field, int fallback) const { return has(field) ? positive_int(field) : fallback; }
  double number_or(const std::string& field, double fallback) const {
    if (!has(field)) return fallback;
    if (!json_.at(field).is_number()) fail(field, "is not a number");
    return json_.at(field).get<double>();
  }
  // rope_theta and scaling factors: a finite number > 0. Epsilons: a finite number >= 0.
  double positive_number_or(const std::string& field, double fallback) const {
    const double value = number_or(field, fallback);
    if (!std::isfinite(value) || value <= 0) fail(field, "must be a finite number > 0 (got " + std::to_string(value) + ")");
    return value;
  }
  double non_negative_number_or(const std::string& field, double fallback) const {
    const double value = number_or(field, fallback);
    if (!std::isfinite(value) || value < 0) fail(field, "must be a finite number >= 0 (got " + std::to_string(value) + ")");
    return value;
  }
  bool bool_or(const std::string& field, bool fallback) const {
    if (!has(field)) return fallback;
    if (!json_.at(field).is_boolean()) fail(field, "is not true/false");
    return json_.at(field).get<bool>();
  }
  std::string string_or(const std::string& field, const std::string& fallback) const {
    if (!has(field)) return fallback;
    if (!json_.at(field).is_string()) fail(field, "is not a string");
    return json_.at(field).get<std::string>();
  }
  // Token ids: an integer, null (absent) or a list (the first entry is used).
  std::optional<std::int64_t> token_id_or(const std::string& field, std::optional<std::int64_t> fallback) const {
    auto it = json_.find(field);
    if (it == json_.end()) return fallback;
    if (it->is_null()) return std::nullopt;
    if (it->is_number_integer()) return it->get<std::int64_t>();
    if (it->is_array() && !it->empty() && (*it)[0].is_number_integer()) return (*it)[0].get<std::int64_t>();
    fail(field, "is not a token id");
  }

  Activation activation(const std::string& field, const std::string& fallback) const;
  RopeConfig rope(double default_theta) const;  // rope_theta and rope_scaling

 private:
  int positive_int(const std::string& field) const {
    const auto& value = json_.at(field);
    if (!value.is_number_integer() || value.get<std::int64_t>() <= 0 || value.get<std::int64_t>() > (1LL << 31) - 1)
      fail(field, "must be a positive integer");
    return static_cast<int>(value.get<std::int64_t>());
  }
  const nlohmann::json& json_;
  std::string origin_;
};

// Per-family parsers; each fills the whole ModelConfig (dispatch in config.cpp).
// Fields shared by the Llama-shaped families: sizes, GQA, head_dim, activation, RMSNorm eps, tying,
// special ids, RoPE.
void parse_llama_shape(const ConfigReader& reader, ModelConfig& config);
ModelConfig parse_gpt2_config(const ConfigReader& reader);
ModelConfig parse_llama_config(const ConfigReader& reader);
ModelConfig parse_mistral_config(const ConfigReader& reader);
ModelConfig parse_qwen2_config(const ConfigReader& reader);

}  // namespace headscope::model
