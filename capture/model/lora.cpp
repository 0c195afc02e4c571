// PEFT LoRA adapters (see lora_torch.h): adapter_config.json, the key names of the adapter's weights, and
// the float32 merge W + scale * (B @ A) done as each base weight is loaded.
#include <algorithm>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "capture/model/lora_torch.h"
#include "capture/model/model_error.h"
#include "capture/model/weights_torch.h"

namespace headscope::model {
namespace {

bool ends_with(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() && text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string shape_text(const at::Tensor& tensor) {
  std::string text = "[";
  for (std::int64_t d = 0; d < tensor.dim(); ++d) text += (d ? "," : "") + std::to_string(tensor.size(d));
  return text + "]";
}

// "MODULE.lora_A.weight", "MODULE.lora_A.default.weight": MODULE and which half, or false.
bool split_lora_name(const std::string& name, const std::string& marker, std::string* module) {
  const auto at = name.rfind("." + marker);
  if (at == std::string::npos || !ends_with(name, ".weight")) return false;
  const auto tail = name.substr(at + marker.size() + 1);  // ".weight" or ".ADAPTER.weight"
  if (tail != ".weight" && std::count(tail.begin(), tail.end(), '.') != 2) return false;
  *module = name.substr(0, at);
  return true;
}

}  // namespace

at::Tensor LoraAdapter::apply(const std::string& name, const at::Tensor& weight) const {
  if (auto replaced = replacements.find(name); replaced != replacements.end()) {
    if (!replaced->second.sizes().equals(weight.sizes()))
      throw ModelError(origin + ": replacement of '" + name + "' has shape " + shape_text(replaced->second) +
                       ", the base model's is " + shape_text(weight));
    return replaced->second;
  }
  auto it = updates.find(name);
  if (it == updates.end()) return weight;
  auto delta = at::matmul(it->second.up, it->second.down);  // [out, in]
  if (fan_in_fan_out) delta = delta.t();
  if (!delta.sizes().equals(weight.sizes()))
    throw ModelError(origin + ": the LoRA update of '" + name + "' (B @ A" + (fan_in_fan_out ? ", transposed" : "") +
                     ") has shape " + shape_text(delta) + ", the base weight " + shape_text(weight));
  return weight.to(at::kFloat) + scale * delta;
}

void collect_lora_tensors(LoraAdapter& adapter, const std::vector<std::string>& names, const std::string& prefix,
                          const std::function<at::Tensor(const std::string&)>& load,
                          const std::function<bool(const std::string&)>& base_has, bool biases_saved,
                          bool others_allowed) {
  std::map<std::string, at::Tensor> downs, ups;
  for (const auto& stored : names) {
    if (stored.compare(0, prefix.size(), prefix) != 0) {
      if (others_allowed) continue;
      throw ModelError(adapter.origin + ": tensor '" + stored + "' does not start with '" + prefix + "'");
    }
    const auto name = stored.substr(prefix.size());
    std::string module;
    if (split_lora_name(name, "lora_A", &module)) {
      downs[module + ".weight"] = load(stored).to(at::kFloat);
    } else if (split_lora_name(name, "lora_B", &module)) {
      ups[module + ".weight"] = load(stored).to(at::kFloat);
    } else if (name.find(".modules_to_save.") != std::string::npos) {
      const auto at = name.find(".modules_to_save.");
      const auto leaf = name.substr(name.rfind('.'));  // ".weight" or ".bias"
      adapter.replacements[name.substr(0, at) + leaf] = load(stored);
    } else if (biases_saved && ends_with(name, ".bias")) {
      adapter.replacements[name] = load(stored);
    } else if (!others_allowed) {
      throw ModelError(adapter.origin + ": tensor '" + stored + "' is neither a lora_A/lora_B weight nor a saved module");
    }
  }
  for (const auto& [target, down] : downs) {
    auto up = ups.find(target);
    if (up == ups.end()) throw ModelError(adapter.origin + ": '" + target + "' has lora_A but no lora_B");
    if (!base_has(target))
      throw ModelError(adapter.origin + ": the adapter targets '" + target + "', which the base model does not have");
    if (down.dim() != 2 || up->second.dim() != 2 || up->second.size(1) != down.size(0))
      throw ModelError(adapter.origin + ": lora_A " + shape_text(down) + " and lora_B " + shape_text(up->second) +
                       " of '" + target + "' do not chain (expected [r, in] and [out, r])");
    adapter.updates[target] = {down, up->second};
  }
  for (const auto& [target, up] : ups)
    if (!downs.count(target)) throw ModelError(adapter.origin + ": '" + target + "' has lora_B but no lora_A");
  for (const auto& [target, tensor] : adapter.replacements)
    if (!base_has(target))
      throw ModelError(adapter.origin + ": the adapter replaces '" + target + "', which the base model does not have");
}

LoraAdapter read_peft_adapter(const std::filesystem::path& dir, const std::function<bool(const std::string&)>& base_has,
                              const std::vector<std::string>& base_names) {
  namespace fs = std::filesystem;
  const auto config_path = dir / "adapter_config.json";
  if (!fs::exists(config_path)) throw ModelError(config_path.string() + ": not found (a PEFT adapter folder has one)");
  std::ifstream in(config_path, std::ios::binary);
  nlohmann::json config;
  try {
    config = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    throw ModelError(config_path.string() + ": not valid JSON: " + e.what());
  }
  auto field = [&](const char* key) -> const nlohmann::json* {
    return config.is_object() && config.contains(key) && !config[key].is_null() ? &config[key] : nullptr;
  };
  auto fail = [&](const std::string& what) -> void { throw ModelError(config_path.string() + ": " + what); };
  if (auto* type = field("peft_type"); type && (!type->is_string() || type->get<std::string>() != "LORA"))
    fail("peft_type is " + type->dump() + "; only LORA adapters are merged");
  for (const char* key : {"rank_pattern", "alpha_pattern"})
    if (auto* pattern = field(key); pattern && !pattern->empty()) fail(std::string(key) + " is not supported");
  auto* rank = field("r");
  auto* alpha = field("lora_alpha");
  if (!rank || !rank->is_number() || rank->get<double>() <= 0) fail("field 'r' is missing or not a positive number");
  if (!alpha || !alpha->is_number()) fail("field 'lora_alpha' is missing or not a number");
  const bool rslora = field("use_rslora") && field("use_rslora")->is_boolean() && field("use_rslora")->get<bool>();
  std::string bias = "none";
  if (auto* b = field("bias"); b && b->is_string()) bias = b->get<std::string>();

  fs::path weights_file = dir / "adapter_model.safetensors";
  if (!fs::exists(weights_file)) weights_file = dir / "adapter_model.bin";
  if (!fs::exists(weights_file)) fail("no adapter_model.safetensors or adapter_model.bin beside it");
  const auto source = WeightSource::open(dir, weights_file);
  LoraAdapter adapter;
  adapter.origin = weights_file.string();
  adapter.scale = alpha->get<double>() / (rslora ? std::sqrt(rank->get<double>()) : rank->get<double>());
  adapter.fan_in_fan_out = field("fan_in_fan_out") && field("fan_in_fan_out")->is_boolean() && field("fan_in_fan_out")->get<bool>();
  collect_lora_tensors(adapter, source.names(), "base_model.model.",
                       [&](const std::string& name) { return source.load_stored(name); }, base_has, bias != "none",
                       false);
  if (adapter.updates.empty()) throw ModelError(adapter.origin + ": holds no lora_A / lora_B weights");
  // Each listed target module must name weights of the base model (a typo would otherwise merge nothing).
  if (auto* targets = field("target_modules"); targets && targets->is_array()) {
    for (const auto& target : *targets) {
      if (!target.is_string()) fail("target_modules holds a non-string");
      const auto suffix = "." + target.get<std::string>() + ".weight";
      bool found = false;
      for (const auto& name : base_names) found = found || ends_with(name, suffix) || name == target.get<std::string>() + ".weight";
      if (!found) fail("target module '" + target.get<std::string>() + "' matches no weight of the base model");
    }
  }
  return adapter;
}

}  // namespace headscope::model
