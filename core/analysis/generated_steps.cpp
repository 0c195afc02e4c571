// Step detection in generated text (see generated_steps.h).
#include "core/analysis/generated_steps.h"

#include <algorithm>

#include "core/analysis/expr_label.h"

namespace headscope::analysis {

std::vector<GeneratedStep> detect_generated_steps(const std::string& text, const std::vector<int>& token_end_bytes) {
  std::vector<GeneratedStep> steps;
  const int token_count = static_cast<int>(token_end_bytes.size());
  std::size_t line_begin = 0;
  while (line_begin < text.size()) {
    std::size_t line_end = text.find('\n', line_begin);
    if (line_end == std::string::npos) line_end = text.size();
    std::size_t first = line_begin, last = line_end;  // the line without its surrounding spaces
    while (first < last && (text[first] == ' ' || text[first] == '\t' || text[first] == '\r')) ++first;
    while (last > first && (text[last - 1] == ' ' || text[last - 1] == '\t' || text[last - 1] == '\r')) --last;
    const std::string line = text.substr(first, last - first);
    if (line.find('=') != std::string::npos) {
      const StepLabels labels = label_step(line);
      if (labels.ok) {
        // Tokens overlapping bytes [first, last): the first ending after `first`, through the first ending at or past `last`.
        const auto begin = std::upper_bound(token_end_bytes.begin(), token_end_bytes.end(), static_cast<int>(first));
        const auto end = std::lower_bound(token_end_bytes.begin(), token_end_bytes.end(), static_cast<int>(last));
        const int b = static_cast<int>(begin - token_end_bytes.begin());
        const int e = std::min(token_count, static_cast<int>(end - token_end_bytes.begin()) + 1);
        if (b < e) steps.push_back({b, e, labels.root, line});
      }
    }
    line_begin = line_end + 1;
  }
  return steps;
}

}  // namespace headscope::analysis
