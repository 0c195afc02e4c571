// PEFT LoRA adapters merged into base weights at load (private to capture/): adapter_config.json (r,
// lora_alpha, target_modules, fan_in_fan_out, use_rslora, modules_to_save, bias) and the adapter's
// weights (adapter_model.safetensors or adapter_model.bin). W' = W + scale * (B @ A), transposed for
// GPT-2's Conv1D (fan_in_fan_out), computed in float32 before the cast to the run dtype; scale is
// lora_alpha / r, or lora_alpha / sqrt(r) with use_rslora. CODI checkpoints reuse the same merge.
#pragma once
#include <ATen/ATen.h>

#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace headscope::model {

struct LoraAdapter {
  std::string origin;         // the adapter's weights file, for error messages
  double scale = 1.0;         // lora_alpha / r (or / sqrt(r))
  bool fan_in_fan_out = false;  // base weights stored [in, out] (GPT-2 Conv1D): the update is transposed
  struct Update {
    at::Tensor down;  // lora_A [r, in] float32
    at::Tensor up;    // lora_B [out, r] float32
  };
  std::map<std::string, Update> updates;            // base weight name ("...q_proj.weight") -> A, B
  std::map<std::string, at::Tensor> replacements;   // base tensor name -> stored tensor (modules_to_save, biases)

  // `weight` (as stored) with the update merged (float32), the replacement, or `weight` itself.
  // Throws ModelError naming the adapter file when the update's shape does not fit.
  at::Tensor apply(const std::string& name, const at::Tensor& weight) const;
  bool touches(const std::string& name) const { return updates.count(name) || replacements.count(name); }
};

// Collects the LoRA pairs from tensor `names` (loaded through `load`, CPU tensors as stored): a name is
// PREFIX + MODULE + ".lora_A[.ADAPTER].weight" / ".lora_B[...]" (an update of MODULE.weight),
// PREFIX + MODULE + ".modules_to_save[.ADAPTER].weight|bias" (a replacement) or, when `biases_saved`,
// PREFIX + MODULE + ".bias" (a replacement); any other name under PREFIX is an error naming `origin`,
// names outside PREFIX are skipped when `others_allowed`. `base_has` says whether the base model has a
// tensor: an update of a tensor it lacks is an error.
void collect_lora_tensors(LoraAdapter& adapter, const std::vector<std::string>& names, const std::string& prefix,
                          const std::function<at::Tensor(const std::string&)>& load,
                          const std::function<bool(const std::string&)>& base_has, bool biases_saved,
                          bool others_allowed);

// Reads a PEFT adapter folder. Throws ModelError naming the file when adapter_config.json is missing or
// unsupported (not LORA, rank_pattern / alpha_pattern, a target module the base lacks) or when a weight
// does not fit.
LoraAdapter read_peft_adapter(const std::filesystem::path& dir, const std::function<bool(const std::string&)>& base_has,
                              const std::vector<std::string>& base_names);

}  // namespace headscope::model
