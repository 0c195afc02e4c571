// The word-problem generator: names, objects and sentence templates per operator, the number rules
// (values in [1, 99], one-digit factors, exact division), the held-out hash bucket, and the text layouts
// (chain of thought, prompt only, pause) with the byte spans of each step.
#include "core/problems/arith_problems.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <stdexcept>

namespace headscope::problems {
namespace {

constexpr int kMaxValue = 99;

struct Person {
  const char* name;
  const char* pronoun;  // He / She
};
const Person kPeople[] = {{"Tom", "He"},   {"Ben", "He"},  {"Sam", "He"},  {"Leo", "He"},   {"Max", "He"},
                          {"Omar", "He"},  {"Ivan", "He"}, {"Raj", "He"},  {"Kai", "He"},   {"Noah", "He"},
                          {"Ann", "She"},  {"Mia", "She"}, {"Zoe", "She"}, {"Lily", "She"}, {"Emma", "She"},
                          {"Sara", "She"}, {"Nina", "She"}, {"Ada", "She"}, {"Ruth", "She"}, {"Maya", "She"}};
const char* const kObjects[] = {"apples",  "pens",  "coins", "books", "stamps", "marbles", "cards",  "shells",
                                "cookies", "stickers", "eggs", "beads", "toys",  "plums",  "rocks",  "cups"};

// Placeholders: {P} pronoun, {N} name, {X} another person, {O} objects, {k} the step's number.
const char* const kAddTemplates[] = {"{P} buys {k} more.", "{X} gives {N} {k} more.", "Then {N} finds {k} more {O}.",
                                     "{P} gets {k} more {O} from {X}.", "{P} wins {k} more."};
const char* const kSubTemplates[] = {"{P} gives {k} to {X}.", "{P} loses {k} {O}.", "{P} sells {k} of them.",
                                     "{X} takes {k} away.", "Then {N} uses up {k} {O}."};
const char* const kMulTemplates[] = {"Then {N} has {k} times as many.", "The pile grows {k} times.",
                                     "{P} ends up with {k} times as many {O}."};
const char* const kDivTemplates[] = {"{P} keeps one of {k} equal piles.", "{P} splits them into {k} equal parts and keeps one.",
                                     "{X} takes all but one of {k} equal shares."};
const char* const kQuestionTemplates[] = {"How many {O} does {N} have now?", "How many {O} are left?",
                                          "How many does {N} have now?"};

template <typename T, std::size_t N>
constexpr int count_of(const T (&)[N]) {
  return static_cast<int>(N);
}

std::uint64_t fnv1a(const std::string& text) {
  std::uint64_t hash = 1469598103934665603ull;
  for (unsigned char c : text) hash = (hash ^ c) * 1099511628211ull;
  return hash;
}

std::string fill(const std::string& pattern, const Person& person, const Person& other, const char* objects, int number) {
  std::string out;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] == '{' && i + 2 < pattern.size() && pattern[i + 2] == '}') {
      switch (pattern[i + 1]) {
        case 'P': out += person.pronoun; break;
        case 'N': out += person.name; break;
        case 'X': out += other.name; break;
        case 'O': out += objects; break;
        case 'k': out += std::to_string(number); break;
        default: throw std::logic_error("unknown placeholder in template: " + pattern);
      }
      i += 2;
    } else {
      out += pattern[i];
    }
  }
  return out;
}

int apply(Operator op, int left, int right) {
  switch (op) {
    case Operator::add: return left + right;
    case Operator::sub: return left - right;
    case Operator::mul: return left * right;
    case Operator::div: return left / right;
  }
  return 0;
}

}  // namespace

const char* operator_name(Operator op) {
  switch (op) {
    case Operator::add: return "add";
    case Operator::sub: return "sub";
    case Operator::mul: return "mul";
    case Operator::div: return "div";
  }
  return "?";
}

char operator_symbol(Operator op) {
  switch (op) {
    case Operator::add: return '+';
    case Operator::sub: return '-';
    case Operator::mul: return '*';
    case Operator::div: return '/';
  }
  return '?';
}

Split parse_split(const std::string& text) {
  if (text == "train") return Split::train;
  if (text == "heldout") return Split::heldout;
  if (text == "all") return Split::all;
  throw std::invalid_argument("split '" + text + "' is not train, heldout or all");
}

bool is_heldout(const std::string& question) { return fnv1a(question) % 10 == 0; }

ProblemGenerator::ProblemGenerator(const GeneratorOptions& options)
    : options_(options), state_(options.seed * 0x9E3779B97F4A7C15ull + 0x2545F4914F6CDD1Dull) {
  if (options.min_level < 1 || options.max_level > 5 || options.min_level > options.max_level)
    throw std::invalid_argument("levels must lie within 1-5, lowest first");
}

