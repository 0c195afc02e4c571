// HfTokenizer: the encode/decode pipeline of a tokenizer.json and its special-token rules.
//
// BOS/EOS for encode(..., add_specials=true), in order of precedence:
//   1. tokenizer_config.json's add_bos_token / add_eos_token, when present (transformers rebuilds the
//      post-processor from them for Llama-family tokenizers);
//   2. the post-processor's single-sequence template (TemplateProcessing, Bert/RobertaProcessing);
//   3. otherwise BOS is prepended when the tokenizer has one distinct from EOS (Llama-3's files carry a
//      ByteLevel post-processor, yet the model expects <|begin_of_text|>; GPT-2's BOS is its EOS).
#include "capture/tokenizer/hf_tokenizer.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "capture/tokenizer/byte_level.h"
#include "capture/tokenizer/text_utf8.h"

namespace headscope::tokenizer {

namespace {

const nlohmann::json& member_or_null(const nlohmann::json& object, const char* key, const SpecReader& reader,
                                     const std::string& where) {
  static const nlohmann::json null_value;
  const nlohmann::json* value = reader.find(object, key, where);
  return value == nullptr ? null_value : *value;
}

// A token named in tokenizer_config.json: a string, or an object with "content".
std::optional<std::string> config_token_name(const nlohmann::json& value, const SpecReader& reader,
                                             const std::string& where) {
  if (value.is_null()) return std::nullopt;
  if (value.is_string()) return value.get<std::string>();
  if (value.is_object()) return reader.string_member(value, "content", where);
  reader.fail(where, "expected a token string, an object with \"content\", or null");
}

}  // namespace

HfTokenizer::HfTokenizer(const nlohmann::json& root, const SpecReader& reader, const nlohmann::json& config,
                         const SpecReader& config_reader)
    : source_(reader.source()),
      normalizer_(member_or_null(root, "normalizer", reader, ""), reader),
      pre_tokenizer_(member_or_null(root, "pre_tokenizer", reader, ""), reader),
      model_(reader.require(root, "model", ""), reader),
      decoder_(member_or_null(root, "decoder", reader, ""), reader) {
  load_added_tokens(root, reader);
  load_post_processor(member_or_null(root, "post_processor", reader, ""), reader, "post_processor", 0);
  resolve_specials(config, config_reader);
  vocab_size_ = model_.max_id() + 1;
  for (const AddedToken& token : added_tokens_) vocab_size_ = std::max<std::int64_t>(vocab_size_, token.id + std::int64_t{1});
}

void HfTokenizer::load_added_tokens(const nlohmann::json& root, const SpecReader& reader) {
  const nlohmann::json& list = member_or_null(root, "added_tokens", reader, "");
  if (list.is_null()) return;
  reader.expect_array(list, "added_tokens");
  std::vector<AddedToken> raw;
  std::vector<AddedToken> normalized;
  for (std::size_t i = 0; i < list.size(); ++i) {
    const std::string where = "added_tokens[" + std::to_string(i) + "]";
    AddedToken token;
    token.id = reader.token_id(reader.require(list[i], "id", where), member_path(where, "id"));
    token.content = reader.string_member(list[i], "content", where);
    if (token.content.empty()) reader.fail(member_path(where, "content"), "must not be empty");
    token.special = reader.bool_or(list[i], "special", false, where);
    token.lstrip = reader.bool_or(list[i], "lstrip", false, where);
    token.rstrip = reader.bool_or(list[i], "rstrip", false, where);
    token.single_word = reader.bool_or(list[i], "single_word", false, where);
    token.normalized = reader.bool_or(list[i], "normalized", !token.special, where);
    added_index_by_id_[token.id] = added_tokens_.size();
    added_tokens_.push_back(token);
    if (token.normalized) {
      token.content = normalizer_.apply(token.content);
      if (!token.content.empty()) normalized.push_back(token);
    } else {
      raw.push_back(token);
    }
  }
  raw_matcher_ = AddedTokenMatcher(raw);
  normalized_matcher_ = AddedTokenMatcher(normalized);
}

std::optional<std::int32_t> HfTokenizer::id_of_token(const std::string& token) const {
  for (const AddedToken& added : added_tokens_)
    if (added.content == token) return added.id;
  return model_.id_of(token);
}

void HfTokenizer::load_post_processor(const nlohmann::json& spec, const SpecReader& reader, const std::string& where,
                                      int depth) {
  if (spec.is_null()) return;
  if (depth > 16) reader.fail(where, "post-processors nested too deeply");
  const std::string type = reader.string_member(spec, "type", where);
  if (type == "ByteLevel") return;  // offsets only
  if (type == "Sequence") {
    const nlohmann::json& list = reader.require(spec, "processors", where);
    reader.expect_array(list, member_path(where, "processors"));
    for (std::size_t i = 0; i < list.size(); ++i)
      load_post_processor(list[i], reader, where + ".processors[" + std::to_string(i) + "]", depth + 1);
    return;
  }
  if (type == "BertProcessing" || type == "RobertaProcessing") {
    const auto pair_id = [&](const char* key) {
      const nlohmann::json& pair = reader.require(spec, key, where);
      if (!pair.is_array() || pair.size() != 2) reader.fail(member_path(where, key), "expected [token, id]");
      return reader.token_id(pair[1], member_path(where, key) + "[1]");
    };
    template_prefix_ = {pair_id("cls")};
    template_suffix_ = {pair_id("sep")};
    has_template_ = true;
    return;
  }
  if (type != "TemplateProcessing") reader.fail(member_path(where, "type"), "unsupported post_processor type '" + type + "'");
  const nlohmann::json& single = reader.require(spec, "single", where);
  reader.expect_array(single, member_path(where, "single"));
  const nlohmann::json& special_tokens = member_or_null(spec, "special_tokens", reader, where);
  std::vector<std::int32_t> prefix;
  std::vector<std::int32_t> suffix;
  bool seen_sequence = false;
  for (std::size_t i = 0; i < single.size(); ++i) {
    const std::string item_where = where + ".single[" + std::to_string(i) + "]";
    if (reader.find(single[i], "Sequence", item_where) != nullptr) {
      seen_sequence = true;
      continue;
    }
    const nlohmann::json& special = reader.require(single[i], "SpecialToken", item_where);
    const std::string name = reader.string_member(special, "id", member_path(item_where, "SpecialToken"));
    const nlohmann::json* entry = special_tokens.is_null() ? nullptr : reader.find(special_tokens, name.c_str(),
                                                                                   member_path(where, "special_tokens"));
    if (entry == nullptr) reader.fail(item_where, "special token '" + name + "' is not listed in special_tokens");
    const std::string entry_where = member_path(where, "special_tokens") + "['" + name + "']";
    const nlohmann::json& ids = reader.require(*entry, "ids", entry_where);
    reader.expect_array(ids, member_path(entry_where, "ids"));
    for (std::size_t k = 0; k < ids.size(); ++k)
      (seen_sequence ? suffix : prefix).push_back(reader.token_id(ids[k], member_path(entry_where, "ids") + "[" + std::to_string(k) + "]"));
  }
  template_prefix_ = std::move(prefix);
  template_suffix_ = std::move(suffix);
  has_template_ = true;
}

void HfTokenizer::resolve_specials(const nlohmann::json& config, const SpecReader& config_reader) {
  std::optional<bool> add_bos;
  std::optional<bool> add_eos;
  bool bos_named = false;
  bool eos_named = false;
  if (config.is_object()) {
    const auto named_token = [&](const char* key, std::optional<std::int32_t>& id) {
      auto it = config.find(key);
      if (it == config.end()) return false;
      if (const std::optional<std::string> name = config_token_name(*it, config_reader, key)) id = id_of_token(*name);
      return true;
    };
    bos_named = named_token("bos_token", bos_id_);
    eos_named = named_token("eos_token", eos_id_);
    if (config.contains("add_bos_token")) add_bos = config_reader.bool_or(config, "add_bos_token", false, "");
    if (config.contains("add_eos_token")) add_eos = config_reader.bool_or(config, "add_eos_token", false, "");
  }
  if (!bos_named && !template_prefix_.empty()) bos_id_ = template_prefix_.front();
  if (!eos_named && !template_suffix_.empty()) eos_id_ = template_suffix_.front();
  if (!bos_named && !eos_named && !has_template_) {
    if (const auto end_of_text = id_of_token("<|endoftext|>")) {  // GPT-2 family: one token for both
      bos_id_ = end_of_text;
      eos_id_ = end_of_text;
    }
  }
  if (add_bos || add_eos || !has_template_) {
    const bool want_bos = add_bos.value_or(!has_template_ && bos_id_ && bos_id_ != eos_id_);
    const bool want_eos = add_eos.value_or(false);
    if (want_bos && bos_id_) special_prefix_ = {*bos_id_};
    if (want_eos && eos_id_) special_suffix_ = {*eos_id_};
  } else {
    special_prefix_ = template_prefix_;
    special_suffix_ = template_suffix_;
  }
}

void HfTokenizer::encode_normalized_segment(std::string_view segment, bool at_text_start,
                                            std::vector<std::int32_t>& ids) const {
  for (const std::string& word : pre_tokenizer_.split(segment, at_text_start)) {
    if (pre_tokenizer_.byte_level()) model_.encode_word(byte_level::bytes_to_chars(word), ids);
    else model_.encode_word(word, ids);
  }
}

std::vector<std::int32_t> HfTokenizer::encode(std::string_view text, bool add_specials) const {
  const std::string valid_text = utf8::replace_invalid(text);
  std::vector<std::int32_t> ids;
  if (add_specials) ids = special_prefix_;
  const std::string_view input(valid_text);
  for (const TextSegment& raw_segment : raw_matcher_.split(input)) {
    if (raw_segment.token_id) {
      ids.push_back(*raw_segment.token_id);
      continue;
    }
    if (raw_segment.text.empty()) continue;
    const bool segment_at_start = raw_segment.text.data() == input.data();
    const std::string normalized = normalizer_.apply(raw_segment.text);
    for (const TextSegment& segment : normalized_matcher_.split(normalized)) {
      if (segment.token_id) ids.push_back(*segment.token_id);
      else if (!segment.text.empty())
        encode_normalized_segment(segment.text, segment_at_start && segment.text.data() == normalized.data(), ids);
    }
  }
  if (add_specials) ids.insert(ids.end(), special_suffix_.begin(), special_suffix_.end());
  return ids;
}

std::string HfTokenizer::decode(const std::vector<std::int32_t>& ids) const {
  std::vector<std::string> tokens;
  tokens.reserve(ids.size());
  for (std::int32_t id : ids) {
    if (auto it = added_index_by_id_.find(id); it != added_index_by_id_.end()) tokens.push_back(added_tokens_[it->second].content);
    else if (const std::string* token = model_.token_of(id)) tokens.push_back(*token);
  }
  return utf8::replace_invalid(decoder_.decode(std::move(tokens), false));
}

std::string HfTokenizer::token_text(std::int32_t id) const {
  if (auto it = added_index_by_id_.find(id); it != added_index_by_id_.end()) return added_tokens_[it->second].content;
  const std::string* token = model_.token_of(id);
  if (token == nullptr) throw TokenizerError(source_ + ": no token has id " + std::to_string(id));
  return utf8::escape_invalid(decoder_.decode({*token}, true));
}

}  // namespace headscope::tokenizer
