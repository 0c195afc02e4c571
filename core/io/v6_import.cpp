// V6 attention results -> store (`headscope import v6`). A results JSON holds one problem (an object) or
// several (a list of objects); each has `jsd_trace` as [{"step": s, "jsd": v, ...}] (one model-level JSD
// per generation step, step s >= 1 compares steps s-1 and s) and may name an `attention_file`
// (attention_*.npz, absolute or relative to the JSON's folder or one of its parents). The store is 1 x 1
// "model-level" like the JSD importer's: metric `jsd` at token s = the step's value. The npz's first float
// array [layer, head, seq, seq], [head, seq, seq] or [seq, seq] becomes, averaged over its layers and
// heads, the pinned attention of L0H0 (the whole model); a missing npz imports the trace alone, noted.
#include <cmath>
#include <filesystem>
#include <limits>
#include <map>
#include <optional>
#include <set>

#include "core/io/import.h"
#include "core/io/import_support.h"
#include "core/io/json_stream.h"
#include "core/io/npz.h"
#include "core/io/problem_samples.h"

namespace headscope::io {

using json = nlohmann::json;
using namespace detail;
namespace fs = std::filesystem;

namespace {

// The npz named by `name`: absolute as is; relative, in the JSON's folder or the nearest parent that has it.
std::optional<std::string> resolve_attention_file(const std::string& json_path, const std::string& name) {
  const fs::path given(name);
  if (given.is_absolute()) return fs::exists(given) ? std::optional<std::string>(given.string()) : std::nullopt;
  for (fs::path folder = fs::absolute(json_path).parent_path();; folder = folder.parent_path()) {
    if (fs::exists(folder / given)) return (folder / given).lexically_normal().string();
    if (folder == folder.parent_path()) return std::nullopt;
  }
}

// The model-level [seq, seq] attention of an npz: its first float member of rank 2-4 whose last two
// dimensions are equal, averaged over the leading ones. Throws ImportError naming the file.
std::vector<float> model_attention(const std::string& npz_path, int& seq, std::string& described) {
  NpzFile npz(npz_path);
  for (const auto& name : npz.names()) {
    const NpyArray array = npz.array(name);
    const auto& shape = array.header.shape;
    const bool is_float = array.header.type == NpyType::float16 || array.header.type == NpyType::float32 ||
                          array.header.type == NpyType::float64;
    if (!is_float || shape.size() < 2 || shape.size() > 4 || shape[shape.size() - 1] != shape[shape.size() - 2]) continue;
    const std::uint64_t n = shape.back();
    if (n == 0 || n > static_cast<std::uint64_t>(kMaxImportTokens))
      throw ImportError(npz_path + ": member '" + name + "': " + std::to_string(n) + " positions, outside 1.." +
                        std::to_string(kMaxImportTokens));
    std::uint64_t matrices = 1;
    for (std::size_t d = 0; d + 2 < shape.size(); ++d) matrices *= shape[d];
    const std::vector<float> values = array.to_floats();
    std::vector<double> sum(n * n, 0.0);
    for (std::uint64_t m = 0; m < matrices; ++m)
      for (std::uint64_t i = 0; i < n * n; ++i) sum[i] += values[m * n * n + i];
    std::vector<float> mean(n * n);
    for (std::uint64_t i = 0; i < n * n; ++i) mean[i] = static_cast<float>(sum[i] / static_cast<double>(matrices));
    seq = static_cast<int>(n);
    described = npz_path + ":" + name + " [";
    for (std::size_t d = 0; d < shape.size(); ++d) described += (d ? ", " : "") + std::to_string(shape[d]);
    described += "] averaged over " + std::to_string(matrices) + " layer x head matrices";
    return mean;
  }
  throw ImportError(npz_path + ": no float array [layer, head, seq, seq], [head, seq, seq] or [seq, seq] among its members");
}

std::string field_where(const std::string& path, std::size_t problem, const std::string& field) {
  return path + ": problem " + std::to_string(problem) + ": field '" + field + "'";
}

}  // namespace

std::vector<V6Problem> detail::v6_problems(const std::string& path) {
  const json root = parse_json_file(path);
  std::vector<const json*> problems;
  if (root.is_object()) problems.push_back(&root);
  else if (root.is_array())
    for (const auto& item : root) problems.push_back(&item);
  else
    throw ImportError(path + ": " + describe_offset(path, 0) + ": expected a V6 result (an object) or a list of them, found " +
                      root.type_name());
  std::vector<V6Problem> out;
  for (std::size_t p = 0; p < problems.size(); ++p) {
    const json& problem = *problems[p];
    if (!problem.is_object()) throw ImportError(path + ": problem " + std::to_string(p) + ": expected an object, found " + problem.type_name());
    if (!problem.contains("jsd_trace") || !problem["jsd_trace"].is_array())
      throw ImportError(field_where(path, p, "jsd_trace") + ": expected a list of {\"step\", \"jsd\"} objects");
    V6Problem v6;
    std::map<int, float> steps;
    for (std::size_t e = 0; e < problem["jsd_trace"].size(); ++e) {
      const json& entry = problem["jsd_trace"][e];
      const std::string where = field_where(path, p, "jsd_trace") + ": element " + std::to_string(e);
      if (!entry.is_object() || !entry.contains("step") || !entry["step"].is_number_integer() || !entry.contains("jsd"))
        throw ImportError(where + ": expected {\"step\": integer, \"jsd\": number}, found " + entry.dump().substr(0, 40));
      const std::int64_t step = entry["step"].get<std::int64_t>();
      if (step < 0 || step >= kMaxImportTokens)
        throw ImportError(where + ": step " + std::to_string(step) + " outside 0.." + std::to_string(kMaxImportTokens - 1));
      const json& value = entry["jsd"];
      if (!value.is_number() && !value.is_null()) throw ImportError(where + ": 'jsd' must be a number or null, found " + value.type_name());
      if (!steps.emplace(static_cast<int>(step), value.is_null() ? std::nanf("") : import_float(value, where)).second)
        throw ImportError(where + ": step " + std::to_string(step) + " appears twice");
    }
    v6.trace_tokens = steps.empty() ? 1 : steps.rbegin()->first + 1;
    v6.jsd.assign(static_cast<std::size_t>(v6.trace_tokens), std::nanf(""));
    for (const auto& [step, value] : steps) v6.jsd[static_cast<std::size_t>(step)] = value;
    if (problem.contains("attention_file")) {
      if (!problem["attention_file"].is_string()) throw ImportError(field_where(path, p, "attention_file") + ": expected a path string");
      v6.attention_file = problem["attention_file"].get<std::string>();
      if (const auto found = resolve_attention_file(path, v6.attention_file)) v6.attention_path = *found;
    }
    json metadata = json::object();
    for (auto it = problem.begin(); it != problem.end(); ++it)
      if (it.key() != "jsd_trace") metadata[it.key()] = it.value();
    metadata["source_file"] = path;
    metadata["per_head"] = false;
    v6.metadata = metadata;
    for (const char* key : {"idx", "id", "problem_id"})
      if (problem.contains(key) && (problem[key].is_string() || problem[key].is_number_integer())) {
        v6.id = problem[key].is_string() ? problem[key].get<std::string>() : std::to_string(problem[key].get<std::int64_t>());
        break;
      }
    if (v6.id.empty()) v6.id = fs::path(path).stem().string() + (problems.size() > 1 ? "#" + std::to_string(p) : "");
    out.push_back(std::move(v6));
  }
  return out;
}

store::SampleRecord detail::v6_sample(V6Problem& problem, bool pinned, std::string& attention_note) {
  store::SampleRecord sample;
  int seq = 0;
  std::vector<float> attention;
  if (!problem.attention_path.empty()) {
    attention = model_attention(problem.attention_path, seq, attention_note);
    if (seq < problem.trace_tokens)
      throw ImportError(problem.attention_path + ": attention covers " + std::to_string(seq) + " positions but jsd_trace of '" +
                        problem.id + "' reaches step " + std::to_string(problem.trace_tokens - 1));
  }
  const int tokens = std::max(seq, problem.trace_tokens);
  const int offset = tokens - problem.trace_tokens;  // the trace's last step is the last position
  sample.tokens.assign(static_cast<std::size_t>(tokens), -1);
  std::vector<float> jsd(static_cast<std::size_t>(tokens), std::nanf(""));  // [token, layer=1, head=1]
  for (int s = 0; s < problem.trace_tokens; ++s) jsd[static_cast<std::size_t>(offset + s)] = problem.jsd[static_cast<std::size_t>(s)];
  sample.metrics.push_back(std::move(jsd));
  sample.prompt_length = 0;
  if (pinned) {
    if (attention.empty()) attention.assign(static_cast<std::size_t>(tokens) * tokens, std::nanf(""));
    sample.pinned_attention.push_back(std::move(attention));
  }
  problem.metadata["trace_offset"] = offset;
  if (!problem.attention_file.empty()) {
    if (problem.attention_path.empty()) problem.metadata["attention_missing"] = problem.attention_file;
    else problem.metadata["attention_source"] = attention_note;
  }
  sample.id = problem.id;
  sample.metadata_json = problem.metadata.dump();
  return sample;
}

ImportSummary import_v6(const ImportOptions& options) {
  const auto files = collect_files(options.inputs, {".json"}, "V6 results JSON");
  PartialStore out(options);
  std::uint64_t bytes_total = 0, bytes_read = 0;
  for (const auto& f : files) bytes_total += file_size(f);
  ProgressTicker ticker(options.progress, bytes_total);

  // Read every result first: whether any attention file is at hand decides the layout.
  std::vector<std::vector<V6Problem>> problems;
  std::vector<std::string> missing_files;
  bool any_attention = false;
  for (const auto& file : files) {
    problems.push_back(v6_problems(file));
    for (const auto& p : problems.back()) {
      any_attention = any_attention || !p.attention_path.empty();
      if (!p.attention_file.empty() && p.attention_path.empty()) missing_files.push_back(p.attention_file);
    }
  }
  store::StoreLayout layout;
  layout.kind = store::RunKind::import;
  layout.layer_count = 1;
  layout.head_count = 1;
  layout.metrics = {store::standard_metric("jsd")};
  layout.metric_type = store::ValueType::float32;
  if (any_attention) layout.pinned_heads = {{0, 0}};

  json settings = base_settings("v6", "V6 results JSON (jsd_trace as [{step, jsd}], attention_file naming attention_*.npz)", files, options);
  settings["layout"] = "model-level: 1 layer x 1 head; layer 0 head 0 stands for the whole model";
  settings["missing"] = {"per-head breakdown of the JSD (the source has one model-level trace per problem)", "token ids and texts",
                         "other per-token metrics"};
  json notes = {"jsd at token s is the jsd_trace entry of step s; steps not listed are NaN",
                "with attention, the trace is aligned to the attention's last position (metadata trace_offset)"};
  if (any_attention) notes.push_back("pinned attention of L0H0: the npz's attention averaged over its layers and heads");
  if (!missing_files.empty())
    notes.push_back(std::to_string(missing_files.size()) + " attention files not found (first: " + missing_files.front() +
                    "); those problems hold the trace alone" + (any_attention ? " and NaN attention" : ""));
  settings["notes"] = notes;
  out.create(layout, import_provenance(options, settings));

  std::set<std::string> used_ids;
  std::int64_t rows = 0;
  int renamed = 0;
  for (std::size_t f = 0; f < files.size(); ++f) {
    ticker.set_file(files[f]);
    for (auto& problem : problems[f]) {
      if (!used_ids.insert(problem.id).second) {
        problem.id += "@" + files[f];
        used_ids.insert(problem.id);
        ++renamed;
      }
      std::string attention_note;
      out.append(v6_sample(problem, any_attention, attention_note));
      ++rows;
    }
    bytes_read += file_size(files[f]);
    ticker.update(rows, out.samples(), bytes_read);
  }
  ticker.update(rows, out.samples(), bytes_read, true);
  out.commit();

  ImportSummary summary;
  summary.out = options.out;
  summary.format = "v6";
  summary.sources = files;
  summary.rows = rows;
  finish_summary(summary, out, layout, settings, ticker.seconds());
  if (renamed > 0) summary.notes.push_back(std::to_string(renamed) + " problems repeated an id; their id is id@file");
  return summary;
}

}  // namespace headscope::io
