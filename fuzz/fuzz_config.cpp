// libFuzzer target: config.json parsing (capture/model/config.h) on arbitrary bytes. Every input must
// parse into a config whose shapes are positive and consistent, or raise ModelError; never crash or hang.
//   build-fuzz/fuzz/fuzz_config -dict=fuzz/config.dict build-fuzz/corpus-config fuzz/corpus/config
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>

#include "capture/model/config.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    const auto config = headscope::model::parse_model_config(std::string(reinterpret_cast<const char*>(data), size),
                                                             "fuzz/config.json");
    const bool shapes_ok = config.hidden_size > 0 && config.layer_count > 0 && config.head_count > 0 &&
                           config.kv_head_count > 0 && config.head_count % config.kv_head_count == 0 &&
                           config.head_dim > 0 && config.vocab_size > 0;
    const bool numbers_ok = std::isfinite(config.norm_eps) && config.norm_eps >= 0 && std::isfinite(config.rope.theta) &&
                            config.rope.theta > 0;
    if (!shapes_ok || !numbers_ok) __builtin_trap();  // a config the model code would misuse slipped through
  } catch (const headscope::model::ModelError&) {
  }
  return 0;
}
