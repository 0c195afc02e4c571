// Streaming JSON (see json_stream.h): the counted byte source and the SAX handler that rebuilds one
// element of a top-level array at a time, the way nlohmann's own DOM parser builds a whole document.
#include "core/io/json_stream.h"

#include <algorithm>
#include <cstring>

#include "core/io/import.h"
#include "core/io/import_support.h"

namespace headscope::io::detail {

using json = nlohmann::json;

ByteSource::ByteSource(const std::string& path) : path_(path) {
  file_ = std::fopen(path.c_str(), "rb");
  if (!file_) throw ImportError(path + ": cannot open (" + std::strerror(errno) + ")");
  std::fseek(file_, 0, SEEK_END);
  const long size = std::ftell(file_);
  std::fseek(file_, 0, SEEK_SET);
  buffer_.resize(static_cast<std::size_t>(std::clamp<long>(size + 1, 1, 1 << 20)));  // small files, small buffer
}

ByteSource::~ByteSource() {
  if (file_) std::fclose(file_);
}

bool ByteSource::refill() {
  consumed_before_ += filled_;
  position_ = 0;
  filled_ = std::fread(buffer_.data(), 1, buffer_.size(), file_);
  if (filled_ == 0 && std::ferror(file_)) throw ImportError(path_ + ": read error at byte " + std::to_string(consumed_before_));
  return filled_ > 0;
}

void throw_json_syntax_error(const std::string& path, std::uint64_t position, const std::exception& error) {
  // nlohmann's message repeats its own line count; keep only the part after "parse error ...: ".
  std::string message = error.what();
  const auto colon = message.find(": ", message.find("parse error"));
  if (colon != std::string::npos) message = message.substr(colon + 2);
  throw ImportError(path + ": " + describe_offset(path, position > 0 ? position - 1 : 0) + ": invalid JSON: " + message);
}

std::uint64_t locate_text(const std::string& path, std::uint64_t begin, std::uint64_t end, const std::string& needle) {
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (!file || needle.empty()) {
    if (file) std::fclose(file);
    return begin;
  }
  std::fseek(file, static_cast<long>(begin), SEEK_SET);
  std::string window;
  std::vector<char> buffer(1 << 16);
  std::uint64_t window_start = begin;
  std::uint64_t result = begin;
  while (window_start < end) {
    const std::size_t got = std::fread(buffer.data(), 1, buffer.size(), file);
    if (got == 0) break;
    window.append(buffer.data(), got);
    const auto hit = window.find(needle);
    if (hit != std::string::npos) {
      if (window_start + hit < end) result = window_start + hit;
      break;
    }
    const std::size_t keep = std::min(window.size(), needle.size() - 1);
    window_start += window.size() - keep;
    window.erase(0, window.size() - keep);
  }
  std::fclose(file);
  return result;
}

namespace {

// Builds each element of the top-level array as a json value, then hands it on and forgets it.
class ArrayElementSax {
 public:
  ArrayElementSax(ByteSource& source, std::string what,
                  const std::function<void(json&, const ArrayElement&)>& on_element)
      : source_(source), what_(std::move(what)), on_element_(on_element) {}

  bool null() { return add(json(nullptr)); }
  bool boolean(bool v) { return add(json(v)); }
  bool number_integer(json::number_integer_t v) { return add(json(v)); }
  bool number_unsigned(json::number_unsigned_t v) { return add(json(v)); }
  bool number_float(json::number_float_t v, const std::string&) { return add(json(v)); }
  bool string(std::string& v) { return add(json(std::move(v))); }
  bool binary(json::binary_t&) { return add(json(nullptr)); }
  bool start_object(std::size_t) { return open(json::object()); }
  bool start_array(std::size_t) {
    if (depth_ == 0) { depth_ = 1; return true; }
    return open(json::array());
  }
  bool key(std::string& k) { key_ = std::move(k); return true; }
  bool end_object() { return close(); }
  bool end_array() {
    if (depth_ == 1) { depth_ = 0; return true; }
    return close();
  }
  bool parse_error(std::size_t position, const std::string&, const json::exception& error) {
    throw_json_syntax_error(source_.path(), position, error);
  }

 private:
  void require_array(const char* found) {
    if (depth_ == 0)
      throw ImportError(source_.path() + ": " + describe_offset(source_.path(), source_.offset() ? source_.offset() - 1 : 0) +
                        ": expected a list of " + what_ + " at the top level, found " + found);
  }
  bool add(json&& value) {
    require_array(value.type_name());
    if (depth_ == 1) {  // a scalar element: hand it on as it is
      element_begin_ = source_.offset();
      element_ = std::move(value);
      deliver();
      return true;
    }
    insert(std::move(value));
    return true;
  }
  json* insert(json&& value) {
    json& parent = *stack_.back();
    if (parent.is_array()) {
      parent.push_back(std::move(value));
      return &parent.back();
    }
    json& slot = parent[key_];
    slot = std::move(value);
    return &slot;
  }
  bool open(json&& container) {
    require_array(container.is_object() ? "an object" : "an array");
    if (depth_ == 1) {
      element_begin_ = source_.offset() ? source_.offset() - 1 : 0;
      element_ = std::move(container);
      stack_.push_back(&element_);
    } else {
      stack_.push_back(insert(std::move(container)));
    }
    ++depth_;
    return true;
  }
  bool close() {
    stack_.pop_back();
    --depth_;
    if (depth_ == 1) deliver();
    return true;
  }
  void deliver() {
    ArrayElement where{index_++, element_begin_, source_.offset()};
    on_element_(element_, where);
    element_ = json();
  }

  ByteSource& source_;
  std::string what_;
  const std::function<void(json&, const ArrayElement&)>& on_element_;
  std::vector<json*> stack_;
  json element_;
  std::string key_;
  int depth_ = 0;
  std::size_t index_ = 0;
  std::uint64_t element_begin_ = 0;
};

}  // namespace

void stream_json_array(const std::string& path, const std::string& what,
                       const std::function<void(json&, const ArrayElement&)>& on_element) {
  ByteSource source(path);
  ArrayElementSax sax(source, what, on_element);
  sax_parse_file(source, sax);
}

json parse_json_file(const std::string& path) {
  ByteSource source(path);
  json result;
  try {
    result = json::parse(ByteIterator(&source), ByteIterator());
  } catch (const json::parse_error& error) {
    throw_json_syntax_error(path, error.byte, error);
  } catch (const json::exception& error) {  // out_of_range: a number like 1e999 that no double holds
    throw ImportError(path + ": not valid JSON (" + error.what() + ")");
  }
  return result;
}

}  // namespace headscope::io::detail
