// Problem sets and tokenizer files on disk (see problem_set.h).
#include "core/problems/problem_set.h"

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <vector>

#include "core/problems/arith_problems.h"
#include "core/problems/char_vocab.h"

namespace headscope::problems {

namespace {

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

ProblemFormat parse_format(const std::string& text) {
  if (text == "chain") return ProblemFormat::chain;
  if (text == "prompt_only") return ProblemFormat::prompt_only;
  if (text == "pause") return ProblemFormat::pause;
  if (text == "pause_prompt") return ProblemFormat::pause_prompt;
  throw std::runtime_error("--format '" + text + "' is not chain, prompt_only, pause or pause_prompt");
}

void write_file(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  if (!out) throw std::runtime_error(path.string() + ": cannot write");
}

}  // namespace

void write_problem_set(const std::string& path, const ProblemSetOptions& o) {
  GeneratorOptions options;
  options.seed = o.seed;
  parse_levels(o.levels, options.min_level, options.max_level);
  options.split = parse_split(o.split);
  const auto format = parse_format(o.format);
  ProblemGenerator generator(options);
  std::ofstream out(path, std::ios::binary);
  if (!out) throw std::runtime_error(path + ": cannot write");
  const int level_count = options.max_level - options.min_level + 1;
  std::vector<int> per_level(6, 0);
  for (int i = 0; i < o.count; ++i) {
    const int level = options.min_level + i % level_count;
    const auto problem = generator.next_of_level(level);
    const std::string id = o.split + "-s" + std::to_string(o.seed) + "-L" + std::to_string(level) + "-" +
                           std::to_string(per_level[static_cast<std::size_t>(level)]++);
    out << problem_jsonl(problem, id, format, o.pause_count) << '\n';
  }
  if (!out) throw std::runtime_error(path + ": write failed");
}

void write_char_tokenizer_files(const std::string& folder, bool thought_tokens) {
  std::filesystem::create_directories(folder);
  write_file(std::filesystem::path(folder) / "tokenizer.json", char_tokenizer_json(thought_tokens));
  write_file(std::filesystem::path(folder) / "tokenizer_config.json", char_tokenizer_config_json());
}

}  // namespace headscope::problems
