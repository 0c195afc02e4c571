// The `decoder` of a tokenizer.json: turns token strings back into bytes. Supports ByteLevel, Metaspace,
// Replace, ByteFallback, Fuse, Strip and Sequence. For the display of a single token the steps that drop
// a leading space (Strip, Metaspace's prefix) are skipped, so `▁the` shows as " the".
#pragma once
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace headscope::tokenizer {

class SpecReader;

class Decoder {
 public:
  // `spec` is the decoder member (null: tokens joined by spaces, as HuggingFace does without a decoder).
  Decoder(const nlohmann::json& spec, const SpecReader& reader);
  ~Decoder();
  Decoder(const Decoder&) = delete;
  Decoder& operator=(const Decoder&) = delete;

  // Raw bytes of the decoded text; they may be invalid UTF-8 (a partial multi-byte character).
  std::string decode(std::vector<std::string> tokens, bool single_token_display) const;

  struct Step;

 private:
  std::vector<std::unique_ptr<Step>> steps_;
  bool has_decoder_ = false;
};

}  // namespace headscope::tokenizer
