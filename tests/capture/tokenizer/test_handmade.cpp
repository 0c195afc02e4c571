// Tokenizer semantics on tiny handmade tokenizer.json files (tests/fixtures/tokenizers/), so they run
// without ../shared: merge order, added-token matching (lstrip, single_word), byte fallback, unknown-token
// fusing, Metaspace prepend scheme, Split behaviours, BOS from a template, decoding.
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "capture/tokenizer/tokenizer.h"
#include "test_support.h"

namespace {

using headscope::tokenizer::load_tokenizer;
using headscope::tokenizer::load_tokenizer_json_text;
using Ids = std::vector<std::int32_t>;

std::string fixture_path(const std::string& name) { return (headscope::test::fixtures_dir() / "tokenizers" / name).string(); }

nlohmann::json fixture_json(const std::string& name) {
  std::ifstream file(fixture_path(name));
  return nlohmann::json::parse(std::string((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>()));
}

// Byte-level fixture: ids 0..255 are the bytes; merges Ġ t → 256 "Ġt", h e → 257, Ġt he → 258, a a → 259,
// i n → 260, Ġ in → 261; added <|endoftext|> 300, <mask> 301 (lstrip), [word] 302 (single_word).
TEST(HandmadeByteLevel, MergesApplyByRank) {
  const auto tokenizer = load_tokenizer(fixture_path("tiny_bytelevel.json"));
  EXPECT_EQ(tokenizer->encode(" the"), Ids({258}));
  EXPECT_EQ(tokenizer->encode("the"), Ids({'t', 257}));
  EXPECT_EQ(tokenizer->encode("aaa"), Ids({259, 'a'}));  // leftmost pair first among equal ranks
  EXPECT_EQ(tokenizer->encode(" in the"), Ids({261, 258}));
  EXPECT_EQ(tokenizer->encode("x\xC3\xA9"), Ids({'x', 0xC3, 0xA9}));
  EXPECT_EQ(tokenizer->decode({'x', 0xC3, 0xA9, 258}), "x\xC3\xA9 the");
  EXPECT_EQ(tokenizer->token_text(0xC3), "<0xC3>");
  EXPECT_EQ(tokenizer->token_text(258), " the");
  EXPECT_EQ(tokenizer->vocab_size(), 303);
}

TEST(HandmadeByteLevel, AddedTokensSplitBeforeTheModel) {
  const auto tokenizer = load_tokenizer(fixture_path("tiny_bytelevel.json"));
  EXPECT_EQ(tokenizer->encode("a<|endoftext|>b"), Ids({'a', 300, 'b'}));
  EXPECT_EQ(tokenizer->encode("x <mask>"), Ids({'x', 301}));  // lstrip swallows the space
  EXPECT_EQ(tokenizer->encode("x<mask>"), Ids({'x', 301}));
  EXPECT_EQ(tokenizer->encode("[word]"), Ids({302}));
  EXPECT_EQ(tokenizer->encode("a[word]").front(), 'a');
  EXPECT_EQ(tokenizer->encode("a[word]").size(), 7u);  // single_word: not matched inside a word
  EXPECT_EQ(tokenizer->decode({'a', 300}), "a<|endoftext|>");
  EXPECT_EQ(tokenizer->bos_id(), 300);  // <|endoftext|> as in GPT-2
  EXPECT_EQ(tokenizer->encode("a", true), Ids({'a'}));
}

TEST(HandmadeByteLevel, NfcNormalizerComposes) {
  const auto tokenizer = load_tokenizer(fixture_path("tiny_bytelevel.json"));
  EXPECT_EQ(tokenizer->encode("e\xCC\x81"), Ids({0xC3, 0xA9}));
}

TEST(HandmadeByteLevel, IgnoreMergesTakesWholeWordsFromTheVocabulary) {
  nlohmann::json spec = fixture_json("tiny_bytelevel.json");
  spec["model"]["vocab"]["Ġxyz"] = 262;  // unreachable by merges
  const auto with_merges = load_tokenizer_json_text(spec.dump(), "merges.json");
  EXPECT_EQ(with_merges->encode(" xyz"), Ids({32, 'x', 'y', 'z'}));
  spec["model"]["ignore_merges"] = true;
  const auto tokenizer = load_tokenizer_json_text(spec.dump(), "ignore_merges.json");
  EXPECT_EQ(tokenizer->encode(" xyz"), Ids({262}));
  EXPECT_EQ(tokenizer->encode(" the"), Ids({258}));
}

TEST(HandmadeByteLevel, SplitBehaviours) {
  nlohmann::json spec = fixture_json("tiny_bytelevel.json");
  spec["normalizer"] = nullptr;
  auto with_split = [&](const char* behavior, bool invert) {
    spec["pre_tokenizer"]["pretokenizers"][0] = {
        {"type", "Split"}, {"pattern", {{"String", "-"}}}, {"behavior", behavior}, {"invert", invert}};
    return load_tokenizer_json_text(spec.dump(), "split.json")->encode("aa-aa");
  };
  EXPECT_EQ(with_split("Removed", false), Ids({259, 259}));
  EXPECT_EQ(with_split("Isolated", false), Ids({259, '-', 259}));
  EXPECT_EQ(with_split("MergedWithPrevious", false), Ids({259, '-', 259}));
  EXPECT_EQ(with_split("MergedWithNext", false), Ids({259, '-', 259}));
  EXPECT_EQ(with_split("Contiguous", false), Ids({259, '-', 259}));
  EXPECT_EQ(with_split("Removed", true), Ids({'-'}));
}

// Metaspace fixture: <unk> 0, <s> 1, </s> 2, <0x00>.. 3..258, ▁ 259, a 260, b 261, c 262, h 263, i 264,
// ▁a 265, ab 266, ▁ab 267, hi 268, ▁hi 269.
TEST(HandmadeMetaspace, PrefixByteFallbackAndTemplate) {
  const auto tokenizer = load_tokenizer(fixture_path("tiny_metaspace.json"));
  EXPECT_EQ(tokenizer->encode("ab hi"), Ids({267, 269}));
  EXPECT_EQ(tokenizer->encode("ab c"), Ids({267, 259, 262}));
  EXPECT_EQ(tokenizer->encode("\xC3\xA9"), Ids({259, 3 + 0xC3, 3 + 0xA9}));  // é through byte fallback
  EXPECT_EQ(tokenizer->encode("ab", true), Ids({1, 267}));
  EXPECT_EQ(tokenizer->encode("hi<s>hi"), Ids({269, 1, 268}));  // prepend_scheme first: only at the start
  EXPECT_EQ(tokenizer->decode({267, 269}), "ab hi");
  EXPECT_EQ(tokenizer->decode({259, 3 + 0xC3, 3 + 0xA9}), "\xC3\xA9");
  EXPECT_EQ(tokenizer->decode({3 + 0xC3}), "\xEF\xBF\xBD");  // a lone lead byte decodes to U+FFFD
  EXPECT_EQ(tokenizer->token_text(269), " hi");
  EXPECT_EQ(tokenizer->token_text(3 + 0xC3), "<0xC3>");
  EXPECT_EQ(tokenizer->bos_id(), 1);
}

TEST(HandmadeMetaspace, UnknownCharactersFuseIntoOneUnk) {
  nlohmann::json spec = fixture_json("tiny_metaspace.json");
  spec["model"]["byte_fallback"] = false;
  const auto tokenizer = load_tokenizer_json_text(spec.dump(), "unk.json");
  EXPECT_EQ(tokenizer->encode("a\xC3\xA9\xC3\xA9" "b"), Ids({265, 0, 261}));
  spec["model"]["fuse_unk"] = false;
  EXPECT_EQ(load_tokenizer_json_text(spec.dump(), "unk.json")->encode("a\xC3\xA9\xC3\xA9"), Ids({265, 0, 0}));
}

}  // namespace
