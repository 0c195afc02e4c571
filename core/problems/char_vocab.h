// The character-level vocabulary of the sample models and its HuggingFace tokenizer files: four special
// tokens (<pad> 0, <bos> 1, <eos> 2, <pause> 3), newline 4, then printable ASCII 32..126 as ids 5..99;
// latent models also have <bot> 100 and <eot> 101.
// Written as a tokenizer.json (BPE with single-character tokens and no merges, a Fuse decoder, a
// template that prepends <bos>) that both HF `tokenizers` and capture/tokenizer load. Torch-free.
#pragma once
#include <cstdint>
#include <string>

namespace headscope::problems {

inline constexpr std::int32_t kPadId = 0;
inline constexpr std::int32_t kBosId = 1;
inline constexpr std::int32_t kEosId = 2;
inline constexpr std::int32_t kPauseId = 3;
inline constexpr std::int32_t kCharVocabSize = 100;
// The latent (continuous-thought) sample models add begin- and end-of-thought tokens after the characters.
inline constexpr std::int32_t kBotId = 100;
inline constexpr std::int32_t kEotId = 101;
inline constexpr std::int32_t kThoughtVocabSize = 102;

// tokenizer.json text; with `thought_tokens`, <bot> and <eot> are added tokens 100 and 101.
std::string char_tokenizer_json(bool thought_tokens = false);
std::string char_tokenizer_config_json();  // tokenizer_config.json text (bos/eos/pad names, add_bos_token)

}  // namespace headscope::problems
