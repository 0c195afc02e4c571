// Steps of a generated chain (core/analysis/generated_steps.h): lines with one '=' expression are steps
// with label_step's root as label; "#### N" and prose are not; token spans from the byte offsets, for
// one-character tokens and for multi-character ones that straddle a line break.
#include <gtest/gtest.h>

#include "core/analysis/generated_steps.h"

using namespace headscope::analysis;

namespace {
std::vector<int> char_token_ends(const std::string& text) {
  std::vector<int> ends;
  for (std::size_t i = 1; i <= text.size(); ++i) ends.push_back(static_cast<int>(i));
  return ends;
}
}  // namespace

TEST(GeneratedSteps, EachExpressionLineIsAStepWithItsOperator) {
  const std::string text = "11+2=13\n13*3=39\n39-6=33\n#### 33";
  const auto steps = detect_generated_steps(text, char_token_ends(text));
  ASSERT_EQ(steps.size(), 3u);
  EXPECT_EQ(steps[0].label, "add");
  EXPECT_EQ(steps[1].label, "mul");
  EXPECT_EQ(steps[2].label, "sub");
  EXPECT_EQ(steps[0].begin, 0);
  EXPECT_EQ(steps[0].end, 7);   // "11+2=13"
  EXPECT_EQ(steps[1].begin, 8);
  EXPECT_EQ(steps[1].end, 15);
  EXPECT_EQ(steps[2].text, "39-6=33");
}

TEST(GeneratedSteps, MultiCharacterTokensCoverTheirLine) {
  // "ok\n4*5=20\n10/2=5\n#### 5" in tokens that straddle the line breaks.
  const std::vector<std::string> tokens{"ok", "\n4", "*5=", "20\n", "10/", "2=5", "\n", "####", " 5"};
  std::string text;
  std::vector<int> ends;
  for (const auto& t : tokens) { text += t; ends.push_back(static_cast<int>(text.size())); }
  const auto steps = detect_generated_steps(text, ends);
  ASSERT_EQ(steps.size(), 2u);
  EXPECT_EQ(steps[0].label, "mul");
  EXPECT_EQ(steps[0].begin, 1);  // "\n4" holds the step's first byte
  EXPECT_EQ(steps[0].end, 4);    // "20\n" its last
  EXPECT_EQ(steps[1].label, "div");
  EXPECT_EQ(steps[1].begin, 4);
  EXPECT_EQ(steps[1].end, 6);
}

TEST(GeneratedSteps, NoStepsInProseOrEmptyText) {
  EXPECT_TRUE(detect_generated_steps("", {}).empty());
  const std::string prose = "the answer is five\n#### 5";
  EXPECT_TRUE(detect_generated_steps(prose, char_token_ends(prose)).empty());
}
