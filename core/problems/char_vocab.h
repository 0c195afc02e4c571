// The character-level vocabulary of the sample models and its HuggingFace tokenizer files: four special
// tokens (<pad> 0, <bos> 1, <eos> 2, <pause> 3), newline 4, then printable ASCII 32..126 as ids 5..99.
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

std::string char_tokenizer_json();         // tokenizer.json text
std::string char_tokenizer_config_json();  // tokenizer_config.json text (bos/eos/pad names, add_bos_token)

}  // namespace headscope::problems
