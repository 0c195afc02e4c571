// AttentionRecomputer (see recompute.h) and the latent loop (latent_loop_torch.h).
#include "capture/session/recompute.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <limits>

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
    last = model.project_latent(last);  // a CODI model's projection; the identity otherwise
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

// Keeps every layer's queries [head, S, head_dim] and keys [kv_head, S, head_dim] in the run dtype.
class QueryKeyObserver : public model::ProbeObserver {
 public:
  QueryKeyObserver(int layers, bool rope)
      : query_point_(rope ? model::ProbePoint::q_rot : model::ProbePoint::q_pre),
        key_point_(rope ? model::ProbePoint::k_rot : model::ProbePoint::k_pre),
        queries(static_cast<std::size_t>(layers)),
        keys(static_cast<std::size_t>(layers)) {}
  bool wants(const model::ProbeSite& site) override { return site.point == query_point_ || site.point == key_point_; }
  void observe(const model::ProbeSite& site, const at::Tensor& value) override {
    auto& slot = site.point == query_point_ ? queries : keys;
    slot[static_cast<std::size_t>(site.layer)] = value[0].contiguous().clone();
  }

 private:
  model::ProbePoint query_point_, key_point_;

 public:
  std::vector<at::Tensor> queries, keys;
};

// Splits a stored sample's ids into the prompt and the number of latent steps after it (ids -1).
struct SampleInput {
  std::vector<std::int64_t> prompt;
  int latent_steps = 0;
};

SampleInput sample_input(const model::ModelConfig& config, const std::vector<std::int32_t>& tokens) {
  if (tokens.empty()) throw std::runtime_error("the sample has no tokens");
  SampleInput input;
  for (auto id : tokens) {
    if (id < 0) { ++input.latent_steps; continue; }
    if (input.latent_steps > 0) throw std::runtime_error("latent positions must follow the prompt");
    if (id >= config.vocab_size) throw std::runtime_error("token id " + std::to_string(id) + " is outside the vocabulary");
    input.prompt.push_back(id);
  }
  return input;
}

void run_forward(model::Model& model, const SampleInput& input, const model::ForwardOptions& options) {
  at::NoGradGuard no_grad;
  if (input.latent_steps > 0) {
    model.forward_embeddings(latent_loop_embeddings(model, input.prompt, input.latent_steps), nullptr, options);
  } else {
    model.forward(at::tensor(input.prompt, at::TensorOptions().dtype(at::kLong)).unsqueeze(0).to(model.device()), nullptr, options);
  }
}

void check_head(const model::ModelConfig& config, store::HeadRef head) {
  if (head.layer < 0 || head.layer >= config.layer_count || head.head < 0 || head.head >= config.head_count)
    throw std::runtime_error("head " + store::head_name(head) + " is outside the model");
}

}  // namespace

