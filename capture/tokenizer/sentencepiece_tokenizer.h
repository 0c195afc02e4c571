// A SentencePiece tokenizer.model (Llama-1/2) run through Debian's libsentencepiece, so ids are the
// reference implementation's by construction. libsentencepiece is reached through a dlopen()ed shim
// (spm_shim/spm_shim.h explains the protobuf clash with libtorch). BOS is added for add_specials (EOS
// only when a tokenizer_config.json beside the model asks for it with add_eos_token).
#pragma once
#include <memory>
#include <optional>
#include <string>

#include "capture/tokenizer/tokenizer.h"

struct hs_spm_model;

namespace headscope::tokenizer {

class SentencePieceTokenizer final : public Tokenizer {
 public:
  // Throws TokenizerError naming `path` when the file is not a SentencePiece model.
  SentencePieceTokenizer(const std::string& path, bool add_bos, bool add_eos);
  ~SentencePieceTokenizer() override;
  SentencePieceTokenizer(const SentencePieceTokenizer&) = delete;
  SentencePieceTokenizer& operator=(const SentencePieceTokenizer&) = delete;

  std::vector<std::int32_t> encode(std::string_view text, bool add_specials = false) const override;
  std::string decode(const std::vector<std::int32_t>& ids) const override;
  std::string token_text(std::int32_t id) const override;
  std::int64_t vocab_size() const override;
  std::optional<std::int32_t> bos_id() const override;
  std::optional<std::int32_t> eos_id() const override;

 private:
  std::string path_;
  hs_spm_model* model_ = nullptr;  // owned; released through the shim
  bool add_bos_;
  bool add_eos_;
};

}  // namespace headscope::tokenizer
