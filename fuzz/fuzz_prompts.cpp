// libFuzzer target: the JSONL prompt-set reader (core/io/prompt_set.h) on arbitrary bytes written to a
// scratch file. Every line must parse into a record whose spans lie inside its text, or raise
// PromptSetError naming the file and line; never crash or hang.
//   build-fuzz/fuzz/fuzz_prompts -dict=fuzz/prompts.dict build-fuzz/corpus-prompts fuzz/corpus/prompts
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

#include "core/io/prompt_set.h"
#include "fuzz/scratch_file.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::string path = headscope::fuzz::scratch_path("prompts", ".jsonl");
  if (!headscope::fuzz::write_scratch(path, data, size)) return 0;
  try {
    headscope::io::PromptReader reader(path);
    std::int64_t records = 0;
    while (auto record = reader.next()) {
      ++records;
      for (const auto& span : record->spans)
        if (span.start < 0 || span.end <= span.start ||
            (!record->text.empty() && span.end > static_cast<std::int64_t>(record->text.size())))
          __builtin_trap();  // a span outside its text slipped through
    }
    if (records > headscope::io::count_prompts(path)) __builtin_trap();  // the two passes disagree
  } catch (const headscope::io::PromptSetError&) {
  }
  return 0;
}
