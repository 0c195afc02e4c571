// BpeModel: loading the vocabulary and merges of a tokenizer.json BPE model, and the merge loop.
#include "capture/tokenizer/bpe_model.h"

#include <cstdio>
#include <functional>
#include <queue>

#include <nlohmann/json.hpp>

#include "capture/tokenizer/spec_reader.h"
#include "capture/tokenizer/text_utf8.h"
#include "capture/tokenizer/tokenizer.h"

namespace headscope::tokenizer {

namespace {
constexpr std::size_t kCachedWordMaxBytes = 256;
constexpr std::size_t kCacheMaxWords = 200'000;

std::string quote_token(const std::string& token) { return "'" + utf8::escape_invalid(token) + "'"; }
}  // namespace

BpeModel::BpeModel(const nlohmann::json& spec, const SpecReader& reader) {
  reader.expect_object(spec, "model");
  const std::string type = reader.string_or(spec, "type", "BPE", "model");
  if (type != "BPE") reader.fail("model.type", "unsupported model type '" + type + "' (HeadScope reads BPE models)");
  continuing_subword_prefix_ = reader.string_or(spec, "continuing_subword_prefix", "", "model");
  end_of_word_suffix_ = reader.string_or(spec, "end_of_word_suffix", "", "model");
  fuse_unk_ = reader.bool_or(spec, "fuse_unk", false, "model");
  byte_fallback_ = reader.bool_or(spec, "byte_fallback", false, "model");
  ignore_merges_ = reader.bool_or(spec, "ignore_merges", false, "model");
  if (const nlohmann::json* dropout = reader.find(spec, "dropout", "model")) {
    if (!dropout->is_number()) reader.fail("model.dropout", "expected a number or null");
    // Dropout is a training-time regulariser; encoding here is always deterministic.
  }
  load_vocab(reader.require(spec, "vocab", "model"), reader);
  load_merges(reader.require(spec, "merges", "model"), reader);
  if (const nlohmann::json* unk = reader.find(spec, "unk_token", "model")) {
    const std::string unk_token = reader.as_string(*unk, "model.unk_token");
    unk_id_ = id_of(unk_token);
    if (!unk_id_) reader.fail("model.unk_token", "token " + quote_token(unk_token) + " is not in model.vocab");
  }
  for (int byte = 0; byte < 256; ++byte) {
    char name[8];
    std::snprintf(name, sizeof name, "<0x%02X>", byte);
    byte_token_ids_[byte] = id_of(name).value_or(-1);
  }
}

void BpeModel::load_vocab(const nlohmann::json& vocab, const SpecReader& reader) {
  reader.expect_object(vocab, "model.vocab");
  vocab_.reserve(vocab.size());
  token_by_id_.reserve(vocab.size());
  for (auto it = vocab.begin(); it != vocab.end(); ++it) {
    const std::int32_t id = reader.token_id(it.value(), "model.vocab[" + quote_token(it.key()) + "]");
    vocab_.emplace(it.key(), id);
    token_by_id_.emplace(id, it.key());
    if (id > max_id_) max_id_ = id;
  }
}

void BpeModel::load_merges(const nlohmann::json& merges, const SpecReader& reader) {
  reader.expect_array(merges, "model.merges");
  merges_.reserve(merges.size());
  const std::size_t prefix_length = continuing_subword_prefix_.size();
  for (std::size_t rank = 0; rank < merges.size(); ++rank) {
    const nlohmann::json& entry = merges[rank];
    const std::string where = "model.merges[" + std::to_string(rank) + "]";
    std::string left;
    std::string right;
    if (entry.is_string()) {
      const std::string text = entry.get<std::string>();
      const std::size_t space = text.find(' ');
      if (space == std::string::npos || text.find(' ', space + 1) != std::string::npos)
        reader.fail(where, "expected \"left right\" with exactly one space, found " + quote_token(text));
      left = text.substr(0, space);
      right = text.substr(space + 1);
    } else if (entry.is_array() && entry.size() == 2 && entry[0].is_string() && entry[1].is_string()) {
      left = entry[0].get<std::string>();
      right = entry[1].get<std::string>();
    } else {
      reader.fail(where, "expected a string \"left right\" or a [left, right] pair of strings");
    }
    const std::optional<std::int32_t> left_id = id_of(left);
    const std::optional<std::int32_t> right_id = id_of(right);
    if (!left_id) reader.fail(where, "token " + quote_token(left) + " is not in model.vocab");
    if (!right_id) reader.fail(where, "token " + quote_token(right) + " is not in model.vocab");
    if (right.compare(0, prefix_length, continuing_subword_prefix_) != 0)
      reader.fail(where, "token " + quote_token(right) + " lacks the continuing_subword_prefix");
    const std::string merged = left + right.substr(prefix_length);
    const std::optional<std::int32_t> merged_id = id_of(merged);
    if (!merged_id) reader.fail(where, "merged token " + quote_token(merged) + " is not in model.vocab");
    merges_[pair_key(*left_id, *right_id)] = Merge{static_cast<std::uint32_t>(rank), *merged_id};
  }
}

std::optional<std::int32_t> BpeModel::id_of(const std::string& token) const {
  auto it = vocab_.find(token);
  if (it == vocab_.end()) return std::nullopt;
  return it->second;
}

const std::string* BpeModel::token_of(std::int32_t id) const {
  auto it = token_by_id_.find(id);
  return it == token_by_id_.end() ? nullptr : &it->second;
}

void BpeModel::initial_symbols(std::string_view word, std::vector<std::int32_t>& symbols) const {
  bool last_was_unk = false;
  std::string piece;
  for (std::size_t pos = 0; pos < word.size();) {
    std::size_t length = utf8::valid_sequence_length(word, pos);
    if (length == 0) length = 1;
    const std::size_t next = pos + length;
    piece.clear();
    if (pos > 0) piece += continuing_subword_prefix_;
    piece.append(word.substr(pos, length));
    if (next == word.size()) piece += end_of_word_suffix_;
    if (auto it = vocab_.find(piece); it != vocab_.end()) {
      symbols.push_back(it->second);
      last_was_unk = false;
    } else {
      bool all_bytes_known = byte_fallback_;
      for (std::size_t i = pos; all_bytes_known && i < next; ++i)
        all_bytes_known = byte_token_ids_[static_cast<unsigned char>(word[i])] >= 0;
      if (all_bytes_known) {
        for (std::size_t i = pos; i < next; ++i) symbols.push_back(byte_token_ids_[static_cast<unsigned char>(word[i])]);
        last_was_unk = false;
      } else if (unk_id_) {
        if (!(fuse_unk_ && last_was_unk)) symbols.push_back(*unk_id_);
        last_was_unk = true;
      }
      // Without byte fallback or an unknown token the character is dropped, as HuggingFace does.
    }
    pos = next;
  }
}

void BpeModel::merge_symbols(std::vector<std::int32_t>& symbols) const {
  if (symbols.size() < 2 || merges_.empty()) return;
  const int count = static_cast<int>(symbols.size());
  std::vector<int> previous(symbols.size());
  std::vector<int> next(symbols.size());
  std::vector<bool> alive(symbols.size(), true);
  for (int i = 0; i < count; ++i) {
    previous[i] = i - 1;
    next[i] = i + 1 < count ? i + 1 : -1;
  }
  struct Candidate {
    std::uint32_t rank;
    int position;  // index of the left symbol
    std::int32_t merged_id;
    bool operator>(const Candidate& other) const {
      return rank != other.rank ? rank > other.rank : position > other.position;
    }
  };
  std::priority_queue<Candidate, std::vector<Candidate>, std::greater<Candidate>> queue;
  const auto consider = [&](int left) {
    if (left < 0 || next[left] < 0) return;
    auto it = merges_.find(pair_key(symbols[left], symbols[next[left]]));
    if (it != merges_.end()) queue.push({it->second.rank, left, it->second.merged_id});
  };
  for (int i = 0; i + 1 < count; ++i) consider(i);
  while (!queue.empty()) {
    const Candidate top = queue.top();
    queue.pop();
    const int left = top.position;
    if (!alive[left] || next[left] < 0) continue;
    const int right = next[left];
    auto it = merges_.find(pair_key(symbols[left], symbols[right]));
    if (it == merges_.end() || it->second.merged_id != top.merged_id) continue;  // stale candidate
    symbols[left] = top.merged_id;
    alive[right] = false;
    next[left] = next[right];
    if (next[right] >= 0) previous[next[right]] = left;
    consider(previous[left]);
    consider(left);
  }
  std::size_t kept = 0;
  for (int i = 0; i < count; ++i)
    if (alive[i]) symbols[kept++] = symbols[i];
  symbols.resize(kept);
}

void BpeModel::encode_word(std::string_view word, std::vector<std::int32_t>& ids) const {
  if (word.empty()) return;
  if (ignore_merges_) {
    if (auto it = vocab_.find(std::string(word)); it != vocab_.end()) {
      ids.push_back(it->second);
      return;
    }
  }
  const bool cacheable = word.size() <= kCachedWordMaxBytes;
  std::string key;
  if (cacheable) {
    key.assign(word);
    std::lock_guard<std::mutex> lock(cache_mutex_);
    if (auto it = cache_.find(key); it != cache_.end()) {
      ids.insert(ids.end(), it->second.begin(), it->second.end());
      return;
    }
  }
  std::vector<std::int32_t> symbols;
  symbols.reserve(word.size());
  initial_symbols(word, symbols);
  merge_symbols(symbols);
  ids.insert(ids.end(), symbols.begin(), symbols.end());
  if (cacheable) {
    std::lock_guard<std::mutex> lock(cache_mutex_);
    if (cache_.size() >= kCacheMaxWords) cache_.clear();
    cache_.emplace(std::move(key), std::move(symbols));
  }
}

}  // namespace headscope::tokenizer
