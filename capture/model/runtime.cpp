// The torch-free Runtime facade over Model and generate(): loading, model info, generation.
#include "capture/model/runtime.h"

#include "capture/model/generate_torch.h"
#include "capture/model/model_torch.h"

namespace headscope::model {

Runtime::Runtime(const std::filesystem::path& model_folder, const RuntimeOptions& options) {
  LoadOptions load_options;
  load_options.device = options.device;
  load_options.dtype = options.dtype;
  load_options.adapter = options.adapter;
  load_options.threads = options.threads;
  model_ = Model::load(model_folder, load_options);
  const auto& config = model_->config();
  info_.family = family_name(config.family);
  info_.model_type = config.model_type;
  info_.layer_count = config.layer_count;
  info_.head_count = config.head_count;
  info_.kv_head_count = config.kv_head_count;
  info_.head_dim = config.head_dim;
  info_.hidden_size = config.hidden_size;
  info_.vocab_size = config.vocab_size;
  info_.sliding_window = config.sliding_window;
  info_.bos_id = config.bos_id;
  info_.eos_id = config.eos_id;
  info_.run_dtype = model_->dtype() == at::kFloat ? "float32" : model_->dtype() == at::kHalf ? "float16" : "bfloat16";
  info_.device = model_->device().str();
  info_.config_json = config.json;
}

Runtime::~Runtime() = default;
Runtime::Runtime(Runtime&&) noexcept = default;
Runtime& Runtime::operator=(Runtime&&) noexcept = default;

std::vector<std::int64_t> Runtime::generate(const std::vector<std::int64_t>& prompt_ids,
                                            const GenerateOptions& options) const {
  return model::generate(*model_, prompt_ids, options);
}

}  // namespace headscope::model
