// Mistral: the Llama architecture plus an explicit head_dim and a sliding attention window (query i
// sees keys i-W < j <= i, in prefill and in cached decoding). Runs on the Llama-family forward pass
// (llama.cpp); this file reads MistralConfig with HF 4.44's defaults.
#include "capture/model/config_reader.h"

namespace headscope::model {

// MistralConfig defaults: sliding_window 4096 when the key is absent (null disables it),
// max_position_embeddings 4096 * 32, no biases. rope_scaling is not read by HF 4.44's Mistral.
ModelConfig parse_mistral_config(const ConfigReader& reader) {
  ModelConfig config;
  config.family = Family::mistral;
  parse_llama_shape(reader, config);
  config.rope.theta = reader.positive_number_or("rope_theta", 10000.0);
  config.max_positions = reader.int_or("max_position_embeddings", 4096 * 32);
  if (!reader.has("sliding_window")) {
    if (!reader.has_key("sliding_window")) config.sliding_window = 4096;
  } else {
    config.sliding_window = reader.required_int("sliding_window");
  }
  return config;
}

}  // namespace headscope::model
