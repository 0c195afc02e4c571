// SpecReader: checked reads of tokenizer.json members with errors that point at the file and member.
#include "capture/tokenizer/spec_reader.h"

#include <limits>

#include "capture/tokenizer/tokenizer.h"

namespace headscope::tokenizer {

std::string member_path(const std::string& where, const std::string& key) {
  return where.empty() ? key : where + "." + key;
}

void SpecReader::fail(const std::string& where, const std::string& what) const {
  throw TokenizerError(source_ + ": " + (where.empty() ? what : where + ": " + what));
}

void SpecReader::expect_object(const nlohmann::json& value, const std::string& where) const {
  if (!value.is_object()) fail(where, std::string("expected an object, found ") + value.type_name());
}

void SpecReader::expect_array(const nlohmann::json& value, const std::string& where) const {
  if (!value.is_array()) fail(where, std::string("expected an array, found ") + value.type_name());
}

const nlohmann::json* SpecReader::find(const nlohmann::json& object, const char* key, const std::string& where) const {
  expect_object(object, where);
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return nullptr;
  return &*it;
}

const nlohmann::json& SpecReader::require(const nlohmann::json& object, const char* key, const std::string& where) const {
  const nlohmann::json* value = find(object, key, where);
  if (value == nullptr) fail(member_path(where, key), "missing");
  return *value;
}

std::string SpecReader::as_string(const nlohmann::json& value, const std::string& where) const {
  if (!value.is_string()) fail(where, std::string("expected a string, found ") + value.type_name());
  return value.get<std::string>();
}

std::string SpecReader::string_member(const nlohmann::json& object, const char* key, const std::string& where) const {
  return as_string(require(object, key, where), member_path(where, key));
}

std::string SpecReader::string_or(const nlohmann::json& object, const char* key, const std::string& fallback,
                                  const std::string& where) const {
  const nlohmann::json* value = find(object, key, where);
  return value == nullptr ? fallback : as_string(*value, member_path(where, key));
}

bool SpecReader::bool_or(const nlohmann::json& object, const char* key, bool fallback, const std::string& where) const {
  const nlohmann::json* value = find(object, key, where);
  if (value == nullptr) return fallback;
  if (!value->is_boolean()) fail(member_path(where, key), std::string("expected true or false, found ") + value->type_name());
  return value->get<bool>();
}

std::int64_t SpecReader::int_or(const nlohmann::json& object, const char* key, std::int64_t fallback,
                                const std::string& where) const {
  const nlohmann::json* value = find(object, key, where);
  if (value == nullptr) return fallback;
  if (!value->is_number_integer()) fail(member_path(where, key), std::string("expected an integer, found ") + value->type_name());
  return value->get<std::int64_t>();
}

std::int32_t SpecReader::token_id(const nlohmann::json& value, const std::string& where) const {
  if (!value.is_number_integer()) fail(where, std::string("expected an integer token id, found ") + value.type_name());
  const std::int64_t id = value.is_number_unsigned() && value.get<std::uint64_t>() > static_cast<std::uint64_t>(
                                                                                        std::numeric_limits<std::int64_t>::max())
                              ? -1
                              : value.get<std::int64_t>();
  if (id < 0 || id >= std::numeric_limits<std::int32_t>::max())
    fail(where, "token id " + value.dump() + " is out of range [0, 2^31 - 1)");
  return static_cast<std::int32_t>(id);
}

}  // namespace headscope::tokenizer
