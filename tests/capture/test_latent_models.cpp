// Continuous-thought (latent) models, CODI-style: config.json's "latent" object, the projection between
// thoughts, training through the KV cache (its gradients equal a full recompute's), generation that runs
// <bot>, the thoughts and <eot> before answering (equal to a step-by-step recompute without a cache), a
// capture with `--flow latent` that takes the model's own number of thoughts, and a latent model started
// from a chain-of-thought checkpoint with a grown vocabulary.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "capture/model/generate_torch.h"
#include "capture/model/model_torch.h"
#include "capture/session/capture_session.h"
#include "capture/tokenizer/tokenizer.h"
#include "capture/train/trainer.h"
#include "core/problems/char_vocab.h"
#include "core/store/reader.h"
#include "test_support.h"

namespace fs = std::filesystem;
namespace hm = headscope::model;
namespace ht = headscope::train;
namespace problems = headscope::problems;

namespace {

ht::TrainSettings tiny_latent_settings(const std::string& arch) {
  ht::TrainSettings s;
  s.architecture = arch;
  s.layer_count = 2;
  s.hidden_size = 32;
  s.head_count = 4;
  s.kv_head_count = arch == "llama" ? 2 : 0;
  s.task = "latent";
  s.latent_steps = 3;
  s.min_level = 1;
  s.max_level = 2;
  s.steps = 2;
  s.warmup_steps = 1;
  s.batch_tokens = 300;
  s.threads = 1;
  s.log_every = 1000;
  return s;
}

at::Tensor ids_tensor(const std::vector<std::int64_t>& ids) {
  return at::tensor(ids, at::TensorOptions().dtype(at::kLong)).unsqueeze(0);
}

std::vector<std::pair<std::string, at::Tensor>> all_parameters(const hm::Model& model) {
  auto named = model.named_parameters();
  for (const auto& entry : model.latent_parameters()) named.push_back(entry);
  return named;
}

}  // namespace

TEST(LatentConfig, ReadsTheLatentObjectAndRefusesIdsOutsideTheVocabulary) {
  const auto text = ht::model_config_json(tiny_latent_settings("gpt2"));
  const auto config = hm::parse_model_config(text, "latent.json");
  ASSERT_TRUE(config.latent.has_value());
  EXPECT_EQ(config.latent->steps, 3);
  EXPECT_EQ(config.latent->bot_id, problems::kBotId);
  EXPECT_EQ(config.latent->eot_id, problems::kEotId);
  EXPECT_TRUE(config.latent->projection);
  EXPECT_EQ(config.latent->projection_dim, 32);
  EXPECT_EQ(config.vocab_size, problems::kThoughtVocabSize);
  auto json = nlohmann::json::parse(text);
  json["latent"]["bot_token_id"] = 500;
  EXPECT_THROW(hm::parse_model_config(json.dump(), "bad.json"), hm::ModelError);
  json["latent"] = 3;
  EXPECT_THROW(hm::parse_model_config(json.dump(), "bad.json"), hm::ModelError);
  auto chain = tiny_latent_settings("gpt2");
  chain.task = "chain";
  EXPECT_FALSE(hm::parse_model_config(ht::model_config_json(chain), "chain.json").latent.has_value());
}

// The trainer runs the thoughts through the KV cache with autograd (the cache grows by concatenation
// then): loss and every gradient must equal those of recomputing the whole sequence at each thought.
TEST(LatentTraining, GradientsThroughTheCacheEqualAFullRecompute) {
  for (const std::string arch : {"gpt2", "llama"}) {
    const auto config = hm::parse_model_config(ht::model_config_json(tiny_latent_settings(arch)), "tiny");
    auto model = hm::Model::create_random(config, 3);
    const auto prefix = ids_tensor({1, 40, 41, 42, 17, 4, problems::kBotId});
    const auto suffix = ids_tensor({problems::kEotId, 8, 8, 5, 22});
    const int steps = config.latent->steps;
    hm::ForwardOptions grad;
    grad.autograd = true;

    auto gradients = [&](const at::Tensor& loss) {
      for (auto& [name, tensor] : all_parameters(*model)) tensor.mutable_grad() = at::Tensor();
      loss.backward();
      std::vector<at::Tensor> grads;
      for (auto& [name, tensor] : all_parameters(*model)) grads.push_back(tensor.grad().clone());
      return grads;
    };

    hm::KvCache cache = model->make_cache(1);
    at::Tensor last = model->forward(prefix, &cache, grad).final_hidden.narrow(1, -1, 1);
    for (int k = 0; k < steps; ++k)
      last = model->forward_embeddings(model->project_latent(last), &cache, grad).final_hidden.narrow(1, -1, 1);
    const auto cached_logits = model->forward(suffix, &cache, grad).logits;
    const auto cached_loss = cached_logits.pow(2).mean();
    const auto cached = gradients(cached_loss);

    at::Tensor embeddings = model->embed_tokens(prefix);
    for (int k = 0; k < steps; ++k) {
      auto h = model->forward_embeddings(embeddings, nullptr, grad).final_hidden.narrow(1, -1, 1);
      embeddings = at::cat({embeddings, model->project_latent(h)}, 1);
    }
    embeddings = at::cat({embeddings, model->embed_tokens(suffix)}, 1);
    const auto full_logits = model->forward_embeddings(embeddings, nullptr, grad).logits.narrow(1, -suffix.size(1), suffix.size(1));
    const auto full_loss = full_logits.pow(2).mean();
    const auto full = gradients(full_loss);

    EXPECT_NEAR(cached_loss.item<double>(), full_loss.item<double>(), 1e-6) << arch;
    const auto names = all_parameters(*model);
    ASSERT_EQ(cached.size(), full.size());
    EXPECT_EQ(model->latent_parameters().size(), 6u) << arch;
    for (std::size_t i = 0; i < cached.size(); ++i)
      EXPECT_TRUE(at::allclose(cached[i], full[i], 1e-4, 1e-6)) << arch << " " << names[i].first;
  }
}

