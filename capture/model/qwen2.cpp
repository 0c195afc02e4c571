// Qwen2: the Llama architecture with a bias on the q/k/v projections (none on o_proj). Runs on the
// Llama-family forward pass (llama.cpp); this file reads Qwen2Config with HF 4.44's defaults.
#include "capture/model/config_reader.h"

namespace headscope::model {

// Qwen2Config defaults: max_position_embeddings 32768, use_sliding_window false. The sliding window
// that Qwen2 applies to some layers when use_sliding_window is true is not implemented: refused.
ModelConfig parse_qwen2_config(const ConfigReader& reader) {
  ModelConfig config;
  config.family = Family::qwen2;
  parse_llama_shape(reader, config);
  config.rope = reader.rope(10000.0);
  config.max_positions = reader.int_or("max_position_embeddings", 32768);
  config.qkv_bias = true;
  if (reader.bool_or("use_sliding_window", false))
    reader.fail("use_sliding_window", "is true: Qwen2's per-layer sliding window is not supported");
  return config;
}

}  // namespace headscope::model
