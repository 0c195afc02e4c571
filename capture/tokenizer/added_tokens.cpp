// AddedTokenMatcher: a scan for the leftmost-longest added token with HuggingFace's strip and
// single-word rules. Added tokens are few (hundreds at most) and mostly start with '<', so candidates are
// grouped by first byte and most positions cost one lookup.
#include "capture/tokenizer/added_tokens.h"

#include <algorithm>

#include <utf8proc.h>

#include "capture/tokenizer/text_utf8.h"

namespace headscope::tokenizer {

namespace {

// The code point that ends just before `end` (valid UTF-8 assumed), or 0 at the start.
char32_t code_point_before(std::string_view text, std::size_t end) {
  if (end == 0) return 0;
  std::size_t start = end - 1;
  while (start > 0 && (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80) --start;
  if (utf8::valid_sequence_length(text, start) != end - start) return 0xFFFD;
  return utf8::next_code_point(text, start);
}

char32_t code_point_at(std::string_view text, std::size_t pos) {
  if (pos >= text.size() || utf8::valid_sequence_length(text, pos) == 0) return 0;
  return utf8::next_code_point(text, pos);
}

bool is_word_char(char32_t cp) {
  if (cp == '_') return true;
  const utf8proc_category_t category = utf8proc_category(static_cast<utf8proc_int32_t>(cp));
  return (category >= UTF8PROC_CATEGORY_LU && category <= UTF8PROC_CATEGORY_LO) ||
         (category >= UTF8PROC_CATEGORY_ND && category <= UTF8PROC_CATEGORY_NO);
}

bool is_space(char32_t cp) {
  if (cp == ' ' || (cp >= '\t' && cp <= '\r') || cp == 0x85) return true;
  const utf8proc_category_t category = utf8proc_category(static_cast<utf8proc_int32_t>(cp));
  return category == UTF8PROC_CATEGORY_ZS || category == UTF8PROC_CATEGORY_ZL || category == UTF8PROC_CATEGORY_ZP;
}

}  // namespace

AddedTokenMatcher::AddedTokenMatcher(const std::vector<AddedToken>& tokens) {
  for (const AddedToken& token : tokens) {
    if (token.content.empty()) continue;
    by_first_byte_[static_cast<unsigned char>(token.content[0])].push_back(
        {token.content, token.id, token.lstrip, token.rstrip, token.single_word});
  }
  for (auto& entry : by_first_byte_) {
    std::stable_sort(entry.second.begin(), entry.second.end(),
                     [](const Candidate& a, const Candidate& b) { return a.content.size() > b.content.size(); });
  }
}

std::vector<TextSegment> AddedTokenMatcher::split(std::string_view text) const {
  std::vector<TextSegment> segments;
  std::size_t plain_start = 0;  // start of the plain text not yet emitted
  std::size_t pos = 0;
  while (pos < text.size()) {
    auto group = by_first_byte_.find(static_cast<unsigned char>(text[pos]));
    const Candidate* found = nullptr;
    if (group != by_first_byte_.end()) {
      for (const Candidate& candidate : group->second) {
        if (text.compare(pos, candidate.content.size(), candidate.content) != 0) continue;
        const std::size_t end = pos + candidate.content.size();
        if (candidate.single_word &&
            (is_word_char(code_point_before(text, pos)) || is_word_char(code_point_at(text, end))))
          continue;
        found = &candidate;
        break;
      }
    }
    if (found == nullptr) {
      ++pos;
      continue;
    }
    std::size_t match_begin = pos;
    std::size_t match_end = pos + found->content.size();
    if (found->lstrip) {
      while (match_begin > plain_start && is_space(code_point_before(text, match_begin))) {
        do --match_begin;
        while (match_begin > plain_start && (static_cast<unsigned char>(text[match_begin]) & 0xC0) == 0x80);
      }
    }
    if (found->rstrip) {
      while (match_end < text.size() && is_space(code_point_at(text, match_end)))
        match_end += std::max<std::size_t>(1, utf8::valid_sequence_length(text, match_end));
    }
    if (match_begin > plain_start) segments.push_back({text.substr(plain_start, match_begin - plain_start), std::nullopt});
    segments.push_back({std::string_view(), found->id});
    pos = plain_start = match_end;
  }
  if (plain_start < text.size() || segments.empty()) segments.push_back({text.substr(plain_start), std::nullopt});
  return segments;
}

}  // namespace headscope::tokenizer
