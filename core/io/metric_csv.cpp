// Streaming per-token metric CSV reader (see metric_csv.h). The hot loop walks each line once: memchr
// for the line end, a scan for commas, from_chars for the numbers.
#include "core/io/metric_csv.h"

#include <cerrno>
#include <charconv>
#include <cstring>
#include <limits>

#include "core/io/import.h"

namespace headscope::io {

namespace {

constexpr std::size_t kBlockBytes = 4u << 20;
constexpr std::size_t kMaxLineBytes = 64u << 20;
constexpr const char* kColumns[8] = {"sample_id", "layer", "head", "token_pos", "query_norm", "entropy", "max_attn", "k_eff"};

std::string shown(std::string_view text) {
  std::string s(text.substr(0, 40));
  if (text.size() > 40) s += "...";
  return "'" + s + "'";
}

}  // namespace

MetricCsvReader::MetricCsvReader(const std::string& path) : path_(path), buffer_(kBlockBytes) {
  file_ = std::fopen(path.c_str(), "rb");
  if (!file_) throw ImportError(path + ": cannot open (" + std::strerror(errno) + ")");
  read_header();
}

MetricCsvReader::MetricCsvReader(const std::string& name, std::string_view data)
    : path_(name), buffer_(data.begin(), data.end()), end_(data.size()), eof_(true) {
  read_header();
}

MetricCsvReader::~MetricCsvReader() {
  if (file_) std::fclose(file_);
}

void MetricCsvReader::fail(const std::string& what) const {
  throw ImportError(path_ + ": line " + std::to_string(line_) + ": " + what);
}

// The next line without its end-of-line, or false at the end of the input.
bool MetricCsvReader::next_line(std::string_view& line) {
  for (;;) {
    const char* start = buffer_.data() + begin_;
    const char* newline = begin_ < end_ ? static_cast<const char*>(std::memchr(start, '\n', end_ - begin_)) : nullptr;
    if (newline || (eof_ && begin_ < end_)) {
      const char* stop = newline ? newline : buffer_.data() + end_;
      std::size_t length = static_cast<std::size_t>(stop - start);
      if (length > 0 && start[length - 1] == '\r') --length;
      line = std::string_view(start, length);
      begin_ = newline ? static_cast<std::size_t>(newline - buffer_.data()) + 1 : end_;
      ++line_;
      return true;
    }
    if (eof_) return false;
    // Move the partial line to the front and read more behind it.
    const std::size_t pending = end_ - begin_;
    std::memmove(buffer_.data(), buffer_.data() + begin_, pending);
    consumed_ += begin_;
    begin_ = 0;
    end_ = pending;
    if (end_ == buffer_.size()) {
      if (buffer_.size() >= kMaxLineBytes) { ++line_; fail("line longer than 64 MiB: not a per-token metric CSV"); }
      buffer_.resize(buffer_.size() * 2);
    }
    const std::size_t got = std::fread(buffer_.data() + end_, 1, buffer_.size() - end_, file_);
    if (got == 0) {
      if (std::ferror(file_)) fail("read error");
      eof_ = true;
    }
    end_ += got;
  }
}

void MetricCsvReader::read_header() {
  std::string_view header;
  if (!next_line(header)) { line_ = 1; fail(std::string("empty file; expected the header ") + kHeader); }
  if (header.size() >= 3 && static_cast<unsigned char>(header[0]) == 0xEF) header.remove_prefix(3);  // UTF-8 BOM
  int found[8];
  std::fill(std::begin(found), std::end(found), -1);
  std::size_t pos = 0;
  while (pos <= header.size()) {
    std::size_t comma = header.find(',', pos);
    if (comma == std::string_view::npos) comma = header.size();
    std::string_view name = header.substr(pos, comma - pos);
    if (name.size() >= 2 && name.front() == '"' && name.back() == '"') name = name.substr(1, name.size() - 2);
    int role = -1;
    for (int c = 0; c < 8; ++c)
      if (name == kColumns[c]) role = c;
    if (role >= 0) {
      if (found[role] >= 0) fail("column '" + std::string(name) + "' appears twice in the header");
      found[role] = column_count_;
    }
    column_role_.push_back(role);
    ++column_count_;
    pos = comma + 1;
  }
  std::string missing;
  for (int c = 0; c < 8; ++c)
    if (found[c] < 0) missing += (missing.empty() ? "" : ", ") + std::string(kColumns[c]);
  if (!missing.empty())
    fail("the header lacks column(s) " + missing + "; expected " + kHeader + " (found " + shown(header) + ")");
}

bool MetricCsvReader::next(MetricCsvRow& row) {
  std::string_view line;
  do {
    if (!next_line(line)) return false;
  } while (line.empty());  // blank lines (e.g. a trailing one) carry nothing
  const char* p = line.data();
  const char* const stop = p + line.size();
  for (int column = 0; column < column_count_; ++column) {
    const char* field_end;
    std::string_view field;
    if (p < stop && *p == '"') {  // quoted: "" is an escaped quote
      std::string& unquoted = column_role_[column] == 0 ? unquoted_id_ : unquoted_field_;
      unquoted.clear();
      const char* q = p + 1;
      for (;;) {
        if (q >= stop) fail("column " + std::to_string(column + 1) + ": unterminated quoted field");
        if (*q == '"') {
          if (q + 1 < stop && q[1] == '"') { unquoted += '"'; q += 2; continue; }
          ++q;
          break;
        }
        unquoted += *q++;
      }
      field_end = q;
      if (field_end < stop && *field_end != ',') fail("column " + std::to_string(column + 1) + ": text after a closing quote");
      field = unquoted;
    } else {
      field_end = static_cast<const char*>(std::memchr(p, ',', static_cast<std::size_t>(stop - p)));
      if (!field_end) field_end = stop;
      field = std::string_view(p, static_cast<std::size_t>(field_end - p));
    }
    const bool last = column == column_count_ - 1;
    if (last ? field_end != stop : field_end == stop)
      fail("expected " + std::to_string(column_count_) + " comma-separated fields, found " +
           std::to_string(last ? column_count_ + 1 : column + 1) + (last ? " or more" : "") + " in " + shown(line));
    const int role = column_role_[column];
    if (role == 0) {
      if (field.empty()) fail("column sample_id is empty");
      row.sample_id = field;
    } else if (role >= 1 && role <= 3) {
      int value = 0;
      const auto [end, error] = std::from_chars(field.data(), field.data() + field.size(), value);
      if (error != std::errc() || end != field.data() + field.size() || value < 0)
        fail(std::string("column ") + kColumns[role] + ": expected a non-negative integer, found " + shown(field));
      (role == 1 ? row.layer : role == 2 ? row.head : row.token_pos) = value;
    } else if (role >= 4) {
      float value = std::numeric_limits<float>::quiet_NaN();
      if (!field.empty()) {
        const auto [end, error] = std::from_chars(field.data(), field.data() + field.size(), value);
        if (error == std::errc::result_out_of_range) {
          fail(std::string("column ") + kColumns[role] + ": " + shown(field) + " is out of float range");
        } else if (error != std::errc() || end != field.data() + field.size()) {
          fail(std::string("column ") + kColumns[role] + ": expected a number (or empty / nan), found " + shown(field));
        }
      }
      (role == 4 ? row.query_norm : role == 5 ? row.entropy : role == 6 ? row.max_attn : row.k_eff) = value;
    }
    p = field_end + 1;
  }
  return true;
}

}  // namespace headscope::io
