// Operator labels of an arithmetic reasoning step ("23+17=40", "(3*4)-2=10", "sqrt(16)=4", "x^2", "1/x"):
// the root operator of the left-hand side, as the earlier work read it from a symbolic-algebra tree
// (sympy's top-level node), with powers split into sqrt / square / inverse / other_power, and every
// operator of the step for multi-label use. Parsing never evaluates; numbers are kept as written.
//
// Naming. sympy has no subtraction or division node: a−b is Add(a, Mul(−1, b)), a/b is Mul(a, Pow(b, −1)),
// −x is Mul(−1, x). LabelStyle::readable (the default) reports `sub`, `div` and `neg` for readability;
// LabelStyle::sympy reports `add`, `mul` and `mul` instead, as sympy's root would. In both styles 1/x is
// `inverse` (sympy: Pow(x, −1)), a negative literal such as −5 is an `atom` (sympy: Integer(−5)), and a
// step without an operator is `atom`. Other labels: add, mul, mod, sqrt, square (x^2), inverse (x^−1),
// other_power, and the name of any other function called at the root (abs, log, ...).
#pragma once
#include <string>
#include <vector>

namespace headscope::analysis {

enum class LabelStyle { readable, sympy };

struct StepLabels {
  bool ok = false;
  std::string error;                   // why parsing failed (with the character offset), when !ok
  std::string root;                    // root operator of the left-hand side
  std::vector<std::string> operators;  // every operator of the step (both sides), in order of first appearance
};

// Accepts + - * / % ^ ** × ÷ − (Unicode), parentheses, function calls, implicit products (2x, 3(4+1)),
// one '=' (the right-hand side only adds to `operators`), and GSM8K-style <<...>> wrappers.
StepLabels label_step(const std::string& step, LabelStyle style = LabelStyle::readable);

}  // namespace headscope::analysis
