// Pre-tokenizer steps of tokenizer.json. Each step maps a list of pieces to a finer list; the split
// behaviours (Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous) follow HuggingFace
// tokenizers' definitions exactly, including how consecutive matches combine.
#include "capture/tokenizer/pre_tokenizer.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "capture/tokenizer/regex.h"
#include "capture/tokenizer/spec_reader.h"
#include "capture/tokenizer/tokenizer.h"

namespace headscope::tokenizer {

struct PreTokenizer::Step {
  virtual ~Step() = default;
  virtual void split(const PreToken& piece, std::vector<PreToken>& out) const = 0;
};

namespace {

using Step = PreTokenizer::Step;

// GPT-2's pre-tokenization regex, used by ByteLevel when use_regex is true.
constexpr const char* kGpt2Pattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

enum class SplitBehavior { kRemoved, kIsolated, kMergedWithPrevious, kMergedWithNext, kContiguous };

struct Slice {
  ByteSpan span;
  bool is_match;
};

// Matches and the gaps between them, covering the whole text.
std::vector<Slice> slices_of(const Regex& regex, std::string_view text, bool invert) {
  std::vector<Slice> slices;
  std::size_t covered = 0;
  for (const ByteSpan& match : regex.find_all(text)) {
    if (match.begin > covered) slices.push_back({{covered, match.begin}, invert});
    slices.push_back({match, !invert});
    covered = match.end;
  }
  if (covered < text.size()) slices.push_back({{covered, text.size()}, invert});
  return slices;
}

std::vector<ByteSpan> apply_behavior(const std::vector<Slice>& slices, SplitBehavior behavior) {
  std::vector<ByteSpan> pieces;
  bool previous_match = false;
  switch (behavior) {
    case SplitBehavior::kRemoved:
      for (const Slice& slice : slices)
        if (!slice.is_match) pieces.push_back(slice.span);
      break;
    case SplitBehavior::kIsolated:
      for (const Slice& slice : slices) pieces.push_back(slice.span);
      break;
    case SplitBehavior::kMergedWithPrevious:
      for (const Slice& slice : slices) {
        if (slice.is_match && !previous_match && !pieces.empty()) pieces.back().end = slice.span.end;
        else pieces.push_back(slice.span);
        previous_match = slice.is_match;
      }
      break;
    case SplitBehavior::kMergedWithNext:
      for (auto it = slices.rbegin(); it != slices.rend(); ++it) {
        if (it->is_match && !previous_match && !pieces.empty()) pieces.back().begin = it->span.begin;
        else pieces.push_back(it->span);
        previous_match = it->is_match;
      }
      std::reverse(pieces.begin(), pieces.end());
      break;
    case SplitBehavior::kContiguous:
      for (const Slice& slice : slices) {
        if (slice.is_match == previous_match && !pieces.empty()) pieces.back().end = slice.span.end;
        else pieces.push_back(slice.span);
        previous_match = slice.is_match;
      }
      break;
  }
  return pieces;
}

void emit_pieces(const PreToken& piece, const std::vector<ByteSpan>& spans, std::vector<PreToken>& out) {
  for (const ByteSpan& span : spans) {
    if (span.end <= span.begin) continue;
    out.push_back({piece.text.substr(span.begin, span.end - span.begin), piece.at_text_start && span.begin == 0});
  }
}

class RegexSplitStep : public Step {
 public:
  RegexSplitStep(const std::string& pattern, bool literal, SplitBehavior behavior, bool invert, const std::string& source)
      : regex_(pattern, literal, source), behavior_(behavior), invert_(invert) {}
  void split(const PreToken& piece, std::vector<PreToken>& out) const override {
    emit_pieces(piece, apply_behavior(slices_of(regex_, piece.text, invert_), behavior_), out);
  }

 private:
  Regex regex_;
  SplitBehavior behavior_;
  bool invert_;
};

class ByteLevelStep : public Step {
 public:
  ByteLevelStep(bool add_prefix_space, bool use_regex, const std::string& source) : add_prefix_space_(add_prefix_space) {
    if (use_regex) regex_ = std::make_unique<Regex>(kGpt2Pattern, false, source);
  }
  void split(const PreToken& piece, std::vector<PreToken>& out) const override {
    PreToken prefixed = piece;
    if (add_prefix_space_ && (prefixed.text.empty() || prefixed.text[0] != ' ')) prefixed.text.insert(0, " ");
    if (!regex_) {
      if (!prefixed.text.empty()) out.push_back(std::move(prefixed));
      return;
    }
    emit_pieces(prefixed, apply_behavior(slices_of(*regex_, prefixed.text, false), SplitBehavior::kIsolated), out);
  }

 private:
  bool add_prefix_space_;
  std::unique_ptr<Regex> regex_;
};

class MetaspaceStep : public Step {
 public:
  enum class Prepend { kAlways, kFirst, kNever };
  MetaspaceStep(std::string replacement, Prepend prepend, bool split_on_replacement, const std::string& source)
      : replacement_(std::move(replacement)), prepend_(prepend),
        regex_(split_on_replacement ? std::make_unique<Regex>(replacement_, true, source) : nullptr) {}
  void split(const PreToken& piece, std::vector<PreToken>& out) const override {
    PreToken replaced{std::string(), piece.at_text_start};
    for (char c : piece.text) {
      if (c == ' ') replaced.text += replacement_;
      else replaced.text.push_back(c);
    }
    const bool starts_with_replacement = replaced.text.compare(0, replacement_.size(), replacement_) == 0;
    if (!starts_with_replacement &&
        (prepend_ == Prepend::kAlways || (prepend_ == Prepend::kFirst && piece.at_text_start)))
      replaced.text.insert(0, replacement_);
    if (!regex_) {
      if (!replaced.text.empty()) out.push_back(std::move(replaced));
      return;
    }
    emit_pieces(replaced, apply_behavior(slices_of(*regex_, replaced.text, false), SplitBehavior::kMergedWithNext), out);
  }

