// Reading JSONL prompt sets (see prompt_set.h).
#include "core/io/prompt_set.h"
#include "core/store/facts.h"

#include <nlohmann/json.hpp>

namespace headscope::io {

using nlohmann::json;

PromptReader::PromptReader(const std::string& path) : path_(path), in_(path) {
  if (!in_) throw PromptSetError(path + ": cannot open the prompt set");
}

static std::string where(const std::string& path, std::int64_t line) { return path + ":" + std::to_string(line) + ": "; }

PromptRecord parse_prompt_line(const std::string& text_line, std::int64_t line_number, const std::string& path) {
  json object;
  try {
    object = json::parse(text_line);
  } catch (const json::exception& e) {  // parse_error, or out_of_range for a number like 1e999
    throw PromptSetError(where(path, line_number) + "not valid JSON (" + std::string(e.what()) + ")");
  }
  if (!object.is_object()) throw PromptSetError(where(path, line_number) + "expected a JSON object per line");
  PromptRecord record;
  record.line = line_number;
  auto fail = [&](const std::string& what) { throw PromptSetError(where(path, line_number) + what); };
  if (object.contains("text")) {
    if (!object["text"].is_string()) fail("'text' must be a string");
    record.text = object["text"].get<std::string>();
  }
  if (object.contains("ids")) {
    if (!object["ids"].is_array()) fail("'ids' must be a list of token ids");
    for (const auto& id : object["ids"]) {
      if (!id.is_number_integer() || id.get<std::int64_t>() < 0 || id.get<std::int64_t>() > INT32_MAX)
        fail("'ids' must hold non-negative integers");
      record.ids.push_back(static_cast<std::int32_t>(id.get<std::int64_t>()));
    }
  }
  if (record.text.empty() && record.ids.empty()) fail("needs a non-empty 'text' (or 'ids')");
  if (object.contains("id")) {
    const auto& id = object["id"];
    if (id.is_string()) record.id = id.get<std::string>();
    else if (id.is_number_integer()) record.id = std::to_string(id.get<std::int64_t>());
    else fail("'id' must be a string or an integer");
  } else {
    record.id = "line-" + std::to_string(line_number);
  }
  if (object.contains("level") && !object["level"].is_null()) {
    const auto& level = object["level"];
    if (level.is_number_integer()) record.level = level.get<int>();
    else if (level.is_string()) record.level = store::parse_level_text(level.get<std::string>());  // MATH: "Level 3"; "Level ?" is none
    else fail("'level' must be an integer or a string such as \"Level 3\"");
    if (level.is_string() && !record.level && level.get<std::string>().find('?') == std::string::npos)
      fail("'level' \"" + level.get<std::string>() + "\" is not a level (an integer, or \"Level N\" as in MATH)");
  }
  if (object.contains("answer") && !object["answer"].is_null())
    record.answer = object["answer"].is_string() ? object["answer"].get<std::string>() : object["answer"].dump();
  if (object.contains("spans")) {
    if (!object["spans"].is_array()) fail("'spans' must be a list of {start, end, label}");
    for (const auto& span : object["spans"]) {
      if (!span.is_object() || !span.contains("start") || !span.contains("end") || !span["start"].is_number_integer() ||
          !span["end"].is_number_integer())
        fail("each span needs integer 'start' and 'end'");
      PromptSpan s{span["start"].get<std::int64_t>(), span["end"].get<std::int64_t>(),
                   span.contains("label") && span["label"].is_string() ? span["label"].get<std::string>() : ""};
      if (s.start < 0 || s.end <= s.start || (!record.text.empty() && s.end > static_cast<std::int64_t>(record.text.size())))
        fail("span [" + std::to_string(s.start) + ", " + std::to_string(s.end) + ") is outside the text");
      record.spans.push_back(s);
    }
  }
  object.erase("text");
  object.erase("ids");
  record.metadata_json = object.dump();
  return record;
}

// One line of at most kMaxPromptLineBytes into `line` (without its '\n'); false at the end of the file. A
// longer line throws: a prompt that long (millions of tokens) cannot be captured, and reading it whole
// first would only move the out-of-memory failure elsewhere.
static bool read_line(std::istream& in, std::string& line, std::int64_t line_number, const std::string& path) {
  line.clear();
  std::streambuf* buffer = in.rdbuf();
  bool any = false;
  for (int c = buffer->sbumpc(); c != std::char_traits<char>::eof(); c = buffer->sbumpc()) {
    any = true;
    if (c == '\n') return true;
    if (line.size() >= kMaxPromptLineBytes)
      throw PromptSetError(where(path, line_number) + "longer than " + std::to_string(kMaxPromptLineBytes >> 20) +
                           " MiB; split the prompt (no model's context holds that many tokens)");
    line.push_back(static_cast<char>(c));
  }
  return any;
}

std::optional<PromptRecord> PromptReader::next() {
  std::string line;
  while (read_line(in_, line, line_ + 1, path_)) {
    ++line_;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    return parse_prompt_line(line, line_, path_);
  }
  if (in_.bad()) throw PromptSetError(path_ + ": read error after line " + std::to_string(line_));
  return std::nullopt;
}

std::int64_t count_prompts(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw PromptSetError(path + ": cannot open the prompt set");
  std::int64_t count = 0, line_number = 0;
  std::string line;
  while (read_line(in, line, ++line_number, path))
    if (line.find_first_not_of(" \t\r") != std::string::npos) ++count;
  return count;
}

}  // namespace headscope::io