struct AttentionRecomputer::Impl {
  std::unique_ptr<model::Model> model;
  std::vector<std::int32_t> cached_tokens;   // the sequence whose queries and keys are cached
  bool cached_pre_rope = false;              // ... before RoPE (true) or as attended (false)
  std::vector<at::Tensor> queries, keys;     // per layer [head, S, head_dim], [kv_head, S, head_dim]
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

std::vector<float> AttentionRecomputer::head_attention(const std::vector<std::int32_t>& tokens, store::HeadRef head,
                                                       bool pre_rope) const {
  auto& model = *impl_->model;
  check_head(model.config(), head);
  const SampleInput input = sample_input(model.config(), tokens);
  HeadPatternObserver observer(head);
  model::ForwardOptions options;
  options.observer = &observer;
  options.logits = model::LogitsMode::none;
  options.stop_after_layer = head.layer;  // nothing past the head's layer runs
  options.pattern_pre_rope = pre_rope;
  run_forward(model, input, options);
  const float* data = observer.matrix.data_ptr<float>();
  return std::vector<float>(data, data + observer.matrix.numel());
}

bool AttentionRecomputer::has_cached_sequence(const std::vector<std::int32_t>& tokens, bool pre_rope) const {
  return !impl_->queries.empty() && impl_->cached_tokens == tokens && impl_->cached_pre_rope == pre_rope;
}

std::vector<float> AttentionRecomputer::head_attention_tile(const std::vector<std::int32_t>& tokens, store::HeadRef head,
                                                            const std::vector<int>& rows, int key_begin, int key_end,
                                                            bool pre_rope) const {
  auto& model = *impl_->model;
  const auto& config = model.config();
  check_head(config, head);
  const auto length = static_cast<int>(tokens.size());
  if (key_begin < 0 || key_end < key_begin || key_end > length)
    throw std::runtime_error("keys [" + std::to_string(key_begin) + ", " + std::to_string(key_end) + ") are outside the " +
                             std::to_string(length) + "-token sample");
  for (int row : rows)
    if (row < 0 || row >= length) throw std::runtime_error("query row " + std::to_string(row) + " is outside the sample");
  if (!has_cached_sequence(tokens, pre_rope)) {
    const SampleInput input = sample_input(config, tokens);
    impl_->queries.clear();
    impl_->keys.clear();
    QueryKeyObserver observer(config.layer_count, model.rope_tables(0, 1).cos.defined() && !pre_rope);
    model::ForwardOptions options;
    options.observer = &observer;
    options.logits = model::LogitsMode::none;
    options.stop_after_attention = true;
    run_forward(model, input, options);
    impl_->queries = std::move(observer.queries);
    impl_->keys = std::move(observer.keys);
    impl_->cached_tokens = tokens;
    impl_->cached_pre_rope = pre_rope;
  }
  const std::size_t width = static_cast<std::size_t>(key_end - key_begin);
  std::vector<float> tile(rows.size() * width, 0.0f);
  if (rows.empty() || width == 0) return tile;
  at::NoGradGuard no_grad;
  const int group = config.head_count / config.kv_head_count;
  const at::Tensor queries = impl_->queries[static_cast<std::size_t>(head.layer)][head.head];          // [S, head_dim]
  const at::Tensor keys = impl_->keys[static_cast<std::size_t>(head.layer)][head.head / group];       // [S, head_dim]
  const double divisor = model.score_divisor(head.layer);
  const auto window = config.sliding_window;
  // Blocks of rows bound the scores' memory to block × S floats whatever the row count.
  const std::size_t block = 256;
  for (std::size_t first = 0; first < rows.size(); first += block) {
    const std::size_t count = std::min(block, rows.size() - first);
    std::vector<std::int64_t> positions(rows.begin() + static_cast<std::ptrdiff_t>(first),
                                        rows.begin() + static_cast<std::ptrdiff_t>(first + count));
    const std::int64_t last = *std::max_element(positions.begin(), positions.end());
    const at::Tensor position = at::tensor(positions, at::TensorOptions().dtype(at::kLong)).to(queries.device());
    const at::Tensor visible_keys = keys.slice(0, 0, last + 1);                                      // [K, head_dim]
    at::Tensor scores = at::matmul(queries.index_select(0, position), visible_keys.transpose(0, 1))  // [rows, K]
                            .to(at::kFloat) / divisor;
    const at::Tensor key = at::arange(last + 1, position.options()).unsqueeze(0);
    at::Tensor blocked = key > position.unsqueeze(1);
    if (window) blocked = blocked | (key <= position.unsqueeze(1) - *window);
    scores.masked_fill_(blocked, -std::numeric_limits<float>::infinity());
    const std::int64_t shown_end = std::min<std::int64_t>(key_end, last + 1);
    if (shown_end <= key_begin) continue;  // every shown key is after every row: all 0
    const at::Tensor probs = at::softmax(scores, -1).slice(1, key_begin, shown_end).contiguous().cpu();
    const float* data = probs.data_ptr<float>();
    const auto shown = static_cast<std::size_t>(shown_end - key_begin);
    for (std::size_t r = 0; r < count; ++r)
      std::copy(data + r * shown, data + (r + 1) * shown, tile.begin() + static_cast<std::ptrdiff_t>((first + r) * width));
  }
  return tile;
}

}  // namespace headscope::capture
