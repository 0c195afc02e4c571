// Decoder steps of tokenizer.json. Each step maps the list of token strings to a new list, as in
// HuggingFace tokenizers; at the end the list is concatenated.
#include "capture/tokenizer/decoder.h"

#include <nlohmann/json.hpp>

#include "capture/tokenizer/byte_level.h"
#include "capture/tokenizer/spec_reader.h"
#include "capture/tokenizer/tokenizer.h"

namespace headscope::tokenizer {

struct Decoder::Step {
  virtual ~Step() = default;
  virtual void apply(std::vector<std::string>& tokens, bool single_token_display) const = 0;
};

namespace {

using Step = Decoder::Step;

void replace_all(std::string& text, const std::string& pattern, const std::string& content) {
  if (pattern.empty()) return;
  std::string out;
  std::size_t copied = 0;
  for (std::size_t found = text.find(pattern); found != std::string::npos; found = text.find(pattern, copied)) {
    out.append(text, copied, found - copied);
    out += content;
    copied = found + pattern.size();
  }
  if (copied == 0) return;
  out.append(text, copied, std::string::npos);
  text = std::move(out);
}

class ByteLevelDecodeStep : public Step {
 public:
  void apply(std::vector<std::string>& tokens, bool) const override {
    std::string bytes;
    for (std::string& token : tokens)
      if (byte_level::chars_to_bytes(token, bytes)) token = bytes;  // otherwise kept as written, as HF does
  }
};

class ReplaceDecodeStep : public Step {
 public:
  ReplaceDecodeStep(std::string pattern, std::string content) : pattern_(std::move(pattern)), content_(std::move(content)) {}
  void apply(std::vector<std::string>& tokens, bool) const override {
    for (std::string& token : tokens) replace_all(token, pattern_, content_);
  }

 private:
  std::string pattern_;
  std::string content_;
};

class ByteFallbackDecodeStep : public Step {
 public:
  void apply(std::vector<std::string>& tokens, bool) const override {
    for (std::string& token : tokens) {
      if (token.size() != 6 || token.compare(0, 3, "<0x") != 0 || token[5] != '>') continue;
      const auto hex = [](char c) {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        return -1;
      };
      const int high = hex(token[3]);
      const int low = hex(token[4]);
      if (high >= 0 && low >= 0) token = std::string(1, static_cast<char>(high * 16 + low));
    }
  }
};

class FuseDecodeStep : public Step {
 public:
  void apply(std::vector<std::string>& tokens, bool) const override {
    std::string fused;
    for (const std::string& token : tokens) fused += token;
    tokens.assign(1, std::move(fused));
  }
};

class StripDecodeStep : public Step {
 public:
  StripDecodeStep(char content, std::size_t start, std::size_t stop) : content_(content), start_(start), stop_(stop) {}
  void apply(std::vector<std::string>& tokens, bool single_token_display) const override {
    if (single_token_display) return;
    for (std::string& token : tokens) {
      std::size_t begin = 0;
      while (begin < start_ && begin < token.size() && token[begin] == content_) ++begin;
      std::size_t end = token.size();
      while (token.size() - end < stop_ && end > begin && token[end - 1] == content_) --end;
      token = token.substr(begin, end - begin);
    }
  }

 private:
  char content_;
  std::size_t start_;
  std::size_t stop_;
};

class MetaspaceDecodeStep : public Step {
 public:
  MetaspaceDecodeStep(std::string replacement, bool strip_first_space)
      : replacement_(std::move(replacement)), strip_first_space_(strip_first_space) {}
  void apply(std::vector<std::string>& tokens, bool single_token_display) const override {
    for (std::size_t i = 0; i < tokens.size(); ++i) {
      replace_all(tokens[i], replacement_, " ");
      if (i == 0 && strip_first_space_ && !single_token_display && !tokens[i].empty() && tokens[i][0] == ' ')
        tokens[i].erase(0, 1);
    }
  }

 private:
  std::string replacement_;
  bool strip_first_space_;
};

void add_steps(const nlohmann::json& spec, const SpecReader& reader, const std::string& where,
               std::vector<std::unique_ptr<Step>>& steps, int depth) {
  if (depth > 16) reader.fail(where, "decoders nested too deeply");
  const std::string type = reader.string_member(spec, "type", where);
  if (type == "Sequence") {
    const nlohmann::json& list = reader.require(spec, "decoders", where);
    reader.expect_array(list, member_path(where, "decoders"));
    for (std::size_t i = 0; i < list.size(); ++i)
      add_steps(list[i], reader, where + ".decoders[" + std::to_string(i) + "]", steps, depth + 1);
  } else if (type == "ByteLevel") {
    steps.push_back(std::make_unique<ByteLevelDecodeStep>());
  } else if (type == "Replace") {
    const nlohmann::json& pattern = reader.require(spec, "pattern", where);
    const nlohmann::json* literal = reader.find(pattern, "String", member_path(where, "pattern"));
    if (literal == nullptr) reader.fail(member_path(where, "pattern"), "only {\"String\": ...} patterns are supported in decoders");
    steps.push_back(std::make_unique<ReplaceDecodeStep>(reader.as_string(*literal, member_path(where, "pattern.String")),
                                                        reader.string_member(spec, "content", where)));
  } else if (type == "ByteFallback") {
    steps.push_back(std::make_unique<ByteFallbackDecodeStep>());
  } else if (type == "Fuse") {
    steps.push_back(std::make_unique<FuseDecodeStep>());
  } else if (type == "Strip") {
    const std::string content = reader.string_member(spec, "content", where);
    if (content.size() != 1) reader.fail(member_path(where, "content"), "expected a single ASCII character");
    const std::int64_t start = reader.int_or(spec, "start", 0, where);
    const std::int64_t stop = reader.int_or(spec, "stop", 0, where);
    if (start < 0 || stop < 0) reader.fail(where, "start and stop must not be negative");
    steps.push_back(std::make_unique<StripDecodeStep>(content[0], static_cast<std::size_t>(start), static_cast<std::size_t>(stop)));
  } else if (type == "Metaspace") {
    const std::string replacement = reader.string_or(spec, "replacement", "\xE2\x96\x81", where);
    if (replacement.empty()) reader.fail(member_path(where, "replacement"), "must not be empty");
    bool strip_first_space = reader.bool_or(spec, "add_prefix_space", true, where);
    if (const nlohmann::json* scheme = reader.find(spec, "prepend_scheme", where))
      strip_first_space = reader.as_string(*scheme, member_path(where, "prepend_scheme")) != "never";
    steps.push_back(std::make_unique<MetaspaceDecodeStep>(replacement, strip_first_space));
  } else {
    reader.fail(member_path(where, "type"), "unsupported decoder type '" + type + "'");
  }
}

}  // namespace

Decoder::Decoder(const nlohmann::json& spec, const SpecReader& reader) {
  if (spec.is_null()) return;
  has_decoder_ = true;
  add_steps(spec, reader, "decoder", steps_, 0);
}

Decoder::~Decoder() = default;

std::string Decoder::decode(std::vector<std::string> tokens, bool single_token_display) const {
  for (const auto& step : steps_) step->apply(tokens, single_token_display);
  std::string text;
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    if (!has_decoder_ && i > 0) text += ' ';
    text += tokens[i];
  }
  return text;
}

}  // namespace headscope::tokenizer
