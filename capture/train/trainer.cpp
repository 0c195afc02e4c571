// train_model (see trainer.h). Sections:
//   1. the model config (config.json text from the settings, parsed back by our own parser)
//   2. batches: generated problems of one level, tokenised, padded, answer-only targets
//   3. AdamW with warmup + cosine decay, gradient clipping
//   4. the checkpoint: HF tensor names (fused Llama projections split back), safetensors, tokenizer files
//   5. the loop
#include "capture/train/trainer.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "capture/model/model_torch.h"
#include "capture/model/safetensors_writer.h"
#include "capture/tokenizer/tokenizer.h"
#include "capture/train/latent_training.h"
#include "core/problems/arith_problems.h"
#include "core/problems/char_vocab.h"
#include "core/problems/problem_set.h"
#include "core/util/threads.h"

namespace headscope::train {
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// 1. Config ------------------------------------------------------------------------------------------------
std::string model_config_json(const TrainSettings& s) {
  using problems::kBosId;
  using problems::kEosId;
  nlohmann::ordered_json json;
  if (s.architecture == "gpt2") {
    json = {{"architectures", {"GPT2LMHeadModel"}},
            {"model_type", "gpt2"},
            {"n_embd", s.hidden_size},
            {"n_layer", s.layer_count},
            {"n_head", s.head_count},
            {"n_inner", s.intermediate_size > 0 ? s.intermediate_size : 4 * s.hidden_size},
            {"n_positions", s.max_positions},
            {"n_ctx", s.max_positions},
            {"vocab_size", problems::kCharVocabSize},
            {"activation_function", "gelu_new"},
            {"layer_norm_epsilon", 1e-5},
            {"resid_pdrop", 0.0},
            {"embd_pdrop", 0.0},
            {"attn_pdrop", 0.0},
            {"tie_word_embeddings", true},
            {"bos_token_id", kBosId},
            {"eos_token_id", kEosId},
            {"pad_token_id", problems::kPadId}};
  } else if (s.architecture == "llama") {
    const int inner = s.intermediate_size > 0 ? s.intermediate_size : (s.hidden_size * 8 / 3 + 15) / 16 * 16;
    json = {{"architectures", {"LlamaForCausalLM"}},
            {"model_type", "llama"},
            {"hidden_size", s.hidden_size},
            {"intermediate_size", inner},
            {"num_hidden_layers", s.layer_count},
            {"num_attention_heads", s.head_count},
            {"num_key_value_heads", s.kv_head_count > 0 ? s.kv_head_count : s.head_count},
            {"max_position_embeddings", s.max_positions},
            {"rms_norm_eps", 1e-5},
            {"rope_theta", 10000.0},
            {"hidden_act", "silu"},
            {"attention_bias", false},
            {"mlp_bias", false},
            {"tie_word_embeddings", false},
            {"vocab_size", problems::kCharVocabSize},
            {"bos_token_id", kBosId},
            {"eos_token_id", kEosId},
            {"pad_token_id", problems::kPadId}};
  } else {
    throw std::runtime_error("--arch '" + s.architecture + "' is not gpt2 or llama");
  }
  if (s.task == "latent") {
    json["vocab_size"] = problems::kThoughtVocabSize;
    json["latent"] = {{"steps", s.latent_steps},
                      {"bot_token_id", problems::kBotId},
                      {"eot_token_id", problems::kEotId},
                      {"projection", s.latent_projection},
                      {"projection_dim", s.hidden_size},
                      {"projection_layer_norm", true}};
  }
  json["torch_dtype"] = s.save_dtype;
  json["transformers_version"] = "4.44.2";
  return json.dump(2) + "\n";
}

namespace {

// 2. Batches -----------------------------------------------------------------------------------------------
struct Batch {
  at::Tensor inputs;   // [batch, token] int64
  at::Tensor targets;  // [batch, token] int64, -100 where no loss
  std::int64_t tokens = 0;
};

class BatchSource {
 public:
  BatchSource(const TrainSettings& s, const tokenizer::Tokenizer& tok)
      : settings_(s), tokenizer_(tok), generator_({s.seed, s.min_level, s.max_level, problems::Split::train}) {}