// A trained latent folder: loads with its projection, generates through <bot>, thoughts and <eot> as a
// recompute without cache does, and captures its thoughts' flow with the model's own step count.
TEST(LatentModels, TrainedFolderGeneratesAndCapturesItsThoughts) {
  const auto dir = headscope::test::temp_dir();
  for (const std::string arch : {"gpt2", "llama"}) {
    auto s = tiny_latent_settings(arch);
    s.out_dir = (dir / arch).string();
    const auto result = ht::train_model(s);
    EXPECT_TRUE(std::isfinite(result.final_loss));
    auto model = hm::Model::load(s.out_dir);
    ASSERT_TRUE(model->config().latent.has_value());
    EXPECT_EQ(model->latent_parameters().size(), 6u);
    const auto tokenizer = headscope::tokenizer::load_tokenizer(s.out_dir);
    EXPECT_EQ(tokenizer->token_text(problems::kBotId), "<bot>");
    EXPECT_EQ(tokenizer->token_text(problems::kEotId), "<eot>");

    const std::vector<std::int64_t> prompt{1, 50, 51, 52, 4};
    hm::GenerateOptions options;
    options.max_new_tokens = 6;
    options.latent_steps = -1;
    const auto generated = hm::generate(*model, prompt, options);
    // The same without a cache: the whole sequence of input embeddings again at every step.
    std::vector<std::int64_t> expected;
    {
    c10::InferenceMode inference;
    auto with_bot = prompt;
    with_bot.push_back(problems::kBotId);
    at::Tensor embeddings = model->embed_tokens(ids_tensor(with_bot));
    for (int k = 0; k < s.latent_steps; ++k) {
      auto h = model->forward_embeddings(embeddings).final_hidden.narrow(1, -1, 1);
      embeddings = at::cat({embeddings, model->project_latent(h)}, 1);
    }
    embeddings = at::cat({embeddings, model->embed_tokens(ids_tensor({problems::kEotId}))}, 1);
    for (int t = 0; t < options.max_new_tokens; ++t) {
      const auto next = model->forward_embeddings(embeddings).logits[0][-1].argmax().item<std::int64_t>();
      expected.push_back(next);
      embeddings = at::cat({embeddings, model->embed_tokens(ids_tensor({next}))}, 1);
    }
    }
    EXPECT_EQ(generated, expected) << arch;

    headscope::capture::CaptureSettings capture;
    capture.model_dir = s.out_dir;
    capture.prompts_path = (dir / "prompts.jsonl").string();
    {
      std::ofstream out(capture.prompts_path);
      out << R"({"id": "a", "text": "Ann has 3 pens. How many pens?\n"})" << "\n";
    }
    capture.out_path = (dir / (arch + ".h5")).string();
    capture.flow_select = headscope::capture::FlowSelect::latent_steps;  // no --latent: the model's own 3
    capture.threads = 1;
    headscope::capture::CaptureSession session(capture);
    session.start();
    session.wait();
    auto reader = headscope::store::StoreReader::open(capture.out_path);
    ASSERT_EQ(reader->layout().flow_size, 3) << arch;
    const auto info = reader->sample(0);
    const auto tokens = reader->tokens(0);
    EXPECT_EQ(info.token_count, info.prompt_length + 3);
    EXPECT_EQ(tokens[static_cast<std::size_t>(info.prompt_length - 1)], problems::kBotId);
    const auto positions = reader->flow_positions(0);
    for (int k = 0; k < 3; ++k) EXPECT_EQ(positions[static_cast<std::size_t>(k)], info.prompt_length + k);
  }
}

// A latent model started from a chain-of-thought checkpoint: the checkpoint's 100 vocabulary rows are
// copied (a zero learning rate keeps them), the two thought tokens' rows and the projection start fresh.
TEST(LatentModels, StartFromAChainCheckpointWithAGrownVocabulary) {
  const auto dir = headscope::test::temp_dir();
  auto s = tiny_latent_settings("llama");
  s.task = "chain";
  s.out_dir = (dir / "chain").string();
  ht::train_model(s);
  s.task = "latent";
  s.init_from = s.out_dir;
  s.learning_rate = 0;
  s.weight_decay = 0;
  s.steps = 1;
  s.out_dir = (dir / "latent").string();
  ht::train_model(s);
  auto chain = hm::Model::load(dir / "chain");
  auto latent = hm::Model::load(dir / "latent");
  const auto from = chain->named_parameters(), to = latent->named_parameters();
  ASSERT_EQ(from.size(), to.size());
  for (std::size_t i = 0; i < from.size(); ++i) {
    const auto rows = from[i].second.size(0);
    EXPECT_TRUE(at::equal(from[i].second, to[i].second.narrow(0, 0, rows))) << from[i].first;
  }
  EXPECT_EQ(latent->config().vocab_size, problems::kThoughtVocabSize);
}
