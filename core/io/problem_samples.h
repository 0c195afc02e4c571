// The per-problem conversions of the JSON importers, exposed (inside io::detail) so the fuzz targets can
// drive them without creating a store: one JSD problem file -> a sample, one IAF problem -> a sample.
#pragma once
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "core/io/json_stream.h"
#include "core/store/layout.h"

namespace headscope::io::detail {

// Reads one per-problem JSD file into a 1x1 model-level sample (docs/importers.md). Ids already used
// get "@file" appended (counted in `renamed`). Throws ImportError naming the file and line.
store::SampleRecord jsd_problem_sample(const std::string& path, std::set<std::string>& used_ids, int& renamed);

struct IafContext {
  int layers = 0, heads = 0;
  std::set<std::string> used_ids;
  int renamed = 0, empty_skipped = 0;
};

// Converts one problem of an IAF chunk; false (and counted) for a problem without generation steps.
bool iaf_problem_sample(nlohmann::json& problem, const std::string& path, const ArrayElement& where, IafContext& context,
                        store::SampleRecord& sample);

}  // namespace headscope::io::detail