 private:
  std::string replacement_;
  Prepend prepend_;
  std::unique_ptr<Regex> regex_;
};

SplitBehavior parse_behavior(const std::string& name, const SpecReader& reader, const std::string& where) {
  if (name == "Removed") return SplitBehavior::kRemoved;
  if (name == "Isolated") return SplitBehavior::kIsolated;
  if (name == "MergedWithPrevious") return SplitBehavior::kMergedWithPrevious;
  if (name == "MergedWithNext") return SplitBehavior::kMergedWithNext;
  if (name == "Contiguous") return SplitBehavior::kContiguous;
  reader.fail(where, "unknown split behavior '" + name + "'");
}

std::unique_ptr<Step> metaspace_step(const nlohmann::json& spec, const SpecReader& reader, const std::string& where) {
  const std::string replacement = reader.string_or(spec, "replacement", "\xE2\x96\x81", where);
  if (replacement.empty()) reader.fail(member_path(where, "replacement"), "must not be empty");
  MetaspaceStep::Prepend prepend =
      reader.bool_or(spec, "add_prefix_space", true, where) ? MetaspaceStep::Prepend::kAlways : MetaspaceStep::Prepend::kNever;
  if (const nlohmann::json* scheme = reader.find(spec, "prepend_scheme", where)) {
    const std::string name = reader.as_string(*scheme, member_path(where, "prepend_scheme"));
    if (name == "always") prepend = MetaspaceStep::Prepend::kAlways;
    else if (name == "first") prepend = MetaspaceStep::Prepend::kFirst;
    else if (name == "never") prepend = MetaspaceStep::Prepend::kNever;
    else reader.fail(member_path(where, "prepend_scheme"), "expected always, first or never, found '" + name + "'");
  }
  return std::make_unique<MetaspaceStep>(replacement, prepend, reader.bool_or(spec, "split", true, where), reader.source());
}

void add_steps(const nlohmann::json& spec, const SpecReader& reader, const std::string& where,
               std::vector<std::unique_ptr<Step>>& steps, bool& byte_level, int depth) {
  if (spec.is_null()) return;
  if (depth > 16) reader.fail(where, "pre-tokenizers nested too deeply");
  const std::string type = reader.string_member(spec, "type", where);
  const std::string& source = reader.source();
  if (type == "Sequence") {
    const nlohmann::json& list = reader.require(spec, "pretokenizers", where);
    reader.expect_array(list, member_path(where, "pretokenizers"));
    for (std::size_t i = 0; i < list.size(); ++i)
      add_steps(list[i], reader, where + ".pretokenizers[" + std::to_string(i) + "]", steps, byte_level, depth + 1);
  } else if (type == "Split") {
    const nlohmann::json& pattern = reader.require(spec, "pattern", where);
    const std::string pattern_where = member_path(where, "pattern");
    const nlohmann::json* literal = reader.find(pattern, "String", pattern_where);
    const nlohmann::json* regex = reader.find(pattern, "Regex", pattern_where);
    if ((literal == nullptr) == (regex == nullptr)) reader.fail(pattern_where, "expected {\"String\": ...} or {\"Regex\": ...}");
    const SplitBehavior behavior = parse_behavior(reader.string_member(spec, "behavior", where), reader, member_path(where, "behavior"));
    steps.push_back(std::make_unique<RegexSplitStep>(reader.as_string(literal ? *literal : *regex, pattern_where),
                                                     literal != nullptr, behavior, reader.bool_or(spec, "invert", false, where),
                                                     source));
  } else if (type == "ByteLevel") {
    byte_level = true;
    steps.push_back(std::make_unique<ByteLevelStep>(reader.bool_or(spec, "add_prefix_space", true, where),
                                                    reader.bool_or(spec, "use_regex", true, where), source));
  } else if (type == "Metaspace") {
    steps.push_back(metaspace_step(spec, reader, where));
  } else if (type == "Digits") {
    const bool individual = reader.bool_or(spec, "individual_digits", false, where);
    steps.push_back(std::make_unique<RegexSplitStep>(individual ? R"(\p{N})" : R"(\p{N}+)", false,
                                                     SplitBehavior::kIsolated, false, source));
  } else if (type == "Whitespace") {
    steps.push_back(std::make_unique<RegexSplitStep>(R"(\w+|[^\w\s]+)", false, SplitBehavior::kRemoved, true, source));
  } else if (type == "WhitespaceSplit") {
    steps.push_back(std::make_unique<RegexSplitStep>(R"(\s+)", false, SplitBehavior::kRemoved, false, source));
  } else {
    reader.fail(member_path(where, "type"), "unsupported pre_tokenizer type '" + type + "'");
  }
}

}  // namespace

PreTokenizer::PreTokenizer(const nlohmann::json& spec, const SpecReader& reader) {
  add_steps(spec, reader, "pre_tokenizer", steps_, byte_level_, 0);
}

PreTokenizer::~PreTokenizer() = default;

std::vector<std::string> PreTokenizer::split(std::string_view segment, bool at_text_start) const {
  std::vector<PreToken> pieces{{std::string(segment), at_text_start}};
  std::vector<PreToken> next;
  for (const auto& step : steps_) {
    next.clear();
    for (const PreToken& piece : pieces) step->split(piece, next);
    pieces.swap(next);
  }
  std::vector<std::string> words;
  words.reserve(pieces.size());
  for (PreToken& piece : pieces)
    if (!piece.text.empty()) words.push_back(std::move(piece.text));
  return words;
}

}  // namespace headscope::tokenizer
