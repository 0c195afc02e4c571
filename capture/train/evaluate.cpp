// evaluate_model (see evaluate.h): greedy generation per problem through the runtime facade, answer
// parsing and the per-level table.
#include "capture/train/evaluate.h"

#include <chrono>
#include <cstdio>
#include <stdexcept>

#include "capture/model/runtime.h"
#include "capture/tokenizer/tokenizer.h"
#include "core/io/prompt_set.h"
#include "core/problems/arith_problems.h"

namespace headscope::train {

std::string problem_prompt(const std::string& text) {
  const auto newline = text.find('\n');
  if (newline == std::string::npos) return text;
  std::size_t end = newline + 1;
  const std::string pause = problems::kPauseToken;
  while (text.compare(end, pause.size(), pause) == 0) end += pause.size();
  return text.substr(0, end);
}

EvalReport evaluate_model(const EvalSettings& settings) {
  const auto started = std::chrono::steady_clock::now();
  model::RuntimeOptions options;
  options.device = settings.device;
  options.threads = settings.threads;
  options.adapter = settings.adapter;
  model::Runtime runtime(settings.model_dir, options);
  const auto tokenizer = tokenizer::load_tokenizer(settings.model_dir);
  const auto eos = tokenizer->eos_id();
  if (!eos) throw std::runtime_error(settings.model_dir + ": the tokenizer names no EOS token");
  model::GenerateOptions generate;
  generate.max_new_tokens = settings.max_new_tokens;
  generate.stop_ids = {*eos};
  generate.latent_steps = -1;  // a continuous-thought model runs its own latent steps (after <bot>, then <eot>)

  EvalReport report;
  io::PromptReader reader(settings.problems_path);
  while (auto record = reader.next()) {
    if (settings.limit >= 0 && static_cast<std::int64_t>(report.items.size()) >= settings.limit) break;
    if (!record->level || record->answer.empty())
      throw std::runtime_error(settings.problems_path + ":" + std::to_string(record->line) + ": needs a level and an answer");
    EvalItem item;
    item.id = record->id;
    item.level = *record->level;
    item.expected = std::stoi(record->answer);
    std::vector<std::int64_t> ids;
    for (auto id : tokenizer->encode(problem_prompt(record->text), true)) ids.push_back(id);
    const auto generated = runtime.generate(ids, generate);
    std::vector<std::int32_t> shown;
    for (auto id : generated)
      if (id != *eos) shown.push_back(static_cast<std::int32_t>(id));
    item.generated = tokenizer->decode(shown);
    item.answered = problems::parse_final_answer(item.generated, item.predicted);
    item.correct = item.answered && item.predicted == item.expected;
    auto& level = report.by_level[item.level];
    ++level.total;
    ++report.overall.total;
    if (item.correct) {
      ++level.correct;
      ++report.overall.correct;
    }
    report.items.push_back(std::move(item));
  }
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return report;
}

std::string eval_table(const EvalReport& report) {
  std::string table = "level  problems  correct  accuracy\n";
  char line[96];
  auto row = [&](const std::string& name, const LevelScore& score) {
    std::snprintf(line, sizeof line, "%-5s  %8d  %7d  %7.1f%%\n", name.c_str(), score.total, score.correct,
                  score.total ? 100.0 * score.correct / score.total : 0.0);
    table += line;
  };
  for (const auto& [level, score] : report.by_level) row(std::to_string(level), score);
  row("all", report.overall);
  return table;
}

}  // namespace headscope::train
