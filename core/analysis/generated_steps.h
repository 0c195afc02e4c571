// The steps of a generated chain of thought, found in the generated text: every line holding one
// expression with '=' that the expression labeller parses ("11+2=13", "<<3*4=12>>", "x^2 = 9")
// is a step; its label is label_step's root operator. Lines without '=' ("#### 45", prose) are not steps.
// Token spans come from the text's byte offsets: token k of the generated tokens ends at byte
// token_end_bytes[k] of the generated text (the decoded text of tokens 0..k), and a step covers the tokens
// that overlap its line (leading and trailing spaces of the line left out).
#pragma once
#include <string>
#include <vector>

namespace headscope::analysis {

struct GeneratedStep {
  int begin = 0, end = 0;  // token range [begin, end) among the generated tokens (0 = the first generated)
  std::string label;       // label_step(...).root
  std::string text;        // the line as generated
};

// text: the decoded generated text; token_end_bytes: [generated tokens] nondecreasing byte offsets into text.
std::vector<GeneratedStep> detect_generated_steps(const std::string& text, const std::vector<int>& token_end_bytes);

}  // namespace headscope::analysis
