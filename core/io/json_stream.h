// Streaming JSON for the importers: a buffered byte source that counts its offset (so errors can name
// the line and column), an input iterator nlohmann's SAX parser reads from, and stream_json_array(),
// which hands each element of a top-level array to a callback as a complete value and then drops it —
// memory is bounded by the largest element, never by the file (IAF chunks are ~200 MB).
#pragma once
#include <cstdint>
#include <cstdio>
#include <functional>
#include <iterator>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace headscope::io::detail {

class ByteSource {
 public:
  explicit ByteSource(const std::string& path);  // throws ImportError if it cannot be opened
  ~ByteSource();
  ByteSource(const ByteSource&) = delete;
  ByteSource& operator=(const ByteSource&) = delete;

  bool at_end() {
    if (position_ < filled_) return false;
    return !refill();
  }
  char peek() const { return buffer_[position_]; }
  void advance() { ++position_; }
  std::uint64_t offset() const { return consumed_before_ + position_; }  // bytes handed out so far
  const std::string& path() const { return path_; }

 private:
  bool refill();
  std::string path_;
  std::FILE* file_ = nullptr;
  std::vector<char> buffer_;
  std::size_t position_ = 0, filled_ = 0;
  std::uint64_t consumed_before_ = 0;
};

// An input iterator over a ByteSource; a default-constructed iterator is the end.
class ByteIterator {
 public:
  using iterator_category = std::input_iterator_tag;
  using value_type = char;
  using difference_type = std::ptrdiff_t;
  using pointer = const char*;
  using reference = char;

  ByteIterator() = default;
  explicit ByteIterator(ByteSource* source) : source_(source) {}
  char operator*() const { return source_->peek(); }
  ByteIterator& operator++() { source_->advance(); return *this; }
  bool operator==(const ByteIterator& other) const { return done() == other.done(); }
  bool operator!=(const ByteIterator& other) const { return !(*this == other); }

 private:
  bool done() const { return source_ == nullptr || source_->at_end(); }
  ByteSource* source_ = nullptr;
};

// Turns a SAX parse error into an ImportError naming the file, line and column.
[[noreturn]] void throw_json_syntax_error(const std::string& path, std::uint64_t position, const std::exception& error);

// The offset of the first occurrence of `needle` in [begin, end) of the file, or `begin` if absent.
std::uint64_t locate_text(const std::string& path, std::uint64_t begin, std::uint64_t end, const std::string& needle);

struct ArrayElement {
  std::size_t index = 0;     // position in the top-level array
  std::uint64_t begin = 0;   // byte offsets of the element in the file (approximate to a token)
  std::uint64_t end = 0;
};

// Parses `path`, whose top level must be an array (`what` names its elements in errors, e.g.
// "problems"), calling `on_element` for each element in order.
void stream_json_array(const std::string& path, const std::string& what,
                       const std::function<void(nlohmann::json& element, const ArrayElement& where)>& on_element);

// Parses a whole (small) JSON file into a value; syntax errors name the line and column.
nlohmann::json parse_json_file(const std::string& path);

// Runs a SAX handler over a file; the handler's parse_error() should call throw_json_syntax_error.
template <class Sax>
void sax_parse_file(ByteSource& source, Sax& sax) {
  nlohmann::json::sax_parse(ByteIterator(&source), ByteIterator(), &sax);
}

}  // namespace headscope::io::detail
