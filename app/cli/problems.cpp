// `headscope problems --seed S --count N --levels 1-5 --split heldout --format chain --out FILE.jsonl`:
// multi-step arithmetic word problems in the capture engine's JSONL prompt format, written by
// core/problems/problem_set.h. `--tokenizer DIR` also writes the character-level tokenizer files the
// sample models use.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>

#include "app/cli/bind_options.h"
#include "app/cli/registry.h"
#include "core/problems/problem_set.h"

namespace {

namespace problems = headscope::problems;

struct ProblemsOptions {
  problems::ProblemSetOptions set;
  std::string out;
  std::string tokenizer_dir;
};

void run_problems(const ProblemsOptions& o) {
  if (!o.tokenizer_dir.empty()) problems::write_char_tokenizer_files(o.tokenizer_dir);
  if (o.out.empty()) return;
  problems::write_problem_set(o.out, o.set);
  std::fprintf(stderr, "%d %s problems (levels %s, %s) -> %s\n", o.set.count, o.set.split.c_str(), o.set.levels.c_str(),
               o.set.format.c_str(), o.out.c_str());
}

void setup(CLI::App& app) {
  auto* cmd = app.add_subcommand("problems", "Generate multi-step arithmetic word problems as a JSONL prompt set");
  auto o = std::make_shared<ProblemsOptions>();
  cmd->add_option("--seed", o->set.seed, "Random seed (the same seed gives the same problems)");
  cmd->add_option("--count", o->set.count, "Number of problems (levels take turns)")->check(headscope::cli::in_range("--count", 1, 1e8));
  cmd->add_option("--levels", o->set.levels, "Level or range of levels (operations per problem), e.g. 1-5");
  cmd->add_option("--split", o->set.split, "train, heldout (one question in ten, by a hash of its text) or all");
  cmd->add_option("--format", o->set.format, "chain (question + steps + #### N), prompt_only, pause or pause_prompt");
  cmd->add_option("--pause-count", o->set.pause_count, "Pause tokens in the pause formats")->check(headscope::cli::in_range("--pause-count", 0, 1e4));
  cmd->add_option("--out", o->out, "JSONL file to write");
  cmd->add_option("--tokenizer", o->tokenizer_dir, "Also write the character-level tokenizer.json into this folder");
  cmd->callback([o] { run_problems(*o); });
}

HEADSCOPE_REGISTER_SUBCOMMAND(setup);

}  // namespace
