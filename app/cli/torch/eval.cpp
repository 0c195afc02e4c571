// `headscope eval --model DIR --problems FILE.jsonl`: held-out exact-answer accuracy by level of a
// sample model (capture/train/evaluate.h), printed as a table; `--answers FILE` writes each problem's
// id, level, expected and predicted answer as JSONL (the test's expected file is made this way).
#include <CLI/CLI.hpp>
#include <cstdio>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>

#include "app/cli/registry.h"
#include "capture/train/evaluate.h"
#include "core/commands/command_options.h"

namespace {

void setup(CLI::App& app) {
  auto* cmd = app.add_subcommand("eval", "Exact-answer accuracy by level of a model on arithmetic problems");
  auto s = std::make_shared<headscope::train::EvalSettings>();
  auto answers = std::make_shared<std::string>();
  auto show = std::make_shared<int>(0);
  cmd->add_option("--model", s->model_dir, "Model folder")->required();
  cmd->add_option(headscope::commands::kAdapterOption.flag, s->adapter, headscope::commands::kAdapterOption.help);
  cmd->add_option("--problems", s->problems_path, "JSONL problems (headscope problems), any format")->required();
  cmd->add_option("--device", s->device, "cpu, cuda or cuda:N");
  cmd->add_option("--threads", s->threads, "CPU threads");
  cmd->add_option("--max-new-tokens", s->max_new_tokens, "Generation limit per problem");
  cmd->add_option("--limit", s->limit, "Only the first N problems");
  cmd->add_option("--answers", *answers, "Write each problem's expected and predicted answer here (JSONL)");
  cmd->add_option("--show-wrong", *show, "Print up to N wrong generations");
  cmd->callback([s, answers, show] {
    const auto report = headscope::train::evaluate_model(*s);
    std::printf("%s", headscope::train::eval_table(report).c_str());
    std::fprintf(stderr, "%zu problems in %.1f s\n", report.items.size(), report.seconds);
    int shown = 0;
    for (const auto& item : report.items) {
      if (item.correct || shown >= *show) continue;
      ++shown;
      std::fprintf(stderr, "wrong %s (level %d, expected %d):\n%s\n", item.id.c_str(), item.level, item.expected,
                   item.generated.c_str());
    }
    if (answers->empty()) return;
    std::ofstream out(*answers);
    for (const auto& item : report.items) {
      nlohmann::json line{{"id", item.id}, {"level", item.level}, {"expected", item.expected}, {"correct", item.correct}};
      line["predicted"] = item.answered ? nlohmann::json(item.predicted) : nlohmann::json(nullptr);
      out << line.dump() << '\n';
    }
  });
}

HEADSCOPE_REGISTER_SUBCOMMAND(setup);

}  // namespace
