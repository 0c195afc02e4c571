// `headscope problems --seed S --count N --levels 1-5 --split heldout --format chain --out FILE.jsonl`:
// multi-step arithmetic word problems (core/problems) in the capture engine's JSONL prompt format, levels
// in turn (so each level gets count / levels problems), ids "<split>-s<seed>-L<level>-<n>". The same seed
// and levels give the same problems in every format, so a chain file and its prompt-only twin line up.
// `--tokenizer DIR` also writes the character-level tokenizer files the sample models use.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <stdexcept>

#include "app/cli/registry.h"
#include "core/problems/arith_problems.h"
#include "core/problems/char_vocab.h"

namespace {

namespace problems = headscope::problems;

struct ProblemsOptions {
  std::uint64_t seed = 0;
  int count = 100;
  std::string levels = "1-5";
  std::string split = "heldout";
  std::string format = "chain";
  int pause_count = 6;
  std::string out;
  std::string tokenizer_dir;
};

void parse_levels(const std::string& text, int& low, int& high) {
  const auto dash = text.find('-');
  try {
    low = std::stoi(text.substr(0, dash));
    high = dash == std::string::npos ? low : std::stoi(text.substr(dash + 1));
  } catch (const std::exception&) {
    throw std::runtime_error("--levels '" + text + "' is not a level or a range like 1-5");
  }
  if (low < 1 || high > 5 || low > high) throw std::runtime_error("--levels '" + text + "' must lie within 1-5");
}

problems::ProblemFormat parse_format(const std::string& text) {
  if (text == "chain") return problems::ProblemFormat::chain;
  if (text == "prompt_only") return problems::ProblemFormat::prompt_only;
  if (text == "pause") return problems::ProblemFormat::pause;
  if (text == "pause_prompt") return problems::ProblemFormat::pause_prompt;
  throw std::runtime_error("--format '" + text + "' is not chain, prompt_only, pause or pause_prompt");
}

void write_file(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  if (!out) throw std::runtime_error(path.string() + ": cannot write");
}

void run_problems(const ProblemsOptions& o) {
  if (!o.tokenizer_dir.empty()) {
    std::filesystem::create_directories(o.tokenizer_dir);
    write_file(std::filesystem::path(o.tokenizer_dir) / "tokenizer.json", problems::char_tokenizer_json());
    write_file(std::filesystem::path(o.tokenizer_dir) / "tokenizer_config.json", problems::char_tokenizer_config_json());
  }
  if (o.out.empty()) return;
  problems::GeneratorOptions options;
  options.seed = o.seed;
  parse_levels(o.levels, options.min_level, options.max_level);
  options.split = problems::parse_split(o.split);
  const auto format = parse_format(o.format);
  problems::ProblemGenerator generator(options);
  std::ofstream out(o.out, std::ios::binary);
  if (!out) throw std::runtime_error(o.out + ": cannot write");
  const int level_count = options.max_level - options.min_level + 1;
  std::vector<int> per_level(6, 0);
  for (int i = 0; i < o.count; ++i) {
    const int level = options.min_level + i % level_count;
    const auto problem = generator.next_of_level(level);
    const std::string id = o.split + "-s" + std::to_string(o.seed) + "-L" + std::to_string(level) + "-" +
                           std::to_string(per_level[static_cast<std::size_t>(level)]++);
    out << problems::problem_jsonl(problem, id, format, o.pause_count) << '\n';
  }
  if (!out) throw std::runtime_error(o.out + ": write failed");
  std::fprintf(stderr, "%d %s problems (levels %s, %s) -> %s\n", o.count, o.split.c_str(), o.levels.c_str(), o.format.c_str(),
               o.out.c_str());
}

void setup(CLI::App& app) {
  auto* cmd = app.add_subcommand("problems", "Generate multi-step arithmetic word problems as a JSONL prompt set");
  auto o = std::make_shared<ProblemsOptions>();
  cmd->add_option("--seed", o->seed, "Random seed (the same seed gives the same problems)");
  cmd->add_option("--count", o->count, "Number of problems (levels take turns)");
  cmd->add_option("--levels", o->levels, "Level or range of levels (operations per problem), e.g. 1-5");
  cmd->add_option("--split", o->split, "train, heldout (one question in ten, by a hash of its text) or all");
  cmd->add_option("--format", o->format, "chain (question + steps + #### N), prompt_only, pause or pause_prompt");
  cmd->add_option("--pause-count", o->pause_count, "Pause tokens in the pause formats");
  cmd->add_option("--out", o->out, "JSONL file to write");
  cmd->add_option("--tokenizer", o->tokenizer_dir, "Also write the character-level tokenizer.json into this folder");
  cmd->callback([o] { run_problems(*o); });
}

HEADSCOPE_REGISTER_SUBCOMMAND(setup);

}  // namespace
