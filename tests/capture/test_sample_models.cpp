// The sample models and what made them: the problem generator (deterministic, disjoint splits, correct
// chains and spans), the character-level tokenizer (round trips through load_tokenizer), the trainer
// (same seed -> identical weights; the checkpoint loads back in our runtime and gives the trained model's
// logits), and each shipped model in samples/models still scoring, problem by problem, as recorded in
// tests/fixtures/sample_models/<model>.expected.jsonl (so the weights and the runtime stay in step).
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "capture/model/model_torch.h"
#include "capture/tokenizer/tokenizer.h"
#include "capture/train/evaluate.h"
#include "capture/train/trainer.h"
#include "core/problems/arith_problems.h"
#include "core/problems/char_vocab.h"
#include "test_support.h"

namespace fs = std::filesystem;
namespace problems = headscope::problems;

namespace {

fs::path samples_dir() { return headscope::test::fixtures_dir() / ".." / ".." / "samples"; }

std::string read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

void write_text(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

int apply(const problems::ProblemStep& step) {
  switch (step.op) {
    case problems::Operator::add: return step.left + step.right;
    case problems::Operator::sub: return step.left - step.right;
    case problems::Operator::mul: return step.left * step.right;
    case problems::Operator::div: return step.right != 0 && step.left % step.right == 0 ? step.left / step.right : -1;
  }
  return -1;
}

}  // namespace

TEST(ProblemGenerator, SameSeedSameProblemsOtherSeedOthers) {
  problems::ProblemGenerator first({7, 1, 5, problems::Split::train});
  problems::ProblemGenerator second({7, 1, 5, problems::Split::train});
  problems::ProblemGenerator other({8, 1, 5, problems::Split::train});
  int differing = 0;
  for (int i = 0; i < 200; ++i) {
    const auto a = first.next();
    EXPECT_EQ(a.question, second.next().question);
    differing += a.question != other.next().question;
  }
  EXPECT_GT(differing, 190);
}

TEST(ProblemGenerator, ChainsAreCorrectAndSplitsDisjoint) {
  for (auto split : {problems::Split::train, problems::Split::heldout}) {
    problems::ProblemGenerator generator({3, 1, 5, split});
    std::set<std::string> seen;
    for (int i = 0; i < 500; ++i) {
      const int level = 1 + i % 5;
      const auto problem = generator.next_of_level(level);
      ASSERT_EQ(static_cast<int>(problem.steps.size()), level);
      EXPECT_EQ(problems::is_heldout(problem.question), split == problems::Split::heldout);
      EXPECT_TRUE(seen.insert(problem.question).second) << "duplicate question";
      int total = problem.steps.front().left;
      for (const auto& step : problem.steps) {
        EXPECT_EQ(step.left, total);
        EXPECT_EQ(apply(step), step.result) << problem.question;
        EXPECT_GE(step.result, 1);
        EXPECT_LE(step.result, 99);
        if (step.op == problems::Operator::mul || step.op == problems::Operator::div) {
          EXPECT_LE(step.right, 9);
        }
        total = step.result;
      }
      EXPECT_EQ(problem.answer, total);
      const auto formatted = problems::format_problem(problem, problems::ProblemFormat::chain);
      ASSERT_EQ(formatted.spans.size(), problem.steps.size());
      for (std::size_t k = 0; k < formatted.spans.size(); ++k) {
        const auto& span = formatted.spans[k];
        const auto line = formatted.text.substr(static_cast<std::size_t>(span.start), static_cast<std::size_t>(span.end - span.start));
        const auto& step = problem.steps[k];
        EXPECT_EQ(line, std::to_string(step.left) + problems::operator_symbol(step.op) + std::to_string(step.right) + "=" +
                            std::to_string(step.result));
        EXPECT_EQ(formatted.text[static_cast<std::size_t>(span.end)], '\n');
      }
      int answer = -1;
      ASSERT_TRUE(problems::parse_final_answer(formatted.text, answer));
      EXPECT_EQ(answer, problem.answer);
    }
  }
}

TEST(CharTokenizer, RoundTripsThroughLoadTokenizer) {
  const auto dir = headscope::test::temp_dir();
  write_text(dir / "tokenizer.json", problems::char_tokenizer_json());
  write_text(dir / "tokenizer_config.json", problems::char_tokenizer_config_json());
  const auto tokenizer = headscope::tokenizer::load_tokenizer(dir.string());
  EXPECT_EQ(tokenizer->vocab_size(), problems::kCharVocabSize);
  EXPECT_EQ(tokenizer->bos_id(), problems::kBosId);
  EXPECT_EQ(tokenizer->eos_id(), problems::kEosId);
  problems::ProblemGenerator generator({11, 1, 5, problems::Split::heldout});
  for (int i = 0; i < 50; ++i) {
    const auto problem = generator.next();
    for (auto format : {problems::ProblemFormat::chain, problems::ProblemFormat::pause}) {
      const auto text = problems::format_problem(problem, format).text;
      const auto ids = tokenizer->encode(text);
      EXPECT_EQ(tokenizer->decode(ids), text);
      if (format == problems::ProblemFormat::chain) {
        EXPECT_EQ(ids.size(), text.size());  // one id per character
      } else {
        EXPECT_EQ(std::count(ids.begin(), ids.end(), problems::kPauseId), 6);
      }
    }
  }
  const auto with_bos = tokenizer->encode("12+3=15\n", true);
  ASSERT_EQ(with_bos.size(), 9u);
  EXPECT_EQ(with_bos.front(), problems::kBosId);
  EXPECT_EQ(with_bos[8], 4);  // newline
  EXPECT_EQ(tokenizer->token_text(problems::kPauseId), "<pause>");
}

// A few steps of a tiny model, twice from the same seed, must give byte-identical checkpoints; the
// checkpoint must load back through Model::load and reproduce the trained model's logits.
TEST(Trainer, SameSeedGivesIdenticalWeights) {
  for (const std::string arch : {"gpt2", "llama"}) {
    headscope::train::TrainSettings s;
    s.architecture = arch;
    s.layer_count = 2;
    s.hidden_size = 32;
    s.head_count = 4;
    s.kv_head_count = arch == "llama" ? 2 : 0;
    s.steps = 4;
    s.batch_tokens = 300;
    s.warmup_steps = 2;
    s.threads = 1;
    s.log_every = 1000;
    const auto dir = headscope::test::temp_dir();
    s.out_dir = (dir / "a").string();
    const auto first = headscope::train::train_model(s);
    s.out_dir = (dir / "b").string();
    headscope::train::train_model(s);
    s.seed = 2;
    s.out_dir = (dir / "c").string();
    headscope::train::train_model(s);
    EXPECT_TRUE(std::isfinite(first.final_loss));
    const auto a = read_bytes(dir / "a" / "model.safetensors");
    EXPECT_EQ(a, read_bytes(dir / "b" / "model.safetensors")) << arch << ": same seed, different weights";
    EXPECT_NE(a, read_bytes(dir / "c" / "model.safetensors")) << arch << ": another seed, same weights";

    auto loaded = headscope::model::Model::load(dir / "a");
    EXPECT_EQ(loaded->config().family == headscope::model::Family::gpt2, arch == "gpt2");
    EXPECT_EQ(loaded->config().kv_head_count, arch == "llama" ? 2 : 4);
    auto ids = at::tensor(std::vector<std::int64_t>{1, 20, 21, 15, 4}, at::TensorOptions().dtype(at::kLong)).unsqueeze(0);
    auto logits = loaded->forward(ids).logits;
    EXPECT_EQ(logits.size(2), problems::kCharVocabSize);
    EXPECT_TRUE(at::isfinite(logits).all().item<bool>());
  }
}

namespace {
// A one-block Llama with GQA (4 query heads, 2 kv heads), small enough to train a step in milliseconds.
headscope::train::TrainSettings tiny_llama_settings() {
  headscope::train::TrainSettings s;
  s.architecture = "llama";
  s.layer_count = 1;
  s.hidden_size = 32;
  s.head_count = 4;
  s.kv_head_count = 2;
  return s;
}
}  // namespace

TEST(Trainer, RandomModelForwardMatchesItsSavedCheckpoint) {
  auto s = tiny_llama_settings();
  const auto config = headscope::model::parse_model_config(headscope::train::model_config_json(s), "test");
  auto fresh = headscope::model::Model::create_random(config, 5);
  for (const auto& [name, tensor] : fresh->named_parameters()) EXPECT_TRUE(tensor.requires_grad()) << name;
  s.steps = 1;
  s.learning_rate = 0;  // a zero step leaves the random weights as they were
  s.weight_decay = 0;
  s.seed = 5;
  s.warmup_steps = 1;
  s.batch_tokens = 100;
  s.threads = 1;
  s.out_dir = (headscope::test::temp_dir() / "m").string();
  headscope::train::train_model(s);
  auto loaded = headscope::model::Model::load(s.out_dir);
  auto ids = at::tensor(std::vector<std::int64_t>{1, 30, 31, 32, 4, 9}, at::TensorOptions().dtype(at::kLong)).unsqueeze(0);
  auto expected = fresh->forward(ids).logits;
  auto actual = loaded->forward(ids).logits;
  EXPECT_TRUE(at::allclose(expected, actual, 1e-5, 1e-5));
}

// Each shipped model, on the fixed held-out problems, must give the recorded answer for every problem.
TEST(SampleModels, ScoreAsRecorded) {
  const auto fixtures = headscope::test::fixtures_dir() / "sample_models";
  for (const std::string name : {"arith-gpt2", "arith-llama", "arith-pause6", "arith-latent-gpt2", "arith-latent-llama",
                                  "arith-direct-gpt2", "arith-direct-llama"}) {
    const auto model_dir = samples_dir() / "models" / name;
    const auto expected_path = fixtures / (name + ".expected.jsonl");
    ASSERT_TRUE(fs::exists(model_dir / "model.safetensors")) << model_dir;
    ASSERT_TRUE(fs::exists(expected_path)) << expected_path;
    const bool latent = name.find("latent") != std::string::npos;  // <bot> and <eot> besides the characters
    EXPECT_EQ(read_bytes(model_dir / "tokenizer.json"), problems::char_tokenizer_json(latent)) << name;
    headscope::train::EvalSettings settings;
    settings.model_dir = model_dir.string();
    settings.problems_path = (fixtures / (name == "arith-pause6" ? "fixed20_pause.jsonl" : "fixed20.jsonl")).string();
    settings.threads = 2;
    const auto report = headscope::train::evaluate_model(settings);
    std::ifstream expected_file(expected_path);
    std::size_t index = 0;
    for (std::string line; std::getline(expected_file, line); ++index) {
      const auto expected = nlohmann::json::parse(line);
      ASSERT_LT(index, report.items.size()) << name;
      const auto& item = report.items[index];
      EXPECT_EQ(item.id, expected["id"].get<std::string>());
      EXPECT_EQ(item.correct, expected["correct"].get<bool>()) << name << " " << item.id << ": " << item.generated;
      if (expected["predicted"].is_null()) {
        EXPECT_FALSE(item.answered) << name << " " << item.id;
      } else {
        EXPECT_EQ(item.predicted, expected["predicted"].get<int>()) << name << " " << item.id << ": " << item.generated;
      }
    }
    EXPECT_EQ(index, report.items.size()) << name;
  }
}

// A second stage (--init-from) with a zero learning rate must reproduce the checkpoint it started from.
TEST(Trainer, InitFromStartsAtTheCheckpoint) {
  auto s = tiny_llama_settings();
  s.steps = 2;
  s.warmup_steps = 1;
  s.batch_tokens = 100;
  s.threads = 1;
  const auto dir = headscope::test::temp_dir();
  s.out_dir = (dir / "first").string();
  headscope::train::train_model(s);
  s.init_from = s.out_dir;
  s.seed = 9;  // another seed: the random start is overwritten
  s.learning_rate = 0;
  s.weight_decay = 0;
  s.steps = 1;
  s.out_dir = (dir / "second").string();
  headscope::train::train_model(s);
  EXPECT_EQ(read_bytes(dir / "first" / "model.safetensors"), read_bytes(dir / "second" / "model.safetensors"));
}
