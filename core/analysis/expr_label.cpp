// A recursive-descent parser for arithmetic steps and the operator labels read off its tree (see
// expr_label.h). Grammar, with Python's precedence (unary minus binds looser than powers: -x^2 = -(x^2)):
//   step    := expr ('=' expr)?
//   expr    := term (('+' | '-') term)*
//   term    := unary (('*' | '/' | '%') unary | implicit-product)*
//   unary   := ('-' | '+') unary | power
//   power   := primary (('^' | '**') unary)?          right-associative
//   primary := number | name '(' expr (',' expr)* ')' | name | '(' expr ')'
#include "core/analysis/expr_label.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <memory>
#include <optional>
#include <stdexcept>

namespace headscope::analysis {
namespace {

struct Node {
  enum Kind { number, symbol, add, sub, mul, div, mod, power, neg, call } kind = number;
  double value = 0;       // number
  std::string name;       // symbol, call
  std::vector<std::unique_ptr<Node>> children;
};
using NodePtr = std::unique_ptr<Node>;

NodePtr make(Node::Kind kind, NodePtr a = nullptr, NodePtr b = nullptr) {
  auto node = std::make_unique<Node>();
  node->kind = kind;
  if (a) node->children.push_back(std::move(a));
  if (b) node->children.push_back(std::move(b));
  return node;
}

struct ParseError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class Parser {
 public:
  explicit Parser(std::string text) : text_(normalise(std::move(text))) {}

  NodePtr expression() {
    NodePtr left = term();
    for (;;) {
      if (accept('+')) left = make(Node::add, std::move(left), term());
      else if (accept('-')) left = make(Node::sub, std::move(left), term());
      else return left;
    }
  }
  bool at_end() { skip_space(); return pos_ >= text_.size(); }
  bool accept(char c) {
    skip_space();
    if (pos_ < text_.size() && text_[pos_] == c && !(c == '*' && pos_ + 1 < text_.size() && text_[pos_ + 1] == '*')) {
      ++pos_;
      return true;
    }
    return false;
  }
  [[noreturn]] void fail(const std::string& what) {
    throw ParseError(what + " at offset " + std::to_string(pos_) + " of \"" + text_ + "\"");
  }

 private:
  // Unicode operators to ASCII: × (U+00D7) → *, ÷ (U+00F7) → /, − (U+2212) → -.
  static std::string normalise(std::string text) {
    const std::pair<std::string, char> replacements[] = {{"\xC3\x97", '*'}, {"\xC3\xB7", '/'}, {"\xE2\x88\x92", '-'}};
    for (const auto& [from, to] : replacements)
      for (std::size_t at; (at = text.find(from)) != std::string::npos;) text.replace(at, from.size(), 1, to);
    return text;
  }
  void skip_space() {
    while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_]))) ++pos_;
  }
  bool accept_power() {
    skip_space();
    if (pos_ < text_.size() && text_[pos_] == '^') return ++pos_, true;
    if (pos_ + 1 < text_.size() && text_[pos_] == '*' && text_[pos_ + 1] == '*') return pos_ += 2, true;
    return false;
  }
  // ',' followed by exactly three digits: 1,200 (but not the argument separator of f(1,2)).
  bool thousands_separator_at(std::size_t at) const {
    auto digit = [&](std::size_t i) { return i < text_.size() && std::isdigit(static_cast<unsigned char>(text_[i])); };
    return digit(at + 1) && digit(at + 2) && digit(at + 3) && !digit(at + 4);
  }
  bool starts_primary() {
    skip_space();
    if (pos_ >= text_.size()) return false;
    const unsigned char c = static_cast<unsigned char>(text_[pos_]);
    return std::isalnum(c) || c == '_' || c == '(' || c == '.';
  }
  NodePtr term() {
    NodePtr left = unary();
    for (;;) {
      if (accept('*')) left = make(Node::mul, std::move(left), unary());
      else if (accept('/')) left = make(Node::div, std::move(left), unary());
      else if (accept('%')) left = make(Node::mod, std::move(left), unary());
      else if (starts_primary()) left = make(Node::mul, std::move(left), power());  // implicit: 2x, 3(4+1)
      else return left;
    }
  }
  NodePtr unary() {
    if (accept('-')) return make(Node::neg, unary());
    if (accept('+')) return unary();
    return power();
  }
  NodePtr power() {
    NodePtr base = primary();
    if (accept_power()) return make(Node::power, std::move(base), unary());
    return base;
  }
  NodePtr primary() {
    skip_space();
    if (pos_ >= text_.size()) fail("expected a number, name or '('");
    const unsigned char c = static_cast<unsigned char>(text_[pos_]);
    if (accept('(')) {
      NodePtr inner = expression();
      if (!accept(')')) fail("expected ')'");
      return inner;
    }
    if (std::isdigit(c) || c == '.') {
      const std::size_t start = pos_;
      while (pos_ < text_.size() && (std::isdigit(static_cast<unsigned char>(text_[pos_])) || text_[pos_] == '.' || text_[pos_] == ',')) {
        if (text_[pos_] == ',' && !thousands_separator_at(pos_)) break;
        ++pos_;
      }
      std::string digits;
      for (std::size_t i = start; i < pos_; ++i)
        if (text_[i] != ',') digits += text_[i];
      auto node = make(Node::number);
      try {
        node->value = std::stod(digits);
      } catch (const std::exception&) {
        fail("bad number '" + digits + "'");
      }
      return node;
    }
    if (std::isalpha(c) || c == '_') {
      const std::size_t start = pos_;
      while (pos_ < text_.size() && (std::isalnum(static_cast<unsigned char>(text_[pos_])) || text_[pos_] == '_')) ++pos_;
      const std::string name = text_.substr(start, pos_ - start);
      if (accept('(')) {
        auto node = make(Node::call);
        node->name = name;
        node->children.push_back(expression());
        while (accept(',')) node->children.push_back(expression());
        if (!accept(')')) fail("expected ')' after the arguments of " + name);
        return node;
      }
      auto node = make(Node::symbol);
      node->name = name;
      return node;
    }
    fail(std::string("unexpected character '") + text_[pos_] + "'");
  }

  std::string text_;
  std::size_t pos_ = 0;
};

