// `headscope problems`: a JSONL prompt set of arithmetic word problems (arith_problems.h), levels in turn
// (so each level gets count / levels problems), ids "<split>-s<seed>-L<level>-<n>". The same seed and
// levels give the same problems in every format, so a chain file and its prompt-only twin line up. And
// the character-level tokenizer files the sample models use (char_vocab.h) written into a folder.
#pragma once
#include <cstdint>
#include <string>

namespace headscope::problems {

struct ProblemSetOptions {
  std::uint64_t seed = 0;
  int count = 100;
  std::string levels = "1-5";      // a level or a range within 1-5
  std::string split = "heldout";   // train, heldout or all
  std::string format = "chain";    // chain, prompt_only, pause or pause_prompt
  int pause_count = 6;             // pause tokens in the pause formats
};

// Writes the set to `path`. Throws std::runtime_error naming the option or the file.
void write_problem_set(const std::string& path, const ProblemSetOptions& options);
// Writes tokenizer.json and tokenizer_config.json of the character vocabulary into `folder` (created).
void write_char_tokenizer_files(const std::string& folder, bool thought_tokens = false);

}  // namespace headscope::problems
