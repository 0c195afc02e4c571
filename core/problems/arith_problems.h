// Multi-step arithmetic word problems with a known chain of thought, for the sample models HeadScope
// trains (samples/MODELS.md). Level L = L operations, each on the running total and a number from the
// question; the chain writes one step per line (`23+17=40`) and ends with `#### 40`. Every quantity and
// every intermediate result stays in [1, 99], multiplication and division use a one-digit factor and
// division is exact, so a tiny character-level model can be exact. Deterministic from a seed (own PRNG,
// no std distributions); the held-out split is a fixed hash bucket of the question text, so no question
// can be both a training and a held-out problem, whatever seeds made the two files. Torch-free.
#pragma once
#include <cstdint>
#include <string>
#include <unordered_set>
#include <vector>

namespace headscope::problems {

enum class Operator { add, sub, mul, div };
const char* operator_name(Operator op);  // add, sub, mul, div (the span labels)
char operator_symbol(Operator op);       // + - * /

struct ProblemStep {
  Operator op = Operator::add;
  int left = 0;    // running total before the step
  int right = 0;   // the number the question gives for this step
  int result = 0;
};

struct Problem {
  int level = 1;              // number of operations, 1..5
  std::string question;       // the word problem, ending with '?'
  std::vector<ProblemStep> steps;
  int answer = 0;
};

enum class Split { train, heldout, all };
Split parse_split(const std::string& text);  // train, heldout, all; std::invalid_argument otherwise

// The held-out bucket: one question in ten, by a 64-bit FNV-1a hash of its text.
bool is_heldout(const std::string& question);

struct GeneratorOptions {
  std::uint64_t seed = 0;
  int min_level = 1;
  int max_level = 5;
  Split split = Split::all;
};

// Draws problems with levels uniform in [min_level, max_level], only from `split`, never the same
// question twice.
class ProblemGenerator {
 public:
  explicit ProblemGenerator(const GeneratorOptions& options);
  Problem next();
  Problem next_of_level(int level);  // the same rules, at a given level

 private:
  std::uint64_t next_u64();
  int uniform(int low, int high);  // inclusive
  Problem draw(int level);

  GeneratorOptions options_;
  std::uint64_t state_;
  std::unordered_set<std::string> seen_;
};

// Text layouts of one problem.
enum class ProblemFormat {
  chain,         // question \n steps (one per line) #### N
  prompt_only,   // question \n                       (for generation)
  pause,         // question \n <pause> x K #### N
  pause_prompt,  // question \n <pause> x K           (for generation)
};
inline constexpr const char* kPauseToken = "<pause>";

struct StepSpan {
  std::int64_t start = 0;  // UTF-8 byte offsets into the text, end exclusive
  std::int64_t end = 0;
  Operator op = Operator::add;
};

struct FormattedProblem {
  std::string text;
  std::vector<StepSpan> spans;  // the step lines (chain format only)
  std::size_t answer_start = 0; // byte offset where the model's part begins (after the question's '\n')
};

FormattedProblem format_problem(const Problem& problem, ProblemFormat format, int pause_count = 6);

// One line of the capture engine's JSONL prompt format (core/io/prompt_set.h): text, id, level, answer,
// spans, plus question, ops and format as metadata.
std::string problem_jsonl(const Problem& problem, const std::string& id, ProblemFormat format, int pause_count = 6);

// The integer after the last "#### " in `text`, if any digits follow it.
bool parse_final_answer(const std::string& text, int& answer);

}  // namespace headscope::problems
