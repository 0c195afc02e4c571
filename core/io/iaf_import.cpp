// Chunked IAF JSON -> store. A chunk is a list of problems, each with `iaf_traces` (one dict per
// generation step holding only that step's top heads, keys like "L22H4"), `num_tokens`, `top_positions`,
// the problem text, solution and generated chain of thought. Chunks (~200 MB) are streamed one problem at
// a time. The store is sparse like the source: `iaf` is NaN where a head was not recorded and the metric
// `iaf_present` says, per step and head, whether the source had it. Mapping: docs/importers.md.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>
#include <set>

#include "core/io/import.h"
#include "core/io/import_support.h"
#include "core/io/json_stream.h"
#include "core/io/problem_samples.h"

namespace headscope::io {

using json = nlohmann::json;
using namespace detail;

namespace {

// "L22H4" -> {22, 4}; false for anything else. Hand-written: it runs for every key of a 200 MB chunk.
bool parse_head_key(const std::string& key, store::HeadRef& head) {
  std::size_t i = 0;
  auto number = [&](int& out) {
    const std::size_t start = i;
    long value = 0;
    while (i < key.size() && key[i] >= '0' && key[i] <= '9' && i - start < 6) value = value * 10 + (key[i++] - '0');
    out = static_cast<int>(value);
    return i > start;
  };
  if (key.size() < 4 || key[i++] != 'L' || !number(head.layer)) return false;
  if (i >= key.size() || key[i++] != 'H' || !number(head.head)) return false;
  return i == key.size();
}

// First pass (only without --layers/--heads): the largest layer and head among the step dicts' keys.
class HeadScanSax {
 public:
  explicit HeadScanSax(ByteSource& source) : source_(source) {}
  int max_layer = -1, max_head = -1;

  bool null() { return true; }
  bool boolean(bool) { return true; }
  bool number_integer(json::number_integer_t) { return true; }
  bool number_unsigned(json::number_unsigned_t) { return true; }
  bool number_float(json::number_float_t, const std::string&) { return true; }
  bool string(std::string&) { return true; }
  bool binary(json::binary_t&) { return true; }
  bool start_object(std::size_t) { return open(); }
  bool start_array(std::size_t) { return open(); }
  bool end_object() { containers_.pop_back(); return true; }
  bool end_array() { containers_.pop_back(); return true; }
  bool key(std::string& k) {
    key_ = k;
    // [chunk][problem]["iaf_traces"][step]{head: value}
    store::HeadRef head;
    if (containers_.size() == 4 && containers_[2] == "iaf_traces" && parse_head_key(k, head)) {
      max_layer = std::max(max_layer, head.layer);
      max_head = std::max(max_head, head.head);
    }
    return true;
  }
  bool parse_error(std::size_t position, const std::string&, const json::exception& error) {
    throw_json_syntax_error(source_.path(), position, error);
  }

