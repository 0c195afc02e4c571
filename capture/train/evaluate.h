// Held-out exact-answer accuracy of a sample model: for each problem of a JSONL prompt set (any of the
// generator's formats), the prompt is the question line plus any pause tokens after it; the model
// generates greedily until EOS (or a token limit), and the integer after the last "#### " must equal the
// record's answer. Torch-free header (it runs through capture/model/runtime.h).
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace headscope::train {

struct EvalSettings {
  std::string model_dir;
  std::string adapter;  // a PEFT LoRA adapter folder merged at load ("" = none)
  std::string problems_path;
  std::string device = "cpu";
  int threads = 2;
  int max_new_tokens = 96;
  std::int64_t limit = -1;  // first N problems; -1 = all
};

struct EvalItem {
  std::string id;
  int level = 0;
  int expected = 0;
  bool answered = false;  // a "#### N" was generated
  int predicted = 0;
  bool correct = false;
  std::string generated;  // decoded new text
};

struct LevelScore {
  int total = 0;
  int correct = 0;
};

struct EvalReport {
  std::vector<EvalItem> items;
  std::map<int, LevelScore> by_level;
  LevelScore overall;
  double seconds = 0;
};

// The prompt of a problem text: up to and including the first '\n', then any "<pause>" tokens right after.
std::string problem_prompt(const std::string& text);

EvalReport evaluate_model(const EvalSettings& settings);
// A table: level, problems, correct, accuracy; then all levels.
std::string eval_table(const EvalReport& report);

}  // namespace headscope::train
