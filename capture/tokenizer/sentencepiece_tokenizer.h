// A SentencePiece tokenizer.model (Llama-1/2) run through Debian's libsentencepiece, so ids are the
// reference implementation's by construction. BOS is added for add_specials (EOS only when a
// tokenizer_config.json beside the model asks for it with add_eos_token).
#pragma once
#include <memory>
#include <optional>
#include <string>

#include "capture/tokenizer/tokenizer.h"

namespace sentencepiece {
class SentencePieceProcessor;
}

namespace headscope::tokenizer {

class SentencePieceTokenizer final : public Tokenizer {
 public:
  // Throws TokenizerError naming `path` when the file is not a SentencePiece model.
  SentencePieceTokenizer(const std::string& path, bool add_bos, bool add_eos);
  ~SentencePieceTokenizer() override;

  std::vector<std::int32_t> encode(std::string_view text, bool add_specials = false) const override;
  std::string decode(const std::vector<std::int32_t>& ids) const override;
  std::string token_text(std::int32_t id) const override;
  std::int64_t vocab_size() const override;
  std::optional<std::int32_t> bos_id() const override;
  std::optional<std::int32_t> eos_id() const override;

 private:
  std::string path_;
  std::unique_ptr<sentencepiece::SentencePieceProcessor> processor_;
  bool add_bos_;
  bool add_eos_;
};

}  // namespace headscope::tokenizer