// The value of a constant exponent (numbers, unary minus, + - * /), or nullopt.
std::optional<double> constant_value(const Node& node) {
  switch (node.kind) {
    case Node::number: return node.value;
    case Node::neg: {
      const auto v = constant_value(*node.children[0]);
      return v ? std::optional<double>(-*v) : std::nullopt;
    }
    case Node::add: case Node::sub: case Node::mul: case Node::div: {
      const auto a = constant_value(*node.children[0]), b = constant_value(*node.children[1]);
      if (!a || !b) return std::nullopt;
      if (node.kind == Node::add) return *a + *b;
      if (node.kind == Node::sub) return *a - *b;
      if (node.kind == Node::mul) return *a * *b;
      return *b != 0 ? std::optional<double>(*a / *b) : std::nullopt;
    }
    default: return std::nullopt;
  }
}

// The label of one node, or "" for an atom.
std::string node_label(const Node& node, LabelStyle style) {
  const bool sympy = style == LabelStyle::sympy;
  switch (node.kind) {
    case Node::number:
    case Node::symbol: return "";
    case Node::add: return "add";
    case Node::sub: return sympy ? "add" : "sub";
    case Node::mul: return "mul";
    case Node::mod: return "mod";
    case Node::div: {
      const auto numerator = constant_value(*node.children[0]);
      if (node.children[0]->kind == Node::number && numerator && *numerator == 1) return "inverse";
      return sympy ? "mul" : "div";
    }
    case Node::neg:
      if (node.children[0]->kind == Node::number) return "";  // a negative literal
      return sympy ? "mul" : "neg";
    case Node::power: {
      const auto exponent = constant_value(*node.children[1]);
      if (exponent && *exponent == 2) return "square";
      if (exponent && *exponent == 0.5) return "sqrt";
      if (exponent && *exponent == -1) return "inverse";
      return "other_power";
    }
    case Node::call: return node.name == "sqrt" ? "sqrt" : node.name;
  }
  return "";
}

void collect(const Node& node, LabelStyle style, std::vector<std::string>& out) {
  const std::string label = node_label(node, style);
  if (!label.empty() && std::find(out.begin(), out.end(), label) == out.end()) out.push_back(label);
  // A constant exponent is part of the power's own label (x^(1/2) is sqrt, not sqrt and div).
  const bool constant_exponent = node.kind == Node::power && constant_value(*node.children[1]).has_value();
  for (size_t i = 0; i < node.children.size(); ++i)
    if (!(constant_exponent && i == 1)) collect(*node.children[i], style, out);
}

}  // namespace

StepLabels label_step(const std::string& step, LabelStyle style) {
  StepLabels labels;
  std::string text = step;
  // GSM8K calculator annotations: <<48/2=24>>.
  if (const auto open = text.find("<<"); open != std::string::npos) {
    const auto close = text.find(">>", open + 2);
    text = text.substr(open + 2, close == std::string::npos ? std::string::npos : close - open - 2);
  }
  const auto equals = text.find('=');
  const std::string lhs = text.substr(0, equals);
  const std::string rhs = equals == std::string::npos ? "" : text.substr(equals + 1);
  try {
    Parser left(lhs);
    if (left.at_end()) left.fail("empty left-hand side");
    const NodePtr root = left.expression();
    if (!left.at_end()) left.fail("unexpected text after the expression");
    labels.root = node_label(*root, style);
    if (labels.root.empty()) labels.root = "atom";
    collect(*root, style, labels.operators);
    if (!rhs.empty()) {
      Parser right(rhs);
      if (!right.at_end()) {
        const NodePtr rhs_root = right.expression();
        if (!right.at_end()) right.fail("unexpected text after the right-hand side");
        collect(*rhs_root, style, labels.operators);
      }
    }
    labels.ok = true;
  } catch (const ParseError& e) {
    labels = StepLabels{};
    labels.error = e.what();
  }
  return labels;
}

}  // namespace headscope::analysis
