// Per-token metric CSV -> store. Rows `sample_id,layer,head,token_pos,query_norm,entropy,max_attn,k_eff`
// arrive grouped by sample (the earlier pipeline wrote them sorted); only the current sample is kept in
// memory. The layout comes from --layers/--heads or from the first sample's largest layer and head.
// Metrics map to query_norm, entropy, max_attention and k90 (k_eff was k90). Mapping: docs/importers.md.
#include <algorithm>
#include <cmath>
#include <limits>
#include <unordered_map>

#include "core/io/import.h"
#include "core/io/import_support.h"
#include "core/io/metric_csv.h"

namespace headscope::io {

using json = nlohmann::json;
using namespace detail;

namespace {

struct Cell {  // one CSV row of the current sample
  std::int32_t layer, head, token_pos;
  std::uint32_t line_delta;  // line - the sample's first line, for error messages
  float values[4];           // query_norm, entropy, max_attn, k_eff
};

// Rows of the sample being read, and where it came from.
struct PendingSample {
  std::string id;
  std::string file;
  std::uint64_t first_line = 0, last_line = 0;
  std::vector<Cell> cells;
  int max_layer = 0, max_head = 0, max_pos = 0;
};

class CsvImport {
 public:
  CsvImport(const ImportOptions& options, PartialStore& out) : options_(options), out_(out) {
    layout_.kind = store::RunKind::import;
    for (const char* name : {"query_norm", "entropy", "max_attention", "k90"})
      layout_.metrics.push_back(store::standard_metric(name));
    layout_.metric_type = store::ValueType::float32;
  }

  void add(const MetricCsvRow& row, const MetricCsvReader& reader) {
    const std::string line = reader.path() + ": line " + std::to_string(reader.line());
    if (row.layer >= kMaxImportLayers || row.head >= kMaxImportHeads || row.token_pos >= kMaxImportTokens)
      throw ImportError(line + ": layer " + std::to_string(row.layer) + ", head " + std::to_string(row.head) + ", token_pos " +
                        std::to_string(row.token_pos) + " is beyond " + std::to_string(kMaxImportLayers) + " layers, " +
                        std::to_string(kMaxImportHeads) + " heads or " + std::to_string(kMaxImportTokens) +
                        " tokens per sample (a corrupt row?)");
    if (pending_.cells.empty() || row.sample_id != pending_.id) start_sample(row.sample_id, reader);
    const std::uint64_t delta = reader.line() - pending_.first_line;
    pending_.cells.push_back({row.layer, row.head, row.token_pos, static_cast<std::uint32_t>(std::min<std::uint64_t>(delta, UINT32_MAX)),
                              {row.query_norm, row.entropy, row.max_attn, row.k_eff}});
    pending_.last_line = reader.line();
    pending_.max_layer = std::max(pending_.max_layer, row.layer);
    pending_.max_head = std::max(pending_.max_head, row.head);
    pending_.max_pos = std::max(pending_.max_pos, row.token_pos);
  }

  void finish() { flush(); }
  const store::StoreLayout& layout() const { return layout_; }
  void set_settings(json settings) { settings_ = std::move(settings); }
  const json& settings() const { return settings_; }
  std::int64_t missing_cells() const { return missing_cells_total_; }

 private:
  void start_sample(std::string_view id, const MetricCsvReader& reader) {
    flush();
    const auto seen = finished_.find(std::string(id));
    if (seen != finished_.end())
      throw ImportError(reader.path() + ": line " + std::to_string(reader.line()) + ": sample '" + std::string(id) +
                        "' reappears after other samples started (its rows ended at " + seen->second +
                        "); the CSV must be grouped by sample_id, as the earlier pipeline wrote it — sort it by the "
                        "first column (keeping the header first) and import again");
    pending_.id = std::string(id);
    pending_.file = reader.path();
    pending_.first_line = reader.line();
    pending_.max_layer = pending_.max_head = pending_.max_pos = 0;
  }

  std::string where(const Cell& cell) const {
    return pending_.file + ": line " + std::to_string(pending_.first_line + cell.line_delta);
  }

  void create_store() {
    layout_.layer_count = options_.layers > 0 ? options_.layers : pending_.max_layer + 1;
    layout_.head_count = options_.heads > 0 ? options_.heads : pending_.max_head + 1;
    settings_["layers"] = layout_.layer_count;
    settings_["heads"] = layout_.head_count;
    settings_["layout_from"] = options_.layers > 0 && options_.heads > 0
                                   ? "--layers/--heads"
                                   : "the first sample's largest layer and head (sample '" + pending_.id + "')";
    check_import_layout(pending_.file, layout_.layer_count, layout_.head_count);
    out_.create(layout_, import_provenance(options_, settings_));
  }

