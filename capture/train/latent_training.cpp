// LatentBatchSource and latent_batch_loss (see latent_training.h).
#include "capture/train/latent_training.h"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "core/problems/char_vocab.h"

namespace headscope::train {
namespace {

constexpr std::size_t kPoolLimit = 50000;  // pooled problems before the pools are emptied (bounded memory)

// Right-pads rows into [rows, longest] with `fill`.
at::Tensor pad_rows(const std::vector<std::vector<std::int64_t>>& rows, std::int64_t fill) {
  std::size_t longest = 0;
  for (const auto& row : rows) longest = std::max(longest, row.size());
  auto out = at::full({static_cast<std::int64_t>(rows.size()), static_cast<std::int64_t>(longest)}, fill,
                      at::TensorOptions().dtype(at::kLong));
  auto a = out.accessor<std::int64_t, 2>();
  for (std::size_t r = 0; r < rows.size(); ++r)
    for (std::size_t t = 0; t < rows[r].size(); ++t) a[static_cast<std::int64_t>(r)][static_cast<std::int64_t>(t)] = rows[r][t];
  return out;
}

// Keeps the hidden state after each block but the last (whose normed output is final_hidden).
class BlockOutputs : public model::ProbeObserver {
 public:
  explicit BlockOutputs(int layer_count) : last_(layer_count - 1) {}
  bool wants(const model::ProbeSite& site) override {
    return site.point == model::ProbePoint::block_out && site.layer < last_;
  }
  void observe(const model::ProbeSite&, const at::Tensor& value) override { states.push_back(value); }
  std::vector<at::Tensor> states;  // [batch, token, hidden] each

