// Prompt sets: JSONL files, one prompt per line, as the capture engine reads them. Fields:
//   text     the prompt (or `ids`: a list of token ids, for models without a tokenizer)
//   id       optional; defaults to "line-N"
//   level    optional: an integer (difficulty) or MATH's string "Level 3" ("Level ?": none); answer optional
//   spans    optional [{"start": byte, "end": byte, "label": "add"}, ...] — labelled step spans over
//            `text` (UTF-8 byte offsets, end exclusive), for step embeddings and boundary checks
// Every other field is kept as metadata. Read line by line (memory does not grow with the file);
// errors name the file and line.
#pragma once
#include <cstdint>
#include <fstream>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace headscope::io {

// The longest prompt line read (bytes): far past any model's context, well short of exhausting memory.
constexpr std::size_t kMaxPromptLineBytes = std::size_t{16} << 20;

class PromptSetError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct PromptSpan {
  std::int64_t start = 0;  // byte offset into text
  std::int64_t end = 0;    // exclusive
  std::string label;
};

struct PromptRecord {
  std::string id;
  std::string text;
  std::vector<std::int32_t> ids;  // given instead of text
  std::optional<int> level;
  std::string answer;
  std::vector<PromptSpan> spans;
  std::string metadata_json;      // the whole line's object minus text/ids, as JSON
  std::int64_t line = 0;          // 1-based line in the file
};

class PromptReader {
 public:
  explicit PromptReader(const std::string& path);  // throws PromptSetError if unreadable
  // Next record; nullopt at the end. Blank lines are skipped. Throws PromptSetError for a bad line.
  std::optional<PromptRecord> next();
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::ifstream in_;
  std::int64_t line_ = 0;
};

// Non-blank lines of the file (a cheap first pass so progress can show a total and an ETA).
std::int64_t count_prompts(const std::string& path);
// Parses one line (exposed for tests and fuzzing).
PromptRecord parse_prompt_line(const std::string& line, std::int64_t line_number, const std::string& path);

}  // namespace headscope::io
