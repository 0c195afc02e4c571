// Normalizer steps of tokenizer.json. Unicode normal forms come from utf8proc (Unicode 15 tables), so the
// NFC of Qwen's tokenizer needs no ICU.
#include "capture/tokenizer/normalizer.h"

#include <cstdlib>

#include <nlohmann/json.hpp>
#include <utf8proc.h>

#include "capture/tokenizer/regex.h"
#include "capture/tokenizer/spec_reader.h"
#include "capture/tokenizer/text_utf8.h"
#include "capture/tokenizer/tokenizer.h"

namespace headscope::tokenizer {

struct Normalizer::Step {
  virtual ~Step() = default;
  virtual void apply(std::string& text) const = 0;
};

namespace {

using Step = Normalizer::Step;

class UnicodeFormStep : public Step {
 public:
  UnicodeFormStep(utf8proc_option_t options, std::string source) : options_(options), source_(std::move(source)) {}
  void apply(std::string& text) const override {
    if (text.empty()) return;
    utf8proc_uint8_t* mapped = nullptr;
    const utf8proc_ssize_t length = utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(text.data()),
                                                 static_cast<utf8proc_ssize_t>(text.size()), &mapped, options_);
    if (length < 0) {
      throw TokenizerError(source_ + ": Unicode normalisation failed: " + utf8proc_errmsg(length));
    }
    text.assign(reinterpret_cast<const char*>(mapped), static_cast<std::size_t>(length));
    std::free(mapped);
  }

 private:
  utf8proc_option_t options_;
  std::string source_;
};

class LowercaseStep : public Step {
 public:
  void apply(std::string& text) const override {
    std::string lowered;
    lowered.reserve(text.size());
    for (std::size_t pos = 0; pos < text.size();) {
      const char32_t code_point = utf8::next_code_point(text, pos);
      utf8::append_code_point(lowered, static_cast<char32_t>(utf8proc_tolower(static_cast<utf8proc_int32_t>(code_point))));
    }
    text = std::move(lowered);
  }
};

class PrependStep : public Step {
 public:
  explicit PrependStep(std::string prefix) : prefix_(std::move(prefix)) {}
  void apply(std::string& text) const override {
    if (!text.empty()) text.insert(0, prefix_);
  }

 private:
  std::string prefix_;
};

class ReplaceStep : public Step {
 public:
  ReplaceStep(const std::string& pattern, bool literal, std::string content, const std::string& source)
      : regex_(pattern, literal, source), content_(std::move(content)) {}
  void apply(std::string& text) const override {
    const std::vector<ByteSpan> matches = regex_.find_all(text);
    if (matches.empty()) return;
    std::string replaced;
    replaced.reserve(text.size());
    std::size_t copied = 0;
    for (const ByteSpan& match : matches) {
      replaced.append(text, copied, match.begin - copied);
      replaced += content_;
      copied = match.end;
    }
    replaced.append(text, copied, std::string::npos);
    text = std::move(replaced);
  }

 private:
  Regex regex_;
  std::string content_;
};

class StripStep : public Step {
 public:
  StripStep(bool left, bool right) : left_(left), right_(right) {}
  void apply(std::string& text) const override {
    const auto is_space = [](char32_t cp) {
      const utf8proc_category_t category = utf8proc_category(static_cast<utf8proc_int32_t>(cp));
      return cp == '\t' || cp == '\n' || cp == '\v' || cp == '\f' || cp == '\r' || cp == 0x85 ||
             category == UTF8PROC_CATEGORY_ZS || category == UTF8PROC_CATEGORY_ZL || category == UTF8PROC_CATEGORY_ZP;
    };
    std::size_t begin = 0;
    std::size_t end = text.size();
    if (left_) {
      while (begin < end) {
        std::size_t next = begin;
        if (!is_space(utf8::next_code_point(text, next))) break;
        begin = next;
      }
    }
    if (right_) {
      while (end > begin) {
        std::size_t start = end - 1;
        while (start > begin && (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80) --start;
        std::size_t cursor = start;
        if (!is_space(utf8::next_code_point(text, cursor))) break;
        end = start;
      }
    }
    text = text.substr(begin, end - begin);
  }

 private:
  bool left_;
  bool right_;
};

void add_steps(const nlohmann::json& spec, const SpecReader& reader, const std::string& where,
               std::vector<std::unique_ptr<Step>>& steps, int depth) {
  if (spec.is_null()) return;
  if (depth > 16) reader.fail(where, "normalizers nested too deeply");
  const std::string type = reader.string_member(spec, "type", where);
  if (type == "Sequence") {
    const nlohmann::json& list = reader.require(spec, "normalizers", where);
    reader.expect_array(list, member_path(where, "normalizers"));
    for (std::size_t i = 0; i < list.size(); ++i)
      add_steps(list[i], reader, where + ".normalizers[" + std::to_string(i) + "]", steps, depth + 1);
  } else if (type == "NFC") {
    steps.push_back(std::make_unique<UnicodeFormStep>(utf8proc_option_t(UTF8PROC_STABLE | UTF8PROC_COMPOSE), reader.source()));
  } else if (type == "NFD") {
    steps.push_back(std::make_unique<UnicodeFormStep>(utf8proc_option_t(UTF8PROC_STABLE | UTF8PROC_DECOMPOSE), reader.source()));
  } else if (type == "NFKC") {
    steps.push_back(std::make_unique<UnicodeFormStep>(
        utf8proc_option_t(UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_COMPAT), reader.source()));
  } else if (type == "NFKD") {
    steps.push_back(std::make_unique<UnicodeFormStep>(
        utf8proc_option_t(UTF8PROC_STABLE | UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT), reader.source()));
  } else if (type == "Lowercase") {
    steps.push_back(std::make_unique<LowercaseStep>());
  } else if (type == "Prepend") {
    steps.push_back(std::make_unique<PrependStep>(reader.string_member(spec, "prepend", where)));
  } else if (type == "Replace") {
    const nlohmann::json& pattern = reader.require(spec, "pattern", where);
    const std::string pattern_where = member_path(where, "pattern");
    const nlohmann::json* literal = reader.find(pattern, "String", pattern_where);
    const nlohmann::json* regex = reader.find(pattern, "Regex", pattern_where);
    if ((literal == nullptr) == (regex == nullptr)) reader.fail(pattern_where, "expected {\"String\": ...} or {\"Regex\": ...}");
    const std::string text = reader.as_string(literal ? *literal : *regex, pattern_where);
    if (literal && text.empty()) reader.fail(pattern_where, "an empty String pattern would match everywhere");
    steps.push_back(std::make_unique<ReplaceStep>(text, literal != nullptr, reader.string_member(spec, "content", where),
                                                  reader.source()));
  } else if (type == "Strip") {
    steps.push_back(std::make_unique<StripStep>(reader.bool_or(spec, "strip_left", true, where),
                                                reader.bool_or(spec, "strip_right", true, where)));
  } else {
    reader.fail(member_path(where, "type"), "unsupported normalizer type '" + type + "'");
  }
}

}  // namespace

Normalizer::Normalizer(const nlohmann::json& spec, const SpecReader& reader) {
  add_steps(spec, reader, "normalizer", steps_, 0);
}

Normalizer::~Normalizer() = default;

std::string Normalizer::apply(std::string_view text) const {
  std::string out(text);
  for (const auto& step : steps_) step->apply(out);
  return out;
}

}  // namespace headscope::tokenizer
