// Decoding a sample's metadata and a run's settings (see facts.h): the one place HeadScope parses them.
#include "core/store/facts.h"

#include <cctype>

#include <nlohmann/json.hpp>

namespace headscope::store {

using nlohmann::json;

namespace {

std::string string_field(const json& object, const char* name) {
  return object.contains(name) && object[name].is_string() ? object[name].get<std::string>() : std::string();
}

std::vector<std::string> string_list(const json& object, const char* name) {
  std::vector<std::string> out;
  if (object.contains(name) && object[name].is_array())
    for (const auto& item : object[name])
      if (item.is_string()) out.push_back(item.get<std::string>());
  return out;
}

}  // namespace

std::optional<int> parse_level_text(const std::string& text) {
  std::size_t i = 0, end = text.size();
  auto space = [](char c) { return c == ' ' || c == '\t'; };
  while (i < end && space(text[i])) ++i;
  while (end > i && space(text[end - 1])) --end;
  static const std::string word = "level";
  if (end - i >= word.size()) {
    bool is_word = true;
    for (std::size_t k = 0; k < word.size(); ++k) is_word = is_word && std::tolower(static_cast<unsigned char>(text[i + k])) == word[k];
    if (is_word) {
      i += word.size();
      while (i < end && space(text[i])) ++i;
    }
  }
  if (i == end || end - i > 6) return std::nullopt;
  int value = 0;
  for (std::size_t k = i; k < end; ++k) {
    if (text[k] < '0' || text[k] > '9') return std::nullopt;
    value = value * 10 + (text[k] - '0');
  }
  return value;
}

SampleFacts decode_sample_facts(const std::string& metadata_json) {
  SampleFacts facts;
  const auto metadata = json::parse(metadata_json, nullptr, false);
  if (!metadata.is_object()) return facts;
  if (metadata.contains("level") && metadata["level"].is_number_integer()) facts.level = metadata["level"].get<int>();
  if (metadata.contains("level") && metadata["level"].is_string()) facts.level = parse_level_text(metadata["level"].get<std::string>());
  for (const char* field : {"text", "question"})
    if (metadata.contains(field) && metadata[field].is_string()) {
      facts.text = metadata[field].get<std::string>();
      break;
    }
  const std::pair<const char*, std::vector<int>*> span_lists[] = {{"span_tokens", &facts.step_starts},
                                                                    {"generated_spans", &facts.generated_step_starts}};
  for (const auto& [key, starts] : span_lists)
    if (metadata.contains("capture") && metadata["capture"].is_object() && metadata["capture"].contains(key) &&
        metadata["capture"][key].is_array())
      for (const auto& span : metadata["capture"][key])
        if (span.is_array() && !span.empty() && span[0].is_number_integer()) starts->push_back(span[0].get<int>());
  return facts;
}

RunSettings decode_run_settings(const std::string& settings_json) {
  RunSettings settings;
  const auto object = json::parse(settings_json, nullptr, false);
  if (!object.is_object()) return settings;
  settings.mode = string_field(object, "mode");
  settings.prompts = string_field(object, "prompts");
  settings.shards = string_field(object, "shards");
  settings.flow_select = string_field(object, "flow_select");
  if (object.contains("add_bos") && object["add_bos"].is_boolean()) settings.add_bos = object["add_bos"].get<bool>();
  settings.attention = string_field(object, "attention");
  settings.attention_note = string_field(object, "attention_note");
  if (object.contains("entropy_nan_first") && object["entropy_nan_first"].is_number_integer())
    settings.entropy_nan_first = object["entropy_nan_first"].get<int>();
  settings.importer = string_field(object, "importer");
  settings.format = string_field(object, "format");
  settings.sources = string_list(object, "sources");
  settings.missing = string_list(object, "missing");
  return settings;
}

}  // namespace headscope::store
