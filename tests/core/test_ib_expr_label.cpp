// The step-label parser on a table of arithmetic steps: root operator (readable and sympy styles) and all
// operators of the step.
#include <gtest/gtest.h>

#include "core/analysis/expr_label.h"

namespace headscope::analysis {
namespace {

struct Case {
  const char* step;
  const char* root;        // readable style
  const char* sympy_root;  // sympy style
  std::vector<std::string> operators;
};

TEST(ExprLabel, TableOfSteps) {
  const std::vector<Case> cases = {
      {"23+17=40", "add", "add", {"add"}},
      {"(3*4)-2=10", "sub", "add", {"sub", "mul"}},
      {"sqrt(16)=4", "sqrt", "sqrt", {"sqrt"}},
      {"x^2", "square", "square", {"square"}},
      {"2**3", "other_power", "other_power", {"other_power"}},
      {"1/x", "inverse", "inverse", {"inverse"}},
      {"-5+3", "add", "add", {"add"}},
      {"12/4=3", "div", "mul", {"div"}},
      {"x^(1/2)", "sqrt", "sqrt", {"sqrt"}},
      {"max(1,2)=2", "max", "max", {"max"}},
      {"x^-1", "inverse", "inverse", {"inverse"}},
      {"-(3+4)", "neg", "mul", {"neg", "add"}},
      {"17 % 5 = 2", "mod", "mod", {"mod"}},
      {"2x+1", "add", "add", {"add", "mul"}},
      {"5", "atom", "atom", {}},
      {"-5", "atom", "atom", {}},
      {"3 \xC3\x97 4 = 12", "mul", "mul", {"mul"}},
      {"20 \xC3\xB7 5 = 4", "div", "mul", {"div"}},
      {"<<48/2=24>>", "div", "mul", {"div"}},
      {"1,200 + 300 = 1,500", "add", "add", {"add"}},
      {"-x^2", "neg", "mul", {"neg", "square"}},
      {"2^3^2", "other_power", "other_power", {"other_power", "square"}},  // 2^(3^2)
      {"abs(-3)=3", "abs", "abs", {"abs"}},
      {"5*3=15 ", "mul", "mul", {"mul"}},
      {"10-2*3=4", "sub", "add", {"sub", "mul"}},
      {"(2+3)*4=20", "mul", "mul", {"mul", "add"}},
      {"8/2-1=3", "sub", "add", {"sub", "div"}},
      {"7=3+4", "atom", "atom", {"add"}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.step);
    const StepLabels readable = label_step(c.step);
    ASSERT_TRUE(readable.ok) << readable.error;
    EXPECT_EQ(readable.root, c.root);
    EXPECT_EQ(readable.operators, c.operators);
    EXPECT_EQ(label_step(c.step, LabelStyle::sympy).root, c.sympy_root);
  }
}

TEST(ExprLabel, ErrorsNameTheOffset) {
  for (const char* bad : {"(2+3", "2+", "", "3 $ 4", "sqrt(4"}) {
    SCOPED_TRACE(bad);
    const StepLabels labels = label_step(bad);
    EXPECT_FALSE(labels.ok);
    EXPECT_NE(labels.error.find("offset"), std::string::npos) << labels.error;
  }
}

}  // namespace
}  // namespace headscope::analysis
