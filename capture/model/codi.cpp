// CODI checkpoints (the CODI authors' pytorch_model.bin of the whole CODI module, zhenyi4/codi
// src/model.py) read as a continuous-thought model: the base model's weights under
// "codi.base_model.model." (PEFT's ".base_layer." names or the plain ones) with its LoRA merged, the
// projection "prj.*", and config.json's base vocabulary grown by CODI's three tokens (pad, bot, eot).
#include <fstream>
#include <nlohmann/json.hpp>

#include "capture/model/weights_torch.h"

namespace headscope::model {

void adopt_codi_checkpoint(const std::filesystem::path& folder, ModelConfig& config, WeightSource& weights,
                           double default_lora_alpha) {
  // lora_alpha is not in the state dict: an adapter_config.json beside it, else the authors' scripts' 32.
  double lora_alpha = default_lora_alpha;
  const auto adapter_config = folder / "adapter_config.json";
  if (std::filesystem::exists(adapter_config)) {
    std::ifstream in(adapter_config, std::ios::binary);
    const auto json = nlohmann::json::parse(in, nullptr, false);
    if (!json.is_object() || !json.contains("lora_alpha") || !json["lora_alpha"].is_number())
      throw ModelError(adapter_config.string() + ": field 'lora_alpha' is missing or not a number");
    lora_alpha = json["lora_alpha"].get<double>();
  }
  weights.read_as_codi(lora_alpha, config.family == Family::gpt2);
  const std::string embedding = config.family == Family::gpt2 ? "transformer.wte.weight" : "model.embed_tokens.weight";
  const auto rows = weights.stored_shape(embedding);
  if (!rows || rows->size() != 2) throw ModelError(weights.describe() + ": a CODI checkpoint without '" + embedding + "'");
  const auto base_vocab = config.vocab_size;
  config.vocab_size = (*rows)[0];
  if (config.latent) return;  // config.json says how to run it
  if (config.vocab_size != base_vocab + 3)
    throw ModelError(weights.describe() + ": the CODI embedding has " + std::to_string(config.vocab_size) +
                     " rows; CODI grows config.json's vocab_size (" + std::to_string(base_vocab) +
                     ") by 3 (pad, bot, eot). Give config.json a \"latent\" object instead");
  LatentConfig latent;  // the authors' num_latent and inf_latent_iterations: 6
  latent.bot_id = base_vocab + 1;
  latent.eot_id = base_vocab + 2;
  if (const auto projection = weights.stored_shape("prj.1.weight")) {
    latent.projection = true;
    latent.projection_dim = static_cast<int>((*projection)[0]);
    latent.projection_layer_norm = weights.contains("prj.ln.weight");
  }
  config.latent = latent;
}

}  // namespace headscope::model