std::uint64_t ProblemGenerator::next_u64() {  // splitmix64
  std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

int ProblemGenerator::uniform(int low, int high) {
  const auto span = static_cast<std::uint64_t>(high - low + 1);
  return low + static_cast<int>(next_u64() % span);
}

Problem ProblemGenerator::draw(int level) {
  Problem problem;
  problem.level = level;
  const Person& person = kPeople[uniform(0, count_of(kPeople) - 1)];
  const Person* other = &kPeople[uniform(0, count_of(kPeople) - 1)];
  while (other == &person) other = &kPeople[uniform(0, count_of(kPeople) - 1)];
  const char* objects = kObjects[uniform(0, count_of(kObjects) - 1)];
  int total = uniform(2, 60);
  problem.question = std::string(person.name) + " has " + std::to_string(total) + " " + objects + ".";
  for (int step = 0; step < level; ++step) {
    // Operators whose rules the running total allows.
    std::vector<Operator> possible;
    if (total <= kMaxValue - 1) possible.push_back(Operator::add);
    if (total >= 2) possible.push_back(Operator::sub);
    if (total * 2 <= kMaxValue) possible.push_back(Operator::mul);
    std::vector<int> divisors;
    for (int d = 2; d <= 9; ++d)
      if (total % d == 0 && total / d >= 1) divisors.push_back(d);
    if (!divisors.empty()) possible.push_back(Operator::div);
    const Operator op = possible[static_cast<std::size_t>(uniform(0, static_cast<int>(possible.size()) - 1))];
    int right = 1;
    const char* pattern = "";
    switch (op) {
      case Operator::add:
        right = uniform(1, std::min(50, kMaxValue - total));
        pattern = kAddTemplates[uniform(0, count_of(kAddTemplates) - 1)];
        break;
      case Operator::sub:
        right = uniform(1, total - 1);
        pattern = kSubTemplates[uniform(0, count_of(kSubTemplates) - 1)];
        break;
      case Operator::mul:
        right = uniform(2, std::min(9, kMaxValue / total));
        pattern = kMulTemplates[uniform(0, count_of(kMulTemplates) - 1)];
        break;
      case Operator::div:
        right = divisors[static_cast<std::size_t>(uniform(0, static_cast<int>(divisors.size()) - 1))];
        pattern = kDivTemplates[uniform(0, count_of(kDivTemplates) - 1)];
        break;
    }
    const int result = apply(op, total, right);
    problem.steps.push_back({op, total, right, result});
    problem.question += " " + fill(pattern, person, *other, objects, right);
    total = result;
  }
  problem.question += " " + fill(kQuestionTemplates[uniform(0, count_of(kQuestionTemplates) - 1)], person, *other, objects, 0);
  problem.answer = total;
  return problem;
}

Problem ProblemGenerator::next_of_level(int level) {
  if (level < 1 || level > 5) throw std::invalid_argument("level must be 1-5");
  for (;;) {
    Problem problem = draw(level);
    const bool heldout = is_heldout(problem.question);
    if ((options_.split == Split::train && heldout) || (options_.split == Split::heldout && !heldout)) continue;
    if (!seen_.insert(problem.question).second) continue;
    return problem;
  }
}

Problem ProblemGenerator::next() { return next_of_level(uniform(options_.min_level, options_.max_level)); }

FormattedProblem format_problem(const Problem& problem, ProblemFormat format, int pause_count) {
  FormattedProblem out;
  out.text = problem.question + "\n";
  out.answer_start = out.text.size();
  switch (format) {
    case ProblemFormat::chain:
      for (const auto& step : problem.steps) {
        StepSpan span;
        span.start = static_cast<std::int64_t>(out.text.size());
        out.text += std::to_string(step.left) + operator_symbol(step.op) + std::to_string(step.right) + "=" +
                    std::to_string(step.result);
        span.end = static_cast<std::int64_t>(out.text.size());
        span.op = step.op;
        out.spans.push_back(span);
        out.text += "\n";
      }
      out.text += "#### " + std::to_string(problem.answer);
      break;
    case ProblemFormat::prompt_only: break;
    case ProblemFormat::pause:
    case ProblemFormat::pause_prompt:
      for (int i = 0; i < pause_count; ++i) out.text += kPauseToken;
      if (format == ProblemFormat::pause) out.text += "#### " + std::to_string(problem.answer);
      break;
  }
  return out;
}

std::string problem_jsonl(const Problem& problem, const std::string& id, ProblemFormat format, int pause_count) {
  const FormattedProblem formatted = format_problem(problem, format, pause_count);
  nlohmann::json spans = nlohmann::json::array();
  for (const auto& span : formatted.spans) spans.push_back({{"start", span.start}, {"end", span.end}, {"label", operator_name(span.op)}});
  nlohmann::json ops = nlohmann::json::array();
  for (const auto& step : problem.steps) ops.push_back(operator_name(step.op));
  const char* format_names[] = {"chain", "prompt_only", "pause", "pause_prompt"};
  nlohmann::json line{{"id", id},         {"text", formatted.text}, {"level", problem.level},
                      {"answer", std::to_string(problem.answer)}, {"spans", spans}, {"ops", ops},
                      {"question", problem.question}, {"format", format_names[static_cast<int>(format)]}};
  return line.dump();
}

bool parse_final_answer(const std::string& text, int& answer) {
  const auto marker = text.rfind("#### ");
  if (marker == std::string::npos) return false;
  std::size_t pos = marker + 5;
  if (pos >= text.size() || text[pos] < '0' || text[pos] > '9') return false;
  long value = 0;
  while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9' && value < 100000000) value = value * 10 + (text[pos++] - '0');
  answer = static_cast<int>(value);
  return true;
}

}  // namespace headscope::problems
