// `headscope inspect`: a semantic summary of a store — kind, model, sample and token counts, each metric
// with shape, type and bytes on disk, whether a writer is live — that never dumps array contents.
#pragma once
#include <nlohmann/json.hpp>
#include <string>

namespace headscope::store {

nlohmann::json inspect_json(const std::string& path);   // throws StoreError for a bad file
std::string inspect_text(const std::string& path);      // the same, for people

}  // namespace headscope::store
