// A streaming reader of the earlier pipeline's per-token metric CSV
//   sample_id,layer,head,token_pos,query_norm,entropy,max_attn,k_eff
// (columns in any order, extra columns ignored). Reads 4 MiB blocks and parses numbers with
// std::from_chars; memory stays at one block whatever the file size. Empty cells and "nan" are NaN in the
// four metric columns; the integer columns must be integers. Every error names the file and line.
#pragma once
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

namespace headscope::io {

struct MetricCsvRow {
  std::string_view sample_id;  // valid until the next call to next()
  int layer = 0;
  int head = 0;
  int token_pos = 0;
  float query_norm = 0, entropy = 0, max_attn = 0, k_eff = 0;
};

class MetricCsvReader {
 public:
  static constexpr const char* kHeader = "sample_id,layer,head,token_pos,query_norm,entropy,max_attn,k_eff";

  explicit MetricCsvReader(const std::string& path);  // opens and checks the header; throws ImportError
  // Parses `data` as if it were the file `name` (for tests and the fuzzer).
  MetricCsvReader(const std::string& name, std::string_view data);
  ~MetricCsvReader();
  MetricCsvReader(const MetricCsvReader&) = delete;
  MetricCsvReader& operator=(const MetricCsvReader&) = delete;

  // The next data row; false at the end of the file. Throws ImportError naming the file and line.
  bool next(MetricCsvRow& row);
  std::uint64_t line() const { return line_; }        // line of the row last returned (1 = header)
  std::uint64_t bytes_read() const { return consumed_ + begin_; }
  const std::string& path() const { return path_; }

 private:
  void read_header();
  bool next_line(std::string_view& line);
  [[noreturn]] void fail(const std::string& what) const;

  std::string path_;
  std::FILE* file_ = nullptr;
  std::vector<char> buffer_;
  std::size_t begin_ = 0, end_ = 0;  // unread bytes of the buffer
  std::uint64_t consumed_ = 0;       // bytes dropped from the front of the buffer so far
  bool eof_ = false;
  std::uint64_t line_ = 0;
  std::vector<int> column_role_;     // per file column: index into the 8 known columns, or -1
  int column_count_ = 0;
  std::string unquoted_id_;          // scratch for a quoted sample_id
  std::string unquoted_field_;       // scratch for another quoted field
};

}  // namespace headscope::io
