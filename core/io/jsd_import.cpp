// Per-problem JSD JSON -> store. Each file is one problem: `idx`, `question`, `jsd_trace` (n_tokens − 1
// floats: the JSD between consecutive steps' attention, one model-level number per step), `tokens`,
// `n_tokens`, gold and predicted answers. The source has no layers or heads, so the store is a 1×1
// "model-level" layout with the single metric `jsd`, NaN at token 0 (docs/importers.md).
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

// Where a field of the problem sits in its file, for error messages.
std::string field_location(const std::string& path, const std::string& key) {
  const auto offset = locate_text(path, 0, file_size(path), "\"" + key + "\"");
  return path + ": " + describe_offset(path, offset) + ": field '" + key + "'";
}

std::string id_text(const json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_number_integer()) return std::to_string(value.get<std::int64_t>());
  return value.dump();
}

}  // namespace

store::SampleRecord detail::jsd_problem_sample(const std::string& path, std::set<std::string>& used_ids, int& renamed) {
  const json problem = parse_json_file(path);
  if (!problem.is_object())
    throw ImportError(path + ": " + describe_offset(path, 0) + ": expected one problem as a JSON object, found " +
                      problem.type_name());
  if (!problem.contains("jsd_trace")) throw ImportError(path + ": expected a field 'jsd_trace' (a list of numbers)");
  const json& trace = problem["jsd_trace"];
  if (!trace.is_array()) throw ImportError(field_location(path, "jsd_trace") + ": expected a list of numbers, found " + trace.type_name());

  store::SampleRecord sample;
  const std::size_t steps = trace.size();
  std::size_t n_tokens = steps + 1;
  if (problem.contains("n_tokens")) {
    const json& n = problem["n_tokens"];
    if (!n.is_number_integer() || n.get<std::int64_t>() < 1)
      throw ImportError(field_location(path, "n_tokens") + ": expected a positive integer, found " + n.dump());
    n_tokens = n.get<std::size_t>();
    if (n_tokens != steps + 1)
      throw ImportError(field_location(path, "jsd_trace") + ": expected n_tokens - 1 = " + std::to_string(n_tokens - 1) +
                        " values, found " + std::to_string(steps));
  }
  if (problem.contains("tokens")) {
    const json& tokens = problem["tokens"];
    if (!tokens.is_array()) throw ImportError(field_location(path, "tokens") + ": expected a list, found " + tokens.type_name());
    if (tokens.size() != n_tokens)
      throw ImportError(field_location(path, "tokens") + ": expected " + std::to_string(n_tokens) + " tokens (n_tokens), found " +
                        std::to_string(tokens.size()));
    for (std::size_t t = 0; t < tokens.size(); ++t) {
      const json& token = tokens[t];
      if (token.is_string()) {
        sample.token_text.push_back(token.get<std::string>());
        sample.tokens.push_back(-1);
      } else if (token.is_number_integer()) {
        sample.tokens.push_back(token.get<std::int32_t>());
      } else {
        throw ImportError(field_location(path, "tokens") + ": element " + std::to_string(t) +
                          ": expected a token string or id, found " + token.type_name());
      }
    }
    if (!sample.token_text.empty() && sample.token_text.size() != n_tokens)
      throw ImportError(field_location(path, "tokens") + ": mixes token strings and ids");
  } else {
    sample.tokens.assign(n_tokens, -1);
  }

  std::vector<float> jsd(n_tokens, std::numeric_limits<float>::quiet_NaN());  // [token, layer=1, head=1]
  for (std::size_t s = 0; s < steps; ++s) {
    const json& value = trace[s];
    if (value.is_number()) jsd[s + 1] = import_float(value, field_location(path, "jsd_trace") + ": element " + std::to_string(s));
    else if (!value.is_null())  // null stays NaN
      throw ImportError(field_location(path, "jsd_trace") + ": element " + std::to_string(s) +
                        ": expected a number (or null), found " + value.type_name());
  }
  sample.metrics.push_back(std::move(jsd));
  sample.prompt_length = 0;

  // Everything else the problem says goes into the metadata, verbatim.
  json metadata = json::object();
  for (auto it = problem.begin(); it != problem.end(); ++it)
    if (it.key() != "jsd_trace" && it.key() != "tokens") metadata[it.key()] = it.value();
  metadata["source_file"] = path;
  metadata["per_head"] = false;
  std::string id = problem.contains("idx") ? id_text(problem["idx"]) : std::filesystem::path(path).stem().string();
  if (!used_ids.insert(id).second) {
    id += "@" + path;  // shards that restart their numbering: keep every problem, say where it came from
    used_ids.insert(id);
    ++renamed;
  }
  sample.id = id;
  sample.metadata_json = metadata.dump();
  return sample;
}

ImportSummary import_jsd(const ImportOptions& options) {
  const auto files = collect_files(options.inputs, {".json"}, "per-problem JSD JSON");
  PartialStore out(options);
  std::uint64_t bytes_total = 0, bytes_read = 0;
  for (const auto& f : files) bytes_total += file_size(f);
  ProgressTicker ticker(options.progress, bytes_total);

  store::StoreLayout layout;
  layout.kind = store::RunKind::import;
  layout.layer_count = 1;
  layout.head_count = 1;
  layout.metrics = {store::standard_metric("jsd")};
  layout.metric_type = store::ValueType::float32;  // keep the source's values exactly (to float precision)

  json settings = base_settings("jsd", "per-problem JSD JSON (jsd_trace, tokens, n_tokens, question, answers)", files, options);
  settings["layout"] = "model-level: 1 layer x 1 head; layer 0 head 0 stands for the whole model";
  settings["missing"] = {"per-head breakdown (the source has one JSD trace per problem)", "attention matrices",
                         "token ids (unless the source listed ids)", "other per-token metrics"};
  settings["notes"] = {"jsd at token t is jsd_trace[t-1]; token 0 has no predecessor and is NaN",
                       "JSON null in jsd_trace is stored as NaN"};
  out.create(layout, import_provenance(options, settings));

  std::set<std::string> used_ids;
  int renamed = 0;
  std::int64_t rows = 0;
  for (const auto& file : files) {
    ticker.set_file(file);
    out.append(jsd_problem_sample(file, used_ids, renamed));
    ++rows;
    bytes_read += file_size(file);
    ticker.update(rows, out.samples(), bytes_read);
  }
  ticker.update(rows, out.samples(), bytes_read, true);
  out.commit();

  ImportSummary summary;
  summary.out = options.out;
  summary.format = "jsd";
  summary.sources = files;
  summary.rows = rows;
  finish_summary(summary, out, layout, settings, ticker.seconds());
  if (renamed > 0)
    summary.notes.push_back(std::to_string(renamed) + " problems repeated an idx seen in another file; their id is idx@file");
  return summary;
}

}  // namespace headscope::io
