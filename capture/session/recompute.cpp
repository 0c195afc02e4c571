// AttentionRecomputer (see recompute.h) and the latent loop (latent_loop_torch.h).
#include "capture/session/recompute.h"

#include <ATen/ATen.h>

#include "capture/model/model_torch.h"
#include "capture/session/latent_loop_torch.h"

namespace headscope::capture {

at::Tensor latent_loop_embeddings(model::Model& model, const std::vector<std::int64_t>& prompt_ids, int steps) {
  at::NoGradGuard no_grad;
  const auto prompt_length = static_cast<std::int64_t>(prompt_ids.size());
  model::KvCache cache = model.make_cache(1, prompt_length + steps);
  model::ForwardOptions quiet;
  quiet.logits = model::LogitsMode::none;
  at::Tensor ids = at::tensor(prompt_ids, at::TensorOptions().dtype(at::kLong)).unsqueeze(0).to(model.device());
  at::Tensor last = model.forward(ids, &cache, quiet).final_hidden.slice(1, -1);  // [1, 1, hidden]
  std::vector<at::Tensor> pieces{model.embed_tokens(ids)};
  for (int step = 0; step < steps; ++step) {
    pieces.push_back(last);
    if (step + 1 < steps) last = model.forward_embeddings(last, &cache, quiet).final_hidden.slice(1, -1);
  }
  return at::cat(pieces, 1);
}

namespace {

// Keeps one layer's pattern for one head.
class HeadPatternObserver : public model::ProbeObserver {
 public:
  explicit HeadPatternObserver(store::HeadRef head) : head_(head) {}
  bool wants(const model::ProbeSite& site) override {
    return site.point == model::ProbePoint::pattern && site.layer == head_.layer;
  }
  void observe(const model::ProbeSite&, const at::Tensor& value) override {
    matrix = value[0][head_.head].to(at::kFloat).contiguous().cpu();
  }
  at::Tensor matrix;  // [query, key]

 private:
  store::HeadRef head_;
};

}  // namespace

struct AttentionRecomputer::Impl {
  std::unique_ptr<model::Model> model;
};

AttentionRecomputer::AttentionRecomputer(const std::string& model_dir, const std::string& device, const std::string& dtype,
                                         int threads)
    : impl_(std::make_unique<Impl>()) {
  model::LoadOptions options;
  options.device = device;
  options.dtype = dtype;
  options.threads = threads;
  impl_->model = model::Model::load(model_dir, options);
}

AttentionRecomputer::~AttentionRecomputer() = default;
int AttentionRecomputer::layer_count() const { return impl_->model->config().layer_count; }
int AttentionRecomputer::head_count() const { return impl_->model->config().head_count; }

std::vector<float> AttentionRecomputer::head_attention(const std::vector<std::int32_t>& tokens, store::HeadRef head) const {
  auto& model = *impl_->model;
  const auto& config = model.config();
  if (head.layer < 0 || head.layer >= config.layer_count || head.head < 0 || head.head >= config.head_count)
    throw std::runtime_error("head " + store::head_name(head) + " is outside the model");
  if (tokens.empty()) throw std::runtime_error("the sample has no tokens");
  std::vector<std::int64_t> prompt;
  int latent_steps = 0;
  for (auto id : tokens) {
    if (id < 0) { ++latent_steps; continue; }
    if (latent_steps > 0) throw std::runtime_error("latent positions must follow the prompt");
    if (id >= config.vocab_size) throw std::runtime_error("token id " + std::to_string(id) + " is outside the vocabulary");
    prompt.push_back(id);
  }
  HeadPatternObserver observer(head);
  model::ForwardOptions options;
  options.observer = &observer;
  options.logits = model::LogitsMode::none;
  options.stop_after_layer = head.layer;  // nothing past the head's layer runs
  at::NoGradGuard no_grad;
  if (latent_steps > 0) {
    model.forward_embeddings(latent_loop_embeddings(model, prompt, latent_steps), nullptr, options);
  } else {
    model.forward(at::tensor(prompt, at::TensorOptions().dtype(at::kLong)).unsqueeze(0).to(model.device()), nullptr, options);
  }
  const float* data = observer.matrix.data_ptr<float>();
  return std::vector<float>(data, data + observer.matrix.numel());
}

}  // namespace headscope::capture