 private:
  bool open() {
    containers_.push_back(key_);
    key_.clear();
    return true;
  }
  ByteSource& source_;
  std::vector<std::string> containers_;  // the key each open container was found under
  std::string key_;
};

std::string at(const std::string& path, const ArrayElement& where, const std::string& needle) {
  return path + ": " + describe_offset(path, locate_text(path, where.begin, where.end, needle)) + ": problem " +
         std::to_string(where.index);
}

std::string problem_id(const json& problem, const std::string& path, std::size_t index) {
  for (const char* key : {"idx", "id", "problem_id"}) {
    if (!problem.contains(key)) continue;
    const json& v = problem[key];
    return v.is_string() ? v.get<std::string>() : v.dump();
  }
  return std::filesystem::path(path).stem().string() + "#" + std::to_string(index);
}

}  // namespace

bool detail::iaf_problem_sample(json& problem, const std::string& path, const ArrayElement& where, IafContext& context,
                 store::SampleRecord& sample) {
  if (!problem.is_object())
    throw ImportError(path + ": " + describe_offset(path, where.begin) + ": problem " + std::to_string(where.index) +
                      ": expected an object, found " + problem.type_name());
  if (!problem.contains("iaf_traces"))
    throw ImportError(path + ": " + describe_offset(path, where.begin) + ": problem " + std::to_string(where.index) +
                      ": expected a field 'iaf_traces' (a list of {head: value} dicts, one per step)");
  const json& traces = problem["iaf_traces"];
  if (!traces.is_array())
    throw ImportError(at(path, where, "\"iaf_traces\"") + ": 'iaf_traces' must be a list, found " + traces.type_name());
  const std::size_t steps = traces.size();
  if (steps == 0) { ++context.empty_skipped; return false; }

  check_import_sample(at(path, where, "\"iaf_traces\""), static_cast<std::int64_t>(steps), context.layers, context.heads);
  const std::size_t per_token = static_cast<std::size_t>(context.layers) * context.heads;
  std::vector<float> iaf(steps * per_token, std::numeric_limits<float>::quiet_NaN());  // [step, layer, head]
  std::vector<float> present(steps * per_token, 0.0f);                                // [step, layer, head]
  std::set<store::HeadRef> heads_seen;
  std::size_t top_k = 0;
  for (std::size_t s = 0; s < steps; ++s) {
    const json& step = traces[s];
    if (!step.is_object())
      throw ImportError(at(path, where, "\"iaf_traces\"") + ": iaf_traces[" + std::to_string(s) +
                        "]: expected a {head: value} dict, found " + step.type_name());
    top_k = std::max(top_k, step.size());
    for (auto it = step.begin(); it != step.end(); ++it) {
      store::HeadRef head;
      if (!parse_head_key(it.key(), head))
        throw ImportError(at(path, where, "\"" + it.key() + "\"") + ": iaf_traces[" + std::to_string(s) + "]: key '" +
                          it.key() + "' is not a head name like L22H4");
      if (head.layer >= context.layers || head.head >= context.heads)
        throw ImportError(at(path, where, "\"" + it.key() + "\"") + ": head " + it.key() + " is outside the layout of " +
                          std::to_string(context.layers) + " layers x " + std::to_string(context.heads) +
                          " heads (raise --layers/--heads)");
      const json& value = it.value();
      if (!value.is_number() && !value.is_null())
        throw ImportError(at(path, where, "\"" + it.key() + "\"") + ": iaf_traces[" + std::to_string(s) + "][" + it.key() +
                          "]: expected a number, found " + value.type_name());
      const std::size_t cell = s * per_token + static_cast<std::size_t>(head.layer) * context.heads + head.head;
      iaf[cell] = value.is_null() ? std::numeric_limits<float>::quiet_NaN()
                                  : import_float(value, at(path, where, "\"" + it.key() + "\"") + ": iaf_traces[" +
                                                            std::to_string(s) + "][" + it.key() + "]");
      present[cell] = 1.0f;
      heads_seen.insert(head);
    }
  }
  sample.tokens.assign(steps, -1);
  sample.token_text.clear();
  sample.prompt_length = 0;
  sample.metrics = {std::move(iaf), std::move(present)};

  std::string id = problem_id(problem, path, where.index);
  if (!context.used_ids.insert(id).second) {
    id += "@" + path + "#" + std::to_string(where.index);
    context.used_ids.insert(id);
    ++context.renamed;
  }
  sample.id = id;
  problem.erase("iaf_traces");
  json heads = json::array();
  for (const auto& h : heads_seen) heads.push_back(store::head_name(h));
  problem["heads_present"] = std::move(heads);
  problem["top_k"] = top_k;
  problem["steps"] = steps;
  problem["source_file"] = path;
  problem["source_index"] = where.index;
  sample.metadata_json = problem.dump();
  return true;
}

ImportSummary import_iaf(const ImportOptions& options) {
  const auto files = collect_files(options.inputs, {".json"}, "chunked IAF JSON");
  PartialStore out(options);
  std::uint64_t bytes_total = 0;
  for (const auto& f : files) bytes_total += file_size(f);
  ProgressTicker ticker(options.progress, bytes_total);

  IafContext context;
  context.layers = options.layers;
  context.heads = options.heads;
  const bool scanned = context.layers <= 0 || context.heads <= 0;
  if (scanned) {  // a quick first pass over every chunk for the largest head
    int max_layer = -1, max_head = -1;
    for (const auto& file : files) {
      ticker.set_file(file + " (scanning for heads)");
      ByteSource source(file);
      HeadScanSax sax(source);
      sax_parse_file(source, sax);
      max_layer = std::max(max_layer, sax.max_layer);
      max_head = std::max(max_head, sax.max_head);
    }
    if (max_layer < 0) throw ImportError(files.front() + ": no head keys (like L22H4) in any iaf_traces of the inputs");
    if (context.layers <= 0) context.layers = max_layer + 1;
    if (context.heads <= 0) context.heads = max_head + 1;
  }
  check_import_layout(files.front() + (scanned ? " (layout from the largest head key)" : ""), context.layers, context.heads);

  store::StoreLayout layout;
  layout.kind = store::RunKind::import;
  layout.layer_count = context.layers;
  layout.head_count = context.heads;
  layout.metrics = {store::standard_metric("iaf"),
                    {"iaf_present", "1", "1 where the source recorded this head at this step (its top heads), 0 where it did not; iaf is NaN there"}};
  layout.metric_type = store::ValueType::float32;

  json settings = base_settings("iaf", "chunked IAF JSON (lists of problems with iaf_traces of the top heads per step)", files, options);
  settings["layers"] = context.layers;
  settings["heads"] = context.heads;
  settings["layout_from"] = scanned ? "the largest layer and head seen in the sources (a first pass)" : "--layers/--heads";
  settings["sparse"] = true;
  settings["missing"] = {"values for heads outside each step's top heads (NaN in iaf, 0 in iaf_present)",
                         "prompt tokens (the source has generation steps only)", "token ids and texts",
                         "attention matrices", "other per-token metrics"};
  settings["notes"] = {"token t of a sample is generation step t (iaf_traces[t])",
                       "iaf_present marks the heads the source recorded at each step; the sample metadata lists heads_present and top_k",
                       "problem text, solution, generated text, num_tokens and top_positions are kept verbatim in the sample metadata"};
  out.create(layout, import_provenance(options, settings));

  std::int64_t rows = 0;
  std::uint64_t bytes_before = 0;
  store::SampleRecord sample;
  for (const auto& file : files) {
    ticker.set_file(file);
    stream_json_array(file, "problems", [&](json& problem, const ArrayElement& where) {
      ++rows;
      if (iaf_problem_sample(problem, file, where, context, sample)) out.append(sample);
      ticker.update(rows, out.samples(), bytes_before + where.end);
    });
    bytes_before += file_size(file);
  }
  ticker.update(rows, out.samples(), bytes_before, true);
  if (out.samples() == 0) throw ImportError("no problem with generation steps in the inputs (" + std::to_string(rows) + " problems read)");
  out.commit();

  ImportSummary summary;
  summary.out = options.out;
  summary.format = "iaf";
  summary.sources = files;
  summary.rows = rows;
  finish_summary(summary, out, layout, settings, ticker.seconds());
  if (context.empty_skipped > 0)
    summary.notes.push_back(std::to_string(context.empty_skipped) + " problems had no generation steps and were skipped");
  if (context.renamed > 0)
    summary.notes.push_back(std::to_string(context.renamed) + " problems repeated an id; their id is id@file#index");
  return summary;
}

}  // namespace headscope::io
