// The BPE `model` of a tokenizer.json: vocabulary, ranked merges, and the word encoder. A word's symbols
// (one per character, or its bytes as <0xXX> tokens under byte_fallback) are merged lowest rank first,
// leftmost first among equals, through a priority queue over a linked list of symbols, as HuggingFace
// tokenizers does. Encoded words are cached, so repeated words cost one hash lookup.
#pragma once
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace headscope::tokenizer {

class SpecReader;

class BpeModel {
 public:
  // `spec` is the model member of tokenizer.json. Throws TokenizerError for a malformed vocabulary or
  // merges that name tokens outside it.
  BpeModel(const nlohmann::json& spec, const SpecReader& reader);

  // Appends the ids of one word (already in the vocabulary's alphabet, e.g. byte-level stand-ins).
  void encode_word(std::string_view word, std::vector<std::int32_t>& ids) const;

  std::optional<std::int32_t> id_of(const std::string& token) const;
  const std::string* token_of(std::int32_t id) const;  // nullptr when no token has this id
  std::int64_t max_id() const { return max_id_; }

 private:
  struct Merge {
    std::uint32_t rank;
    std::int32_t merged_id;
  };
  static std::uint64_t pair_key(std::int32_t left, std::int32_t right) {
    return (static_cast<std::uint64_t>(static_cast<std::uint32_t>(left)) << 32) | static_cast<std::uint32_t>(right);
  }
  void load_vocab(const nlohmann::json& vocab, const SpecReader& reader);
  void load_merges(const nlohmann::json& merges, const SpecReader& reader);
  void initial_symbols(std::string_view word, std::vector<std::int32_t>& symbols) const;
  void merge_symbols(std::vector<std::int32_t>& symbols) const;

  std::unordered_map<std::string, std::int32_t> vocab_;
  std::unordered_map<std::int32_t, std::string> token_by_id_;
  std::unordered_map<std::uint64_t, Merge> merges_;  // key: pair_key(left id, right id)
  std::optional<std::int32_t> unk_id_;
  std::string continuing_subword_prefix_;
  std::string end_of_word_suffix_;
  bool fuse_unk_ = false;
  bool byte_fallback_ = false;
  bool ignore_merges_ = false;
  std::int64_t max_id_ = -1;
  std::int32_t byte_token_ids_[256];  // id of "<0xXX>" for each byte, or -1

  mutable std::mutex cache_mutex_;
  mutable std::unordered_map<std::string, std::vector<std::int32_t>> cache_;
};

}  // namespace headscope::tokenizer
