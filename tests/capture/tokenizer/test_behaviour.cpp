// Behaviour of the real tokenizers in ../shared beyond exact ids: decode(encode(x)) == x where the
// tokenizer is lossless, BOS/EOS and added tokens, display text of single tokens, vocabulary sizes.
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "capture/tokenizer/tokenizer.h"
#include "test_support.h"

namespace {

namespace fs = std::filesystem;
using headscope::tokenizer::load_tokenizer;
using headscope::tokenizer::Tokenizer;
using headscope::tokenizer::TokenizerError;
using Ids = std::vector<std::int32_t>;

fs::path tokenizers_dir() { return headscope::test::shared_dir() / "fixtures" / "tokenizers"; }

std::vector<std::string> reference_texts() {
  std::vector<std::string> texts;
  std::ifstream file(tokenizers_dir() / "reference.jsonl");
  std::string line;
  while (std::getline(file, line)) texts.push_back(nlohmann::json::parse(line).at("text").get<std::string>());
  return texts;
}

bool is_valid_utf8(const std::string& text) {
  try {
    (void)nlohmann::json(text).dump();  // dump() throws on invalid UTF-8
    return true;
  } catch (const nlohmann::json::exception&) {
    return false;
  }
}

// Loads ../shared/fixtures/tokenizers/<name>/<file>, or skips the test when it is absent.
#define LOAD_SHARED_TOKENIZER(variable, name, file)              \
  const fs::path variable##_path = tokenizers_dir() / name / file; \
  HEADSCOPE_REQUIRE_PATH(variable##_path);                         \
  const auto variable = load_tokenizer(variable##_path.string())

void expect_round_trip_on_reference(const Tokenizer& tokenizer, const std::string& name) {
  HEADSCOPE_REQUIRE_PATH(tokenizers_dir() / "reference.jsonl");
  std::size_t passed = 0;
  const auto texts = reference_texts();
  for (const std::string& text : texts) {
    const std::string decoded = tokenizer.decode(tokenizer.encode(text));
    if (decoded == text) ++passed;
    else ADD_FAILURE() << name << ": decode(encode(x)) != x for x = " << text.substr(0, 120) << "\n  got " << decoded.substr(0, 120);
  }
  std::cout << "[ round trip ] " << name << ": " << passed << "/" << texts.size() << std::endl;
}

TEST(TokenizerRoundTrip, Gpt2) {
  LOAD_SHARED_TOKENIZER(tokenizer, "gpt2", "tokenizer.json");
  expect_round_trip_on_reference(*tokenizer, "gpt2");
}
TEST(TokenizerRoundTrip, Llama3) {
  LOAD_SHARED_TOKENIZER(tokenizer, "llama3", "tokenizer.json");
  expect_round_trip_on_reference(*tokenizer, "llama3");
}
TEST(TokenizerRoundTrip, Qwen3) {  // lossless on NFC text, which the reference lines are
  LOAD_SHARED_TOKENIZER(tokenizer, "qwen3", "tokenizer.json");
  expect_round_trip_on_reference(*tokenizer, "qwen3");
}
TEST(TokenizerRoundTrip, Mistral) {
  LOAD_SHARED_TOKENIZER(tokenizer, "mistral", "tokenizer.json");
  expect_round_trip_on_reference(*tokenizer, "mistral");
}
TEST(TokenizerRoundTrip, Llama2) {
  LOAD_SHARED_TOKENIZER(tokenizer, "llama2", "tokenizer.model");
  expect_round_trip_on_reference(*tokenizer, "llama2");
}

TEST(TokenizerSpecials, Gpt2EndOfTextIsBothBosAndEosAndIsNotAdded) {
  LOAD_SHARED_TOKENIZER(tokenizer, "gpt2", "tokenizer.json");
  EXPECT_EQ(tokenizer->vocab_size(), 50257);
  EXPECT_EQ(tokenizer->bos_id(), 50256);
  EXPECT_EQ(tokenizer->eos_id(), 50256);
  EXPECT_EQ(tokenizer->encode("<|endoftext|>"), Ids({50256}));
  EXPECT_EQ(tokenizer->encode("Hello world", true), tokenizer->encode("Hello world"));
  EXPECT_EQ(tokenizer->decode({15496, 50256, 995}), "Hello<|endoftext|> world");
}

TEST(TokenizerSpecials, Llama3PrependsBeginOfText) {
  LOAD_SHARED_TOKENIZER(tokenizer, "llama3", "tokenizer.json");
  EXPECT_EQ(tokenizer->vocab_size(), 128256);
  EXPECT_EQ(tokenizer->bos_id(), 128000);
  EXPECT_EQ(tokenizer->eos_id(), 128001);
  Ids expected{128000};
  for (std::int32_t id : tokenizer->encode("Hello world")) expected.push_back(id);
  EXPECT_EQ(tokenizer->encode("Hello world", true), expected);
  EXPECT_EQ(tokenizer->encode("<|start_header_id|>user<|end_header_id|>"), Ids({128006, 882, 128007}));
}

TEST(TokenizerSpecials, Qwen3ChatTokensAndNfc) {
  LOAD_SHARED_TOKENIZER(tokenizer, "qwen3", "tokenizer.json");
  EXPECT_EQ(tokenizer->vocab_size(), 151669);
  EXPECT_FALSE(tokenizer->bos_id().has_value());
  EXPECT_EQ(tokenizer->eos_id(), 151645);  // <|im_end|>, from tokenizer_config.json
  const Ids chat = tokenizer->encode("<|im_start|>user\nhi<|im_end|>");
  ASSERT_GE(chat.size(), 3u);
  EXPECT_EQ(chat.front(), 151644);
  EXPECT_EQ(chat.back(), 151645);
  EXPECT_EQ(tokenizer->encode("<think>"), Ids({151667}));  // an added token that is not special
  EXPECT_EQ(tokenizer->encode("Cafe\xCC\x81"), tokenizer->encode("Caf\xC3\xA9"));  // e + combining acute → é
  EXPECT_EQ(tokenizer->encode("x", true), tokenizer->encode("x"));
}

TEST(TokenizerSpecials, MistralTemplateAddsBos) {
  LOAD_SHARED_TOKENIZER(tokenizer, "mistral", "tokenizer.json");
  EXPECT_EQ(tokenizer->vocab_size(), 32000);
  EXPECT_EQ(tokenizer->bos_id(), 1);
  EXPECT_EQ(tokenizer->eos_id(), 2);
  Ids expected{1};
  for (std::int32_t id : tokenizer->encode("Hello world")) expected.push_back(id);
  EXPECT_EQ(tokenizer->encode("Hello world", true), expected);
  const Ids with_eos = tokenizer->encode("a</s>");
  EXPECT_EQ(with_eos.back(), 2);
  EXPECT_EQ(tokenizer->encode(""), Ids());
}

TEST(TokenizerSpecials, Llama2SentencePieceAddsBos) {
  LOAD_SHARED_TOKENIZER(tokenizer, "llama2", "tokenizer.model");
  EXPECT_EQ(tokenizer->vocab_size(), 32000);
  EXPECT_EQ(tokenizer->bos_id(), 1);
  EXPECT_EQ(tokenizer->eos_id(), 2);
  const Ids ids = tokenizer->encode("Hello world", true);
  ASSERT_FALSE(ids.empty());
  EXPECT_EQ(ids.front(), 1);
  EXPECT_EQ(Ids(ids.begin() + 1, ids.end()), tokenizer->encode("Hello world"));
}

TEST(TokenizerTokenText, ByteLevelShowsSpacesAndEscapesPartialCharacters) {
  LOAD_SHARED_TOKENIZER(tokenizer, "gpt2", "tokenizer.json");
  EXPECT_EQ(tokenizer->token_text(262), " the");
  EXPECT_EQ(tokenizer->token_text(50256), "<|endoftext|>");
  std::size_t escaped = 0;
  for (std::int32_t id = 0; id < tokenizer->vocab_size(); ++id) {
    const std::string text = tokenizer->token_text(id);
    ASSERT_TRUE(is_valid_utf8(text)) << "token " << id;
    if (text.find("<0x") != std::string::npos) ++escaped;
  }
  EXPECT_GT(escaped, 0u);  // lone UTF-8 lead/continuation bytes exist in GPT-2's vocabulary
  // Concatenated token texts spell the line when no token splits a character.
  std::string joined;
  for (std::int32_t id : tokenizer->encode("Hello, world! It's 2024.")) joined += tokenizer->token_text(id);
  EXPECT_EQ(joined, "Hello, world! It's 2024.");
  EXPECT_THROW(tokenizer->token_text(-1), TokenizerError);
  EXPECT_THROW(tokenizer->token_text(50257), TokenizerError);
}

TEST(TokenizerTokenText, MetaspaceAndByteFallbackTokens) {
  LOAD_SHARED_TOKENIZER(tokenizer, "mistral", "tokenizer.json");
  EXPECT_EQ(tokenizer->token_text(28705), " ");      // ▁
  EXPECT_EQ(tokenizer->token_text(13), "\n");        // <0x0A>
  EXPECT_EQ(tokenizer->token_text(3 + 0xE2), "<0xE2>");
  EXPECT_EQ(tokenizer->token_text(1), "<s>");
  const Ids hello = tokenizer->encode("Hello");
  ASSERT_EQ(hello.size(), 1u);
  EXPECT_EQ(tokenizer->token_text(hello[0]), " Hello");
}

TEST(TokenizerTokenText, SentencePieceModel) {
  LOAD_SHARED_TOKENIZER(tokenizer, "llama2", "tokenizer.model");
  EXPECT_EQ(tokenizer->token_text(29871), " ");
  EXPECT_EQ(tokenizer->token_text(13), "\n");
  EXPECT_EQ(tokenizer->token_text(3 + 0xE2), "<0xE2>");
  EXPECT_EQ(tokenizer->token_text(1), "<s>");
  EXPECT_THROW(tokenizer->token_text(32000), TokenizerError);
}

TEST(TokenizerLoad, CheckpointFolderPrefersTokenizerJson) {
  HEADSCOPE_REQUIRE_PATH(tokenizers_dir() / "mistral");
  const auto from_folder = load_tokenizer((tokenizers_dir() / "mistral").string());
  const auto from_file = load_tokenizer((tokenizers_dir() / "mistral" / "tokenizer.json").string());
  EXPECT_EQ(from_folder->encode("Folder or file"), from_file->encode("Folder or file"));
}

TEST(TokenizerEncode, InvalidUtf8IsReadAsReplacementCharacter) {
  LOAD_SHARED_TOKENIZER(tokenizer, "llama3", "tokenizer.json");
  EXPECT_EQ(tokenizer->encode("a\xFF" "b"), tokenizer->encode("a\xEF\xBF\xBD" "b"));
  LOAD_SHARED_TOKENIZER(sentencepiece, "llama2", "tokenizer.model");
  EXPECT_EQ(sentencepiece->encode("a\xC3"), sentencepiece->encode("a\xEF\xBF\xBD"));
}

}  // namespace
