// The per-problem conversions of the JSON importers, exposed (inside io::detail) so the fuzz targets can
// drive them without creating a store: one JSD problem file -> a sample, one IAF problem -> a sample.
#pragma once
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "core/io/json_stream.h"
#include "core/store/layout.h"

namespace headscope::io::detail {

// Reads one per-problem JSD file into a 1x1 model-level sample (docs/importers.md). Ids already used
// get "@file" appended (counted in `renamed`). Throws ImportError naming the file and line.
store::SampleRecord jsd_problem_sample(const std::string& path, std::set<std::string>& used_ids, int& renamed);

// One problem of a V6 results JSON, read but not yet converted (v6_import.cpp).
struct V6Problem {
  std::string id;
  std::vector<float> jsd;        // [step] the trace, NaN where a step is not listed
  int trace_tokens = 1;          // last step + 1
  std::string attention_file;    // as the result names it ("" when none)
  std::string attention_path;    // where it was found ("" when not found)
  nlohmann::json metadata;       // everything else, verbatim, plus source_file
};
// Every problem of a V6 results file (an object or a list of them). Throws ImportError naming the file,
// the problem and the field.
std::vector<V6Problem> v6_problems(const std::string& path);
// The 1 x 1 model-level sample of one problem; `pinned`: the store pins L0H0 (the npz's attention averaged
// over layers and heads, NaN when the problem has none). Throws ImportError naming the npz.
store::SampleRecord v6_sample(V6Problem& problem, bool pinned, std::string& attention_note);

struct IafContext {
  int layers = 0, heads = 0;
  std::set<std::string> used_ids;
  int renamed = 0, empty_skipped = 0;
};

// Converts one problem of an IAF chunk; false (and counted) for a problem without generation steps.
bool iaf_problem_sample(nlohmann::json& problem, const std::string& path, const ArrayElement& where, IafContext& context,
                        store::SampleRecord& sample);

}  // namespace headscope::io::detail