  Batch next(int step) {
    const int level_count = settings_.max_level - settings_.min_level + 1;
    const int level = settings_.min_level + step % level_count;
    // direct: the question, then "#### N" at once (the pause format with no pauses).
    const auto format = settings_.task == "chain" ? problems::ProblemFormat::chain : problems::ProblemFormat::pause;
    const int pause_count = settings_.task == "direct" ? 0 : settings_.pause_count;
    std::vector<std::vector<std::int64_t>> rows;
    std::vector<std::size_t> answer_starts;
    std::int64_t total = 0;
    std::size_t longest = 0;
    while (total < settings_.batch_tokens) {
      const auto problem = generator_.next_of_level(level);
      const auto formatted = problems::format_problem(problem, format, pause_count);
      std::vector<std::int64_t> ids{problems::kBosId};
      for (auto id : tokenizer_.encode(formatted.text)) ids.push_back(id);
      ids.push_back(problems::kEosId);
      if (static_cast<int>(ids.size()) > settings_.max_positions + 1) {
        // A long level-5 problem can exceed the position table: skip it (deterministically, counted) rather
        // than stop a long run; the model is never asked to answer one longer than it can see.
        if (++skipped_ > 1000 && skipped_ > 10 * accepted_)
          throw std::runtime_error("almost every level-" + std::to_string(level) + " problem has more than --positions + 1 = " +
                                   std::to_string(settings_.max_positions + 1) + " tokens; raise --positions");
        continue;
      }
      ++accepted_;
      answer_starts.push_back(1 + tokenizer_.encode(formatted.text.substr(0, formatted.answer_start)).size());
      total += static_cast<std::int64_t>(ids.size()) - 1;
      longest = std::max(longest, ids.size() - 1);
      rows.push_back(std::move(ids));
    }
    const auto batch = static_cast<std::int64_t>(rows.size());
    const auto width = static_cast<std::int64_t>(longest);
    auto inputs = at::full({batch, width}, problems::kPadId, at::TensorOptions().dtype(at::kLong));
    auto targets = at::full({batch, width}, -100, at::TensorOptions().dtype(at::kLong));
    auto in = inputs.accessor<std::int64_t, 2>();
    auto out = targets.accessor<std::int64_t, 2>();
    for (std::int64_t b = 0; b < batch; ++b) {
      const auto& ids = rows[static_cast<std::size_t>(b)];
      for (std::size_t t = 0; t + 1 < ids.size(); ++t) {
        in[b][static_cast<std::int64_t>(t)] = ids[t];
        // Loss on the model's part only: the step lines (or, for pauses, what follows them) and EOS.
        const bool answer = t + 1 >= answer_starts[static_cast<std::size_t>(b)] && ids[t + 1] != problems::kPauseId;
        if (answer) out[b][static_cast<std::int64_t>(t)] = ids[t + 1];
      }
    }
    return {inputs, targets, total};
  }
  std::int64_t skipped() const { return skipped_; }

 private:
  std::int64_t skipped_ = 0, accepted_ = 0;
  const TrainSettings& settings_;
  const tokenizer::Tokenizer& tokenizer_;
  problems::ProblemGenerator generator_;
};

// 3. AdamW ---------------------------------------------------------------------------------------------------
struct AdamW {
  std::vector<at::Tensor> params, first_moment, second_moment;
  std::vector<bool> decays;
  int step_count = 0;

  explicit AdamW(const std::vector<std::pair<std::string, at::Tensor>>& named) {
    for (const auto& [name, tensor] : named) {
      params.push_back(tensor);
      first_moment.push_back(at::zeros_like(tensor));
      second_moment.push_back(at::zeros_like(tensor));
      decays.push_back(tensor.dim() >= 2);
    }
  }

  // Clips the global gradient norm to `clip`; returns the norm before clipping.
  double clip_gradients(double clip) {
    at::NoGradGuard no_grad;
    double squared = 0;
    for (const auto& p : params)
      if (p.grad().defined()) squared += p.grad().pow(2).sum().item<double>();
    const double norm = std::sqrt(squared);
    if (clip > 0 && norm > clip)
      for (auto& p : params)
        if (p.grad().defined()) p.mutable_grad().mul_(clip / (norm + 1e-6));
    return norm;
  }

