// A tokenizer defined by a HuggingFace tokenizer.json: added tokens → normalizer → pre-tokenizer → BPE
// model, then BOS/EOS from the post-processor or tokenizer_config.json; decoding through the file's decoder.
#pragma once
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "capture/tokenizer/added_tokens.h"
#include "capture/tokenizer/bpe_model.h"
#include "capture/tokenizer/decoder.h"
#include "capture/tokenizer/normalizer.h"
#include "capture/tokenizer/pre_tokenizer.h"
#include "capture/tokenizer/spec_reader.h"
#include "capture/tokenizer/tokenizer.h"

namespace headscope::tokenizer {

class HfTokenizer final : public Tokenizer {
 public:
  // `root`: the parsed tokenizer.json; `config`: the parsed tokenizer_config.json beside it, or null.
  // Throws TokenizerError naming `reader.source()` (or the config file) for anything malformed.
  HfTokenizer(const nlohmann::json& root, const SpecReader& reader, const nlohmann::json& config,
              const SpecReader& config_reader);

  std::vector<std::int32_t> encode(std::string_view text, bool add_specials = false) const override;
  std::string decode(const std::vector<std::int32_t>& ids) const override;
  std::string token_text(std::int32_t id) const override;
  std::int64_t vocab_size() const override { return vocab_size_; }
  std::optional<std::int32_t> bos_id() const override { return bos_id_; }
  std::optional<std::int32_t> eos_id() const override { return eos_id_; }

 private:
  void load_added_tokens(const nlohmann::json& root, const SpecReader& reader);
  void load_post_processor(const nlohmann::json& spec, const SpecReader& reader, const std::string& where, int depth);
  void resolve_specials(const nlohmann::json& config, const SpecReader& config_reader);
  std::optional<std::int32_t> id_of_token(const std::string& token) const;
  void encode_normalized_segment(std::string_view segment, bool at_text_start, std::vector<std::int32_t>& ids) const;

  std::string source_;
  Normalizer normalizer_;
  PreTokenizer pre_tokenizer_;
  BpeModel model_;
  Decoder decoder_;
  std::vector<AddedToken> added_tokens_;
  std::unordered_map<std::int32_t, std::size_t> added_index_by_id_;
  AddedTokenMatcher raw_matcher_;         // added tokens with normalized=false, matched before normalisation
  AddedTokenMatcher normalized_matcher_;  // the others, matched on normalized text
  std::vector<std::int32_t> template_prefix_;  // from the post-processor's single-sequence template
  std::vector<std::int32_t> template_suffix_;
  bool has_template_ = false;
  std::vector<std::int32_t> special_prefix_;  // what encode(..., add_specials=true) adds
  std::vector<std::int32_t> special_suffix_;
  std::optional<std::int32_t> bos_id_;
  std::optional<std::int32_t> eos_id_;
  std::int64_t vocab_size_ = 0;
};

}  // namespace headscope::tokenizer
