// PCRE2 behind the Regex class: compiled once with UTF and UCP (so \s, \p{L}, \w are Unicode-aware), JIT
// where the platform has it, and matched with explicit limits. Text is validated as UTF-8 before it gets
// here, so matching skips PCRE2's own check (which would rescan the rest of the text for every match).
#include "capture/tokenizer/regex.h"

#include <algorithm>
#include <cstdint>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "capture/tokenizer/text_utf8.h"
#include "capture/tokenizer/tokenizer.h"

namespace headscope::tokenizer {

namespace {
constexpr std::uint32_t kMatchLimit = 10'000'000;  // backtracking steps per match attempt
constexpr std::uint32_t kDepthLimit = 10'000;
constexpr std::size_t kHeapLimitKiB = 64 * 1024;

std::string pcre2_message(int error_code) {
  PCRE2_UCHAR buffer[256];
  const int length = pcre2_get_error_message(error_code, buffer, sizeof buffer);
  return length < 0 ? "error " + std::to_string(error_code) : std::string(reinterpret_cast<const char*>(buffer));
}
}  // namespace

struct Regex::Compiled {
  pcre2_code* code = nullptr;
  pcre2_match_context* match_context = nullptr;
  bool jit = false;
  std::string source;

  ~Compiled() {
    pcre2_match_context_free(match_context);
    pcre2_code_free(code);
  }
};

Regex::Regex(const std::string& pattern, bool literal, const std::string& source)
    : compiled_(std::make_unique<Compiled>()) {
  compiled_->source = source;
  if (!utf8::is_valid(pattern)) throw TokenizerError(source + ": a regex pattern is not valid UTF-8");
  const std::uint32_t options = literal ? PCRE2_UTF | PCRE2_NO_UTF_CHECK | PCRE2_LITERAL
                                        : PCRE2_UTF | PCRE2_UCP | PCRE2_NEVER_BACKSLASH_C | PCRE2_NO_UTF_CHECK;
  int error_code = 0;
  PCRE2_SIZE error_offset = 0;
  compiled_->code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(), options,
                                  &error_code, &error_offset, nullptr);
  if (compiled_->code == nullptr) {
    throw TokenizerError(source + ": regex pattern does not compile at offset " + std::to_string(error_offset) +
                         ": " + pcre2_message(error_code));
  }
  compiled_->jit = pcre2_jit_compile(compiled_->code, PCRE2_JIT_COMPLETE) == 0;
  compiled_->match_context = pcre2_match_context_create(nullptr);
  if (compiled_->match_context == nullptr) throw TokenizerError(source + ": out of memory for a regex");
  pcre2_set_match_limit(compiled_->match_context, kMatchLimit);
  pcre2_set_depth_limit(compiled_->match_context, kDepthLimit);
  pcre2_set_heap_limit(compiled_->match_context, kHeapLimitKiB);
}

Regex::~Regex() = default;

std::vector<ByteSpan> Regex::find_all(std::string_view text) const {
  std::vector<ByteSpan> matches;
  std::unique_ptr<pcre2_match_data, decltype(&pcre2_match_data_free)> match_data(
      pcre2_match_data_create_from_pattern(compiled_->code, nullptr), &pcre2_match_data_free);
  if (!match_data) throw TokenizerError(compiled_->source + ": out of memory for regex matching");
  const auto subject = reinterpret_cast<PCRE2_SPTR>(text.data());
  std::size_t start = 0;
  while (start <= text.size()) {
    int rc = pcre2_match(compiled_->code, subject, text.size(), start, PCRE2_NO_UTF_CHECK, match_data.get(),
                         compiled_->match_context);
    if (rc == PCRE2_ERROR_JIT_STACKLIMIT) {  // deep pattern: the interpreter has no small fixed stack
      rc = pcre2_match(compiled_->code, subject, text.size(), start, PCRE2_NO_UTF_CHECK | PCRE2_NO_JIT,
                       match_data.get(), compiled_->match_context);
    }
    if (rc == PCRE2_ERROR_NOMATCH) break;
    if (rc < 0) throw TokenizerError(compiled_->source + ": regex matching failed: " + pcre2_message(rc));
    const PCRE2_SIZE* ovector = pcre2_get_ovector_pointer(match_data.get());
    const std::size_t begin = ovector[0];
    const std::size_t end = ovector[1];
    if (end > begin && begin >= start) {
      matches.push_back({begin, end});
      start = end;
      continue;
    }
    // An empty match (or a \K oddity): step one character on so the search always progresses.
    const std::size_t resume = std::max(start, end);
    if (resume >= text.size()) break;
    const std::size_t step = utf8::valid_sequence_length(text, resume);
    start = resume + (step == 0 ? 1 : step);
  }
  return matches;
}

}  // namespace headscope::tokenizer