  void step(double lr, const TrainSettings& s) {
    at::NoGradGuard no_grad;
    ++step_count;
    const double bias1 = 1.0 - std::pow(s.beta1, step_count);
    const double bias2 = 1.0 - std::pow(s.beta2, step_count);
    for (std::size_t i = 0; i < params.size(); ++i) {
      auto& p = params[i];
      if (!p.grad().defined()) continue;
      const auto& g = p.grad();
      if (decays[i] && s.weight_decay > 0) p.mul_(1.0 - lr * s.weight_decay);
      first_moment[i].mul_(s.beta1).add_(g, 1.0 - s.beta1);
      second_moment[i].mul_(s.beta2).addcmul_(g, g, 1.0 - s.beta2);
      auto denominator = (second_moment[i] / bias2).sqrt_().add_(s.adam_eps);
      p.addcdiv_(first_moment[i], denominator, -lr / bias1);
      p.mutable_grad() = at::Tensor();
    }
  }
};

double learning_rate_at(int step, const TrainSettings& s) {
  if (step < s.warmup_steps) return s.learning_rate * (step + 1) / s.warmup_steps;
  const double progress = s.steps > s.warmup_steps ? double(step - s.warmup_steps) / (s.steps - s.warmup_steps) : 1.0;
  const double floor = s.learning_rate * s.min_learning_rate_ratio;
  return floor + (s.learning_rate - floor) * 0.5 * (1.0 + std::cos(M_PI * std::min(1.0, progress)));
}

// 4. Checkpoint ------------------------------------------------------------------------------------------------
void add_tensor(model::SafetensorsWriter& writer, const std::string& name, const at::Tensor& tensor, bool half) {
  auto cpu = tensor.detach().to(at::kCPU, at::kFloat).contiguous();
  std::vector<std::int64_t> shape(cpu.sizes().begin(), cpu.sizes().end());
  if (!half) {
    writer.add(name, model::StDtype::f32, shape, cpu.data_ptr<float>(), static_cast<std::size_t>(cpu.numel()) * sizeof(float));
    return;
  }
  std::vector<std::uint16_t> bits(static_cast<std::size_t>(cpu.numel()));
  const float* values = cpu.data_ptr<float>();
  for (std::size_t i = 0; i < bits.size(); ++i) bits[i] = model::float_to_f16_bits(values[i]);
  writer.add(name, model::StDtype::f16, shape, bits.data(), bits.size() * sizeof(std::uint16_t));
}

bool ends_with(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() && text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

void write_text(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  if (!out) throw std::runtime_error(path.string() + ": cannot write");
}

void save_checkpoint(const model::Model& model, const TrainSettings& s, const std::string& config_json, const fs::path& dir) {
  fs::create_directories(dir);
  const auto& config = model.config();
  const bool half = s.save_dtype == "float16";
  model::SafetensorsWriter writer;
  writer.set_metadata("format", "pt");
  const std::int64_t query_rows = std::int64_t{config.head_count} * config.head_dim;
  const std::int64_t kv_rows = std::int64_t{config.kv_head_count} * config.head_dim;
  auto parameters = model.named_parameters();
  for (const auto& named : model.latent_parameters()) parameters.push_back(named);
  for (const auto& [name, tensor] : parameters) {
    const std::string kind = ends_with(name, ".weight") ? "weight" : "bias";
    const auto base = name.substr(0, name.size() - kind.size() - 1);
    if (ends_with(base, "self_attn.qkv_proj")) {
      const auto prefix = base.substr(0, base.size() - 8);  // "...self_attn."
      add_tensor(writer, prefix + "q_proj." + kind, tensor.narrow(0, 0, query_rows), half);
      add_tensor(writer, prefix + "k_proj." + kind, tensor.narrow(0, query_rows, kv_rows), half);
      add_tensor(writer, prefix + "v_proj." + kind, tensor.narrow(0, query_rows + kv_rows, kv_rows), half);
    } else if (ends_with(base, "mlp.gate_up_proj")) {
      const auto prefix = base.substr(0, base.size() - 12);  // "...mlp."
      add_tensor(writer, prefix + "gate_proj." + kind, tensor.narrow(0, 0, config.intermediate_size), half);
      add_tensor(writer, prefix + "up_proj." + kind, tensor.narrow(0, config.intermediate_size, config.intermediate_size), half);
    } else {
      add_tensor(writer, name, tensor, half);
    }
  }
  writer.write(dir / "model.safetensors");
  write_text(dir / "config.json", config_json);
  problems::write_char_tokenizer_files(dir.string(), s.task == "latent");
}

nlohmann::ordered_json settings_json(const TrainSettings& s) {
  return {{"architecture", s.architecture}, {"layers", s.layer_count}, {"hidden", s.hidden_size},
          {"heads", s.head_count}, {"kv_heads", s.kv_head_count}, {"intermediate", s.intermediate_size},
          {"positions", s.max_positions}, {"task", s.task}, {"pause_count", s.pause_count},
          {"latent_steps", s.latent_steps}, {"latent_projection", s.latent_projection},
          {"distill_loss_factor", s.distill_loss_factor}, {"teacher_loss_factor", s.teacher_loss_factor},
          {"levels", {s.min_level, s.max_level}}, {"seed", s.seed}, {"steps", s.steps},
          {"batch_tokens", s.batch_tokens}, {"learning_rate", s.learning_rate},
          {"min_learning_rate_ratio", s.min_learning_rate_ratio}, {"warmup_steps", s.warmup_steps},
          {"weight_decay", s.weight_decay}, {"betas", {s.beta1, s.beta2}}, {"grad_clip", s.grad_clip},
          {"init_std", s.init_std}, {"init_from", s.init_from}, {"init_adapter", s.init_adapter}, {"device", s.device}, {"threads", s.threads}, {"save_dtype", s.save_dtype},
          {"command_line", s.command_line}};
}

// Copies a checkpoint's weights into `named`, tensor by tensor (the optimiser starts fresh). Same
// architecture; the vocabulary may have grown (a latent model's <bot> and <eot>): the rows the checkpoint
// has are copied and the new rows keep their random draw.
void copy_start_weights(const std::string& folder, const std::string& adapter, const std::string& device,
                        const std::vector<std::pair<std::string, at::Tensor>>& named) {
  model::LoadOptions load;
  load.device = device;
  load.adapter = adapter;
  load.threads = -1;
  const auto start = model::Model::load(folder, load);
  const auto start_named = start->named_parameters();
  if (start_named.size() != named.size()) throw std::runtime_error(folder + ": not a checkpoint of this architecture");
  at::NoGradGuard no_grad;
  for (std::size_t i = 0; i < named.size(); ++i) {
    const auto& from = start_named[i].second;
    auto to = named[i].second;
    const bool grown_rows = from.dim() == 2 && to.dim() == 2 && from.size(1) == to.size(1) && from.size(0) < to.size(0) &&
                            (ends_with(named[i].first, "wte.weight") || ends_with(named[i].first, "embed_tokens.weight") ||
                             ends_with(named[i].first, "lm_head.weight"));
    if (start_named[i].first != named[i].first || (!from.sizes().equals(to.sizes()) && !grown_rows))
      throw std::runtime_error(folder + ": tensor '" + start_named[i].first + "' does not match this architecture");
    to.narrow(0, 0, from.size(0)).copy_(from);
  }
}

}  // namespace

// 5. The loop ----------------------------------------------------------------------------------------------------
TrainResult train_model(const TrainSettings& s, const std::function<void(const TrainProgress&)>& on_progress) {
  if (s.out_dir.empty()) throw std::runtime_error("train: no output folder");
  if (s.task != "chain" && s.task != "pause" && s.task != "direct" && s.task != "latent")
    throw std::runtime_error("--task '" + s.task + "' is not chain, pause, direct or latent");
  if (s.task == "latent" && s.latent_steps <= 0) throw std::runtime_error("--latent-steps must be positive");
  if (s.steps <= 0 || s.batch_tokens <= 0) throw std::runtime_error("train: steps and batch tokens must be positive");
  if (s.save_dtype != "float32" && s.save_dtype != "float16") throw std::runtime_error("--save-dtype must be float32 or float16");
  if (s.threads > 0) at::set_num_threads(capped_thread_count(s.threads));
  const std::string config_json = model_config_json(s);
  const auto config = model::parse_model_config(config_json, "generated config.json");
  const auto tokenizer = tokenizer::load_tokenizer_json_text(problems::char_tokenizer_json(), "generated tokenizer.json");
  auto model = model::Model::create_random(config, s.seed, s.device, s.init_std);
  auto named = model->named_parameters();
  const auto new_parameters = model->latent_parameters();  // a latent model's projection starts fresh
  if (!s.init_from.empty()) copy_start_weights(s.init_from, s.init_adapter, s.device, named);
  named.insert(named.end(), new_parameters.begin(), new_parameters.end());
  TrainResult result;
  for (const auto& entry : named) result.parameter_count += entry.second.numel();

  fs::create_directories(s.out_dir);
  std::ofstream curve(fs::path(s.out_dir) / "loss.csv");
  curve << "step,tokens,loss,learning_rate,grad_norm,seconds\n";
  std::ofstream parts_curve;  // latent: the three losses of every step
  if (s.task == "latent") {
    parts_curve.open(fs::path(s.out_dir) / "loss-parts.csv");
    parts_curve << "step,student_ce,teacher_ce,distill\n";
  }
  BatchSource batches(s, *tokenizer);
  LatentBatchSource latent_batches(s, *tokenizer);
  AdamW optimizer(named);
  model::ForwardOptions forward;
  forward.autograd = true;
  const auto started = Clock::now();
  TrainProgress progress;
  progress.steps = s.steps;
  double interval_loss = 0;
  int interval_steps = 0;
  for (int step = 0; step < s.steps; ++step) {
    const double lr = learning_rate_at(step, s);
    at::Tensor loss;
    std::int64_t batch_tokens = 0;
    if (s.task == "latent") {
      const auto batch = latent_batches.next(step);
      auto parts = latent_batch_loss(*model, batch, s);
      loss = parts.total;
      batch_tokens = batch.tokens;
      parts_curve << step + 1 << ',' << parts.student << ',' << parts.teacher << ',' << parts.distill << '\n';
    } else {
      const Batch batch = batches.next(step);
      auto logits = model->forward(batch.inputs, nullptr, forward).logits;  // [batch, token, vocab]
      auto targets = batch.targets.to(logits.device());
      loss = at::cross_entropy_loss(logits.reshape({-1, logits.size(-1)}), targets.reshape({-1}), {},
                                    at::Reduction::Mean, -100);
      batch_tokens = batch.tokens;
    }
    loss.backward();
    const double grad_norm = optimizer.clip_gradients(s.grad_clip);
    optimizer.step(lr, s);
    const double loss_value = loss.item<double>();
    if (!std::isfinite(loss_value)) throw std::runtime_error("train: loss became " + std::to_string(loss_value) + " at step " + std::to_string(step));
    const double seconds = std::chrono::duration<double>(Clock::now() - started).count();
    progress.tokens += batch_tokens;
    curve << step + 1 << ',' << progress.tokens << ',' << loss_value << ',' << lr << ',' << grad_norm << ',' << seconds << '\n';
    interval_loss += loss_value;
    ++interval_steps;
    if ((step + 1) % std::max(1, s.log_every) == 0 || step + 1 == s.steps) {
      curve.flush();
      parts_curve.flush();
      progress.step = step + 1;
      progress.loss = interval_loss / interval_steps;
      progress.learning_rate = lr;
      progress.seconds = seconds;
      if (on_progress) on_progress(progress);
      interval_loss = 0;
      interval_steps = 0;
    }
    if (s.checkpoint_every > 0 && (step + 1) % s.checkpoint_every == 0 && step + 1 < s.steps)
      save_checkpoint(*model, s, config_json, s.out_dir);
    result.final_loss = loss_value;
  }
  result.steps = s.steps;
  result.seconds = std::chrono::duration<double>(Clock::now() - started).count();
  save_checkpoint(*model, s, config_json, s.out_dir);
  auto record = settings_json(s);
  record["parameters"] = result.parameter_count;
  record["train_seconds"] = result.seconds;
  record["final_loss"] = result.final_loss;
  record["skipped_too_long"] = batches.skipped() + latent_batches.skipped();
  write_text(fs::path(s.out_dir) / "training.json", record.dump(2) + "\n");
  return result;
}

}  // namespace headscope::train