 private:
  int last_;
};

// [batch, hidden]: row b of states[b, positions[b]].
at::Tensor gather_rows(const at::Tensor& states, const at::Tensor& positions) {
  auto index = positions.to(states.device()).view({-1, 1, 1}).expand({states.size(0), 1, states.size(2)});
  return states.gather(1, index).squeeze(1);
}

at::Tensor token_cross_entropy(const at::Tensor& logits, const at::Tensor& targets) {
  return at::cross_entropy_loss(logits.reshape({-1, logits.size(-1)}), targets.to(logits.device()).reshape({-1}), {},
                                at::Reduction::Mean, -100);
}

}  // namespace

LatentBatchSource::LatentBatchSource(const TrainSettings& settings, const tokenizer::Tokenizer& tokenizer)
    : settings_(settings),
      tokenizer_(tokenizer),
      generator_({settings.seed, settings.min_level, settings.max_level, problems::Split::train}) {}

LatentBatchSource::Encoded LatentBatchSource::encode(const problems::Problem& problem) const {
  auto tokens = [&](const std::string& text) {
    std::vector<std::int64_t> ids;
    for (auto id : tokenizer_.encode(text)) ids.push_back(id);
    return ids;
  };
  const auto chain = problems::format_problem(problem, problems::ProblemFormat::chain);
  Encoded e;
  e.teacher = {problems::kBosId};
  for (auto id : tokens(chain.text)) e.teacher.push_back(id);
  e.teacher.push_back(problems::kEosId);
  e.teacher_answer_start = 1 + static_cast<std::int64_t>(tokens(chain.text.substr(0, chain.answer_start)).size());
  const auto marker = chain.text.rfind("#### ");
  e.teacher_position = 1 + static_cast<std::int64_t>(tokens(chain.text.substr(0, marker + 4)).size());
  e.prefix = {problems::kBosId};
  for (auto id : tokens(problem.question + "\n")) e.prefix.push_back(id);
  e.prefix.push_back(problems::kBotId);
  e.suffix = {problems::kEotId};
  for (auto id : tokens("#### " + std::to_string(problem.answer))) e.suffix.push_back(id);
  e.suffix.push_back(problems::kEosId);
  return e;
}

LatentBatch LatentBatchSource::next(int step) {
  const int level_count = settings_.max_level - settings_.min_level + 1;
  const int level = settings_.min_level + step % level_count;
  const auto batch_size = static_cast<std::size_t>(std::max(1, settings_.batch_tokens / 128));
  std::vector<Encoded> chosen;
  for (int drawn = 0; chosen.empty(); ++drawn) {
    if (drawn > 1000000) throw std::runtime_error("train: no batch of one prompt length after 1,000,000 problems");
    auto encoded = encode(generator_.next_of_level(level));
    const auto longest = std::max(encoded.teacher.size(), encoded.prefix.size() + settings_.latent_steps + encoded.suffix.size());
    if (static_cast<int>(longest) > settings_.max_positions + 1) {  // as the chain trainer: skip, counted
      ++skipped_;
      continue;
    }
    if (pooled_ >= kPoolLimit) {
      pools_.clear();
      pooled_ = 0;
    }
    auto& pool = pools_[{level, encoded.prefix.size()}];
    pool.push_back(std::move(encoded));
    ++pooled_;
    if (pool.size() >= batch_size) {
      chosen.swap(pool);
      pooled_ -= chosen.size();
    }
  }
  std::vector<std::vector<std::int64_t>> teacher_in, teacher_out, prefix, suffix_in, suffix_out;
  std::vector<std::int64_t> teacher_position;
  LatentBatch batch;
  for (const auto& e : chosen) {
    teacher_in.emplace_back(e.teacher.begin(), e.teacher.end() - 1);
    std::vector<std::int64_t> targets(e.teacher.size() - 1, -100);
    for (std::size_t t = static_cast<std::size_t>(e.teacher_answer_start) - 1; t + 1 < e.teacher.size(); ++t) targets[t] = e.teacher[t + 1];
    teacher_out.push_back(std::move(targets));
    teacher_position.push_back(e.teacher_position);
    prefix.push_back(e.prefix);
    suffix_in.emplace_back(e.suffix.begin(), e.suffix.end() - 1);
    suffix_out.emplace_back(e.suffix.begin() + 1, e.suffix.end());
    batch.tokens += static_cast<std::int64_t>(e.teacher.size() + e.prefix.size() + e.suffix.size()) - 2 + settings_.latent_steps;
  }
  batch.teacher_inputs = pad_rows(teacher_in, problems::kPadId);
  batch.teacher_targets = pad_rows(teacher_out, -100);
  batch.teacher_position = at::tensor(teacher_position, at::TensorOptions().dtype(at::kLong));
  batch.student_prefix = pad_rows(prefix, problems::kPadId);
  batch.student_suffix = pad_rows(suffix_in, problems::kPadId);
  batch.student_targets = pad_rows(suffix_out, -100);
  return batch;
}

LatentLoss latent_batch_loss(model::Model& model, const LatentBatch& batch, const TrainSettings& settings) {
  model::ForwardOptions quiet;
  quiet.autograd = true;
  quiet.logits = model::LogitsMode::none;
  const int layer_count = model.config().layer_count;

  // Teacher: the written chain.
  BlockOutputs teacher_states(layer_count);
  model::ForwardOptions teacher_options;
  teacher_options.autograd = true;
  teacher_options.observer = &teacher_states;
  const auto teacher = model.forward(batch.teacher_inputs, nullptr, teacher_options);
  teacher_states.states.push_back(teacher.final_hidden);

  // Student: question, <bot>, the latent steps through the cache, then <eot> "#### N".
  model::KvCache cache = model.make_cache(batch.student_prefix.size(0));
  at::Tensor last = model.forward(batch.student_prefix, &cache, quiet).final_hidden.narrow(1, -1, 1);
  for (int step = 0; step < settings.latent_steps; ++step)
    last = model.forward_embeddings(model.project_latent(last), &cache, quiet).final_hidden.narrow(1, -1, 1);
  BlockOutputs student_states(layer_count);
  model::ForwardOptions student_options;
  student_options.autograd = true;
  student_options.observer = &student_states;
  const auto student = model.forward(batch.student_suffix, &cache, student_options);
  student_states.states.push_back(student.final_hidden);

  LatentLoss loss;
  auto student_ce = token_cross_entropy(student.logits, batch.student_targets);
  auto teacher_ce = token_cross_entropy(teacher.logits, batch.teacher_targets);
  const auto student_position = at::full({batch.student_suffix.size(0)}, batch.student_position, at::TensorOptions().dtype(at::kLong));
  at::Tensor distill = at::zeros({}, student_ce.options());
  for (std::size_t layer = 0; layer < student_states.states.size(); ++layer) {
    auto target = gather_rows(teacher_states.states[layer], batch.teacher_position).detach().to(at::kFloat);
    auto guess = gather_rows(student_states.states[layer], student_position).to(at::kFloat);
    distill = distill + at::smooth_l1_loss(guess, target) / target.std().clamp_min(1e-6);
  }
  distill = distill / static_cast<double>(student_states.states.size());
  loss.total = student_ce + settings.teacher_loss_factor * teacher_ce + settings.distill_loss_factor * distill;
  loss.student = student_ce.item<double>();
  loss.teacher = teacher_ce.item<double>();
  loss.distill = distill.item<double>();
  return loss;
}

}  // namespace headscope::train
