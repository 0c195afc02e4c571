// Exact tokenizers for the checkpoints HeadScope captures: HuggingFace tokenizer.json (byte-level BPE as
// in GPT-2, Llama-3 and Qwen; SentencePiece-style BPE with byte fallback as in Mistral) and SentencePiece
// tokenizer.model files (Llama-2). Ids match the reference implementations exactly (tests/capture/tokenizer).
// No libtorch here: the capture engine, the CLI and the viewer (token labels) all use this header.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace headscope::tokenizer {

// Every load or encode failure; the message names the file and what was wrong with it.
class TokenizerError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;

  // Token ids of `text` (UTF-8; invalid bytes are read as U+FFFD). With `add_specials`, the BOS token
  // (and EOS where the tokenizer's post-processor or tokenizer_config.json asks for it) is added, as
  // HuggingFace's `tokenizer(text)` would for a prompt.
  virtual std::vector<std::int32_t> encode(std::string_view text, bool add_specials = false) const = 0;

  // Text of a whole id sequence, as the tokenizer's decoder gives it (special tokens kept, ids that name
  // no token skipped, invalid UTF-8 shown as U+FFFD).
  virtual std::string decode(const std::vector<std::int32_t>& ids) const = 0;

  // Display text of ONE token: bytes decoded, `▁` and byte-level `Ġ` shown as a space, bytes that are not
  // valid UTF-8 on their own shown as e.g. `<0xE2>`. Throws TokenizerError for an id that names no token.
  virtual std::string token_text(std::int32_t id) const = 0;

  // One past the largest token id (model vocabulary and added tokens together).
  virtual std::int64_t vocab_size() const = 0;
  virtual std::optional<std::int32_t> bos_id() const = 0;
  virtual std::optional<std::int32_t> eos_id() const = 0;
};

// path: a tokenizer.json, a tokenizer.model, or a checkpoint folder holding one of them (tokenizer.json
// preferred). A tokenizer_config.json beside the file supplies BOS/EOS when present.
std::unique_ptr<Tokenizer> load_tokenizer(const std::string& path);

// The one place a checkpoint folder's tokenizer is found: its tokenizer.json, else its tokenizer.model;
// "" when it holds neither (or `folder` is not a folder).
std::string find_tokenizer_file(const std::string& folder);
// The tokenizer of a checkpoint folder (as found above), or null when the folder holds none.
std::unique_ptr<Tokenizer> load_model_tokenizer(const std::string& folder);

// The same from the text of a tokenizer.json already in memory; `source_name` stands for the file in
// error messages. Used by the fuzzer and by tests of malformed files.
std::unique_ptr<Tokenizer> load_tokenizer_json_text(std::string_view json_text, const std::string& source_name);

}  // namespace headscope::tokenizer
