// Typed access to the members of a parsed tokenizer.json / tokenizer_config.json that turns every missing
// member or wrong type into a TokenizerError naming the file and the member's path, e.g.
//   "/m/tokenizer.json: model.merges[12]: expected a string or a [left, right] pair".
#pragma once
#include <cstdint>
#include <string>
#include <utility>

#include <nlohmann/json.hpp>

namespace headscope::tokenizer {

class SpecReader {
 public:
  explicit SpecReader(std::string source) : source_(std::move(source)) {}

  const std::string& source() const { return source_; }

  [[noreturn]] void fail(const std::string& where, const std::string& what) const;

  // The member `key` of `object`, or nullptr when it is absent or null. `object` must be a JSON object.
  const nlohmann::json* find(const nlohmann::json& object, const char* key, const std::string& where) const;
  const nlohmann::json& require(const nlohmann::json& object, const char* key, const std::string& where) const;

  void expect_object(const nlohmann::json& value, const std::string& where) const;
  void expect_array(const nlohmann::json& value, const std::string& where) const;
  std::string as_string(const nlohmann::json& value, const std::string& where) const;

  std::string string_member(const nlohmann::json& object, const char* key, const std::string& where) const;
  std::string string_or(const nlohmann::json& object, const char* key, const std::string& fallback,
                        const std::string& where) const;
  bool bool_or(const nlohmann::json& object, const char* key, bool fallback, const std::string& where) const;
  std::int64_t int_or(const nlohmann::json& object, const char* key, std::int64_t fallback,
                      const std::string& where) const;
  // A token id: an integer in [0, 2^31 - 1).
  std::int32_t token_id(const nlohmann::json& value, const std::string& where) const;

 private:
  std::string source_;
};

// "where.key", or "key" when `where` is empty.
std::string member_path(const std::string& where, const std::string& key);

}  // namespace headscope::tokenizer