  void flush() {
    if (pending_.cells.empty()) return;
    if (!out_.created()) create_store();
    const int layers = layout_.layer_count, heads = layout_.head_count;
    check_import_sample(pending_.file + ": sample '" + pending_.id + "' (from line " + std::to_string(pending_.first_line) + ")",
                        std::int64_t{pending_.max_pos} + 1, layers, heads);
    const std::size_t tokens = static_cast<std::size_t>(pending_.max_pos) + 1;
    const std::size_t per_token = static_cast<std::size_t>(layers) * heads;
    store::SampleRecord sample;
    sample.id = pending_.id;
    sample.tokens.assign(tokens, -1);
    sample.prompt_length = 0;
    sample.metrics.assign(4, std::vector<float>(tokens * per_token, std::numeric_limits<float>::quiet_NaN()));
    std::vector<bool> filled(tokens * per_token, false);
    for (const Cell& cell : pending_.cells) {
      if (cell.layer >= layers || cell.head >= heads)
        throw ImportError(where(cell) + ": layer " + std::to_string(cell.layer) + " head " + std::to_string(cell.head) +
                          " is outside the layout of " + std::to_string(layers) + " layers x " + std::to_string(heads) +
                          " heads (taken from " + settings_["layout_from"].get<std::string>() + "; pass --layers/--heads)");
      // [token, layer, head]
      const std::size_t index = static_cast<std::size_t>(cell.token_pos) * per_token +
                                static_cast<std::size_t>(cell.layer) * heads + cell.head;
      if (filled[index])
        throw ImportError(where(cell) + ": sample '" + pending_.id + "' has a second row for layer " + std::to_string(cell.layer) +
                          " head " + std::to_string(cell.head) + " token " + std::to_string(cell.token_pos));
      filled[index] = true;
      for (int m = 0; m < 4; ++m) sample.metrics[m][index] = cell.values[m];
    }
    const std::int64_t missing = static_cast<std::int64_t>(tokens * per_token - pending_.cells.size());
    missing_cells_total_ += missing;
    json metadata = {{"source_file", pending_.file},
                     {"first_line", pending_.first_line},
                     {"last_line", pending_.last_line},
                     {"rows", pending_.cells.size()},
                     {"missing_cells", missing}};
    sample.metadata_json = metadata.dump();
    out_.append(sample);
    finished_.emplace(pending_.id, pending_.file + " line " + std::to_string(pending_.last_line));
    pending_.cells.clear();
  }

  const ImportOptions& options_;
  PartialStore& out_;
  store::StoreLayout layout_;
  json settings_;
  PendingSample pending_;
  std::unordered_map<std::string, std::string> finished_;  // id -> where its rows ended
  std::int64_t missing_cells_total_ = 0;
};

}  // namespace

ImportSummary import_csv(const ImportOptions& options) {
  const auto files = collect_files(options.inputs, {".csv"}, "per-token metric CSV");
  PartialStore out(options);
  std::uint64_t bytes_total = 0;
  for (const auto& f : files) bytes_total += file_size(f);
  ProgressTicker ticker(options.progress, bytes_total);

  CsvImport import(options, out);
  json settings = base_settings("csv", std::string("per-token metric CSV (") + MetricCsvReader::kHeader + ")", files, options);
  settings["columns"] = {{"query_norm", "query_norm"}, {"entropy", "entropy"}, {"max_attn", "max_attention"}, {"k_eff", "k90"}};
  settings["missing"] = {"token ids and texts", "prompt length (stored as 0)", "attention matrices",
                         "iaf, jsd and the other per-token metrics"};
  settings["notes"] = {"k_eff of the earlier pipeline is k90 (METRICS.md)",
                       "empty or nan cells are NaN; the earlier pipeline left entropy NaN at the first two positions",
                       "cells with no row in the CSV are NaN; each sample's metadata counts them (missing_cells)"};
  import.set_settings(settings);

  std::int64_t rows = 0;
  std::uint64_t bytes_before = 0;
  MetricCsvRow row;
  for (const auto& file : files) {
    ticker.set_file(file);
    MetricCsvReader reader(file);
    while (reader.next(row)) {
      import.add(row, reader);
      if ((++rows & 0xffff) == 0) ticker.update(rows, out.samples(), bytes_before + reader.bytes_read());
    }
    bytes_before += file_size(file);
  }
  import.finish();
  ticker.update(rows, out.samples(), bytes_before, true);
  if (!out.created()) throw ImportError(files.front() + ": no data rows after the header");
  out.commit();

  ImportSummary summary;
  summary.out = options.out;
  summary.format = "csv";
  summary.sources = files;
  summary.rows = rows;
  finish_summary(summary, out, import.layout(), import.settings(), ticker.seconds());
  if (import.missing_cells() > 0)
    summary.notes.push_back(std::to_string(import.missing_cells()) + " (token, layer, head) cells had no row and are NaN");
  return summary;
}

}  // namespace headscope::io
