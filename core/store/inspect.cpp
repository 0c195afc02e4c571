// Builds the summary behind `headscope inspect` (see inspect.h). Capture and import stores are read
// through StoreReader; every kind also gets a walk of its datasets (path, shape, type, bytes on disk)
// so sweep and IB results are summarised the same way. Result files (no /samples) get provenance + walk.
#include "core/store/inspect.h"

#include <cstdio>
#include <sstream>
#include <utility>

#include "core/store/attention_mode.h"
#include "core/store/file_header.h"
#include "core/store/h5.h"
#include "core/store/ib_file.h"
#include "core/store/master.h"
#include "core/store/read_access.h"
#include "core/store/reader.h"
#include "core/store/schema.h"

namespace headscope::store {

using h5::Id;

static std::string type_name(hid_t type) {
  const H5T_class_t type_class = H5Tget_class(type);
  const std::size_t size = H5Tget_size(type);
  switch (type_class) {
    case H5T_FLOAT: return "float" + std::to_string(size * 8);
    case H5T_INTEGER: return std::string(H5Tget_sign(type) == H5T_SGN_NONE ? "uint" : "int") + std::to_string(size * 8);
    case H5T_STRING: return "string";
    default: return "other";
  }
}

static nlohmann::json walk_datasets(const std::string& path) {
  Id file = open_for_reading(path).file;
  nlohmann::json out = nlohmann::json::array();
  H5Ovisit2(
      file, H5_INDEX_NAME, H5_ITER_NATIVE,
      [](hid_t root, const char* name, const H5O_info_t* info, void* data) -> herr_t {
        if (info->type != H5O_TYPE_DATASET) return 0;
        Id dataset(H5Dopen2(root, name, H5P_DEFAULT));
        if (!dataset.valid()) return 0;
        Id type(H5Dget_type(dataset));
        nlohmann::json entry{{"path", std::string("/") + name}, {"dtype", type_name(type)},
                             {"shape", h5::extent(dataset)}, {"stored_bytes", H5Dget_storage_size(dataset)}};
        if (h5::has_attribute(dataset, "dimensions"))
          entry["dimensions"] = h5::read_string_attribute(dataset, "dimensions", "");
        static_cast<nlohmann::json*>(data)->push_back(entry);
        return 0;
      },
      &out, H5O_INFO_BASIC);
  return out;
}

// Result files (sweeps, ib runs) hold no samples: their summary is the provenance, what the run found
// (ib: read by ib_file.h) and the dataset walk.
static nlohmann::json result_file_json(const std::string& path, Id file, const std::string& kind) {
  const RootAttributes root = read_root_attributes(file, path);
  nlohmann::json j;
  j["file"] = path;
  j["kind"] = kind;
  j["schema_version"] = root.schema_version;
  j["created"] = root.created;
  j["tool_version"] = root.tool_version;
  j["command_line"] = root.command_line;
  j["model"] = {{"name", ""}};
  if (h5::link_exists(file, schema::kModel)) {
    Id model = h5::open_group(file, schema::kModel, path);
    if (h5::has_attribute(model, schema::kModelName)) j["model"]["name"] = h5::read_string_attribute(model, schema::kModelName, path);
  }
  file.reset();  // walk_datasets opens the file with other access flags, which HDF5 refuses while it is open
  if (kind == run_kind_name(RunKind::ib)) {
    const auto ib = read_ib_file(path);
    j["ib"] = {{"input", ib->input}, {"steps", ib->step_count}, {"labels", ib->label_names},
               {"clusters", ib->clusters.size()}, {"I_XY", ib->info_xy}, {"events", ib->history.size()},
               {"source_store", ib->has_source ? ib->source_store_path : std::string()}};
  }
  j["datasets"] = walk_datasets(path);
  return j;
}

// A master's shards (master.h), each with its state now: what `inspect` reports of a sharded run.
static nlohmann::json shards_json(const MasterInfo& master) {
  nlohmann::json shards = nlohmann::json::array();
  for (const auto& shard : master.shards) {
    const std::string state = !shard.exists            ? "missing"
                              : !shard.problem.empty() ? "unreadable: " + shard.problem
                              : shard.live             ? "live (a rank is writing it)"
                              : shard.complete && shard.wholly_mapped() ? "complete"
                              : shard.complete ? "complete, but the master maps " + std::to_string(shard.mapped_samples) + " of its " +
                                                     std::to_string(shard.committed_samples) + " samples: merge again"
                                               : "incomplete (resume it with --resume)";
    shards.push_back({{"file", shard.file}, {"index", shard.place.index}, {"planned_samples", shard.place.planned_samples},
                      {"mapped_samples", shard.mapped_samples}, {"committed_samples", shard.committed_samples},
                      {"exists", shard.exists}, {"live", shard.live}, {"complete", shard.complete}, {"state", state}});
  }
  return shards;
}

nlohmann::json inspect_json(const std::string& path) {
  h5::quiet_errors();
  if (H5Fis_hdf5(path.c_str()) > 0) {  // a sweep result has no /samples for StoreReader to read
    Id file = open_for_reading(path).file;
    if (h5::has_attribute(file, schema::kKind) && !h5::link_exists(file, schema::kSamples)) {
      const std::string kind = h5::read_string_attribute(file, schema::kKind, path);
      if (kind == run_kind_name(RunKind::sweep) || kind == run_kind_name(RunKind::ib))
        return result_file_json(path, std::move(file), kind);
    }
    H5Eclear2(H5E_DEFAULT);
  }
  std::optional<MasterInfo> master;
  try {
    master = read_master(path);
  } catch (const StoreError&) {  // not readable as a master: StoreReader says why
  }
  std::unique_ptr<StoreReader> reader;
  try {
    reader = StoreReader::open(path);
  } catch (const StoreError& e) {
    if (!master) throw;  // a master that cannot be read as a run still lists its shards, and why
    return {{"file", path}, {"kind", "capture"}, {"state", std::string("unreadable: ") + e.what()}, {"shards", shards_json(*master)}};
  }
  const auto& layout = reader->layout();
  const auto& provenance = reader->provenance();
  const std::int64_t samples = reader->sample_count(), tokens = reader->token_count();
  const std::int64_t values_per_metric = tokens * layout.layer_count * layout.head_count;

  nlohmann::json j;
  j["file"] = path;
  j["kind"] = run_kind_name(layout.kind);
  j["schema_version"] = reader->schema_version();
  j["created"] = reader->created();
  j["tool_version"] = reader->tool_version();
  j["command_line"] = provenance.command_line;
  j["state"] = reader->complete() ? "complete" : (reader->live() ? "live (a writer is appending)" : "interrupted (resume to continue)");
  if (master) {
    j["state"] = reader->complete() ? "complete" : reader->live() ? "live (ranks are writing its shards)" : "incomplete (resume its shards)";
    j["shards"] = shards_json(*master);
  }
  j["model"] = {{"name", provenance.model_name}, {"path", provenance.model_path},
                {"layers", layout.layer_count}, {"heads", layout.head_count},
                {"tokenizer", provenance.tokenizer_format.empty() ? "none" : provenance.tokenizer_format}};
  auto config = nlohmann::json::parse(provenance.model_config_json, nullptr, false);
  if (config.is_object() && config.contains("model_type")) j["model"]["model_type"] = config["model_type"];
  if (layout.kind == RunKind::capture) {  // what the metrics measure (settings_json: capture_session.cpp)
    const RunSettings& settings = provenance.settings;
    j["measured"] = {{"attention", settings.attention.empty() ? std::string("model") : settings.attention},
                     {"attention_note", settings.attention_note},
                     {"entropy_nan_first", settings.entropy_nan_first}};
  }
  if (layout.kind == RunKind::import) {  // what was imported, and what the source did not have
    const RunSettings& settings = provenance.settings;
    j["import"] = {{"importer", settings.importer}, {"format", settings.format}, {"sources", settings.sources},
                   {"missing", settings.missing}};
  }
  j["samples"] = samples;
  j["tokens"] = tokens;
  nlohmann::json metrics = nlohmann::json::array();
  std::uint64_t metric_bytes = 0;
  for (const auto& metric : layout.metrics) {
    const std::uint64_t bytes = reader->metric_storage_bytes(metric.name);
    metric_bytes += bytes;
    metrics.push_back({{"name", metric.name}, {"units", metric.units},
                       {"shape", {tokens, layout.layer_count, layout.head_count}},
                       {"dims", {"token", "layer", "head"}},
                       {"dtype", layout.metric_type == ValueType::float16 ? "float16" : "float32"},
                       {"stored_bytes", bytes},
                       {"bytes_per_value", values_per_metric ? static_cast<double>(bytes) / values_per_metric : 0.0}});
  }
  j["metrics"] = metrics;
  j["metric_precision"] = layout.mantissa_bits < 0 ? std::string("lossless")
                                                   : "rounded to " + std::to_string(layout.mantissa_bits) + " mantissa bits";
  j["bytes_per_metric_value"] = values_per_metric && !layout.metrics.empty()
                                    ? static_cast<double>(metric_bytes) / (values_per_metric * layout.metrics.size())
                                    : 0.0;
  j["flow"] = layout.flow_size > 0 ? nlohmann::json{{"K", layout.flow_size},
                                                    {"shape", {samples, layout.layer_count, layout.head_count,
                                                               layout.flow_size, layout.flow_size}}}
                                   : nlohmann::json(nullptr);
  nlohmann::json pinned = nlohmann::json::array();
  for (const auto& head : layout.pinned_heads) pinned.push_back(head_name(head));
  j["pinned_heads"] = pinned;
  j["embeddings"] = {{"spans", reader->embedding_count()}, {"dim", layout.embedding_dim}};
  j["file_bytes"] = reader->file_bytes();
  j["datasets"] = walk_datasets(path);
  return j;
}

static std::string human_bytes(double bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int unit = 0;
  while (bytes >= 1024 && unit < 4) { bytes /= 1024; ++unit; }
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, unit ? "%.1f %s" : "%.0f %s", bytes, units[unit]);
  return buffer;
}

std::string inspect_text(const std::string& path) {
  const auto j = inspect_json(path);
  std::ostringstream out;
  auto print_shards = [&] {
    if (!j.contains("shards")) return;
    out << "  master of    " << j["shards"].size() << " shards (virtual datasets over them)\n";
    for (const auto& shard : j["shards"])
      out << "    " << shard["index"].get<int>() << "  " << shard["file"].get<std::string>() << "  "
          << shard["mapped_samples"].get<std::int64_t>() << (shard["planned_samples"].get<std::int64_t>() >= 0
                                                                  ? "/" + std::to_string(shard["planned_samples"].get<std::int64_t>())
                                                                  : std::string())
          << " samples mapped, " << shard["state"].get<std::string>() << "\n";
  };
  if (j.contains("shards") && !j.contains("samples")) {  // a master that cannot be read as a run
    out << j["file"].get<std::string>() << "\n  state        " << j["state"].get<std::string>() << "\n";
    print_shards();
    return out.str();
  }
  if (!j.contains("samples")) {  // a result file (sweep, ib): provenance, the ib summary and datasets
    out << j["file"].get<std::string>() << "\n"
        << "  kind         " << j["kind"].get<std::string>() << " (schema " << j["schema_version"].get<int>()
        << ", headscope " << j["tool_version"].get<std::string>() << ", created " << j["created"].get<std::string>() << ")\n"
        << "  model        " << j["model"]["name"].get<std::string>() << "\n"
        << "  command      " << j["command_line"].get<std::string>() << "\n";
    if (j.contains("ib")) {
      const auto& ib = j["ib"];
      out << "  ib           " << ib["steps"].get<std::int64_t>() << " steps, " << ib["labels"].size() << " labels, "
          << ib["clusters"].get<std::size_t>() << " clusters, I(X;Y) " << ib["I_XY"].get<double>() << " nats, "
          << ib["events"].get<std::size_t>() << " events\n"
          << "  input        " << ib["input"].get<std::string>() << "\n";
      if (!ib["source_store"].get<std::string>().empty())
        out << "  source       " << ib["source_store"].get<std::string>() << "\n";
    }
    out << "  datasets\n";
    for (const auto& d : j["datasets"]) {
      out << "    " << d["path"].get<std::string>() << " " << d["dtype"].get<std::string>() << " " << d["shape"].dump();
      if (d.contains("dimensions")) out << " [" << d["dimensions"].get<std::string>() << "]";
      out << "\n";
    }
    return out.str();
  }
  out << j["file"].get<std::string>() << "\n"
      << "  kind         " << j["kind"].get<std::string>() << " (schema " << j["schema_version"].get<int>()
      << ", headscope " << j["tool_version"].get<std::string>() << ", created " << j["created"].get<std::string>() << ")\n"
      << "  state        " << j["state"].get<std::string>() << "\n"
      << "  model        " << (j["model"]["name"].get<std::string>().empty() ? "unknown" : j["model"]["name"].get<std::string>());
  if (j["model"].contains("model_type")) out << " (" << j["model"]["model_type"].get<std::string>() << ")";
  out << ", " << j["model"]["layers"].get<int>() << " layers x " << j["model"]["heads"].get<int>() << " heads, tokenizer "
      << j["model"]["tokenizer"].get<std::string>() << "\n"
      << "  samples      " << j["samples"].get<std::int64_t>() << " (" << j["tokens"].get<std::int64_t>() << " tokens)\n"
      << "  command      " << j["command_line"].get<std::string>() << "\n";
  print_shards();
  if (j.contains("measured")) {
    const auto& measured = j["measured"];
    const std::string attention = measured["attention"].get<std::string>();
    std::string description = attention;
    for (const auto& mode : kAttentionModes)
      if (attention == mode.name) description += " (" + std::string(mode.description) + ")";
    const std::string note = measured["attention_note"].get<std::string>();
    out << "  attention    " << description << (note.empty() ? "" : "; " + note) << "\n";
    const int nan_first = measured["entropy_nan_first"].get<int>();
    if (nan_first > 0) out << "  entropy      NaN for the first " << nan_first << " query positions of each sample\n";
  }
  if (j.contains("import")) {
    const auto& sources = j["import"]["sources"];
    out << "  imported     " << j["import"]["importer"].get<std::string>() << ": " << j["import"]["format"].get<std::string>()
        << "\n               from " << sources.size() << " file(s)"
        << (sources.empty() ? "" : " (" + sources[0].get<std::string>() + (sources.size() > 1 ? ", ...)" : ")")) << "\n";
    for (const auto& missing : j["import"]["missing"]) out << "  missing      " << missing.get<std::string>() << "\n";
    for (const auto& d : j["datasets"])
      if (d["path"].get<std::string>().rfind("/analysis/", 0) == 0) out << "  analysis     " << d["path"].get<std::string>() << "\n";
  }
  out
      << "  metrics      [token, layer, head] " << (j["metrics"].empty() ? "none" : j["metrics"][0]["dtype"].get<std::string>() + ", " + j["metric_precision"].get<std::string>()) << "\n";
  for (const auto& m : j["metrics"]) {
    char line[160];
    std::snprintf(line, sizeof line, "    %-20s %-6s %10s on disk, %.2f bytes/value\n", m["name"].get<std::string>().c_str(),
                  m["units"].get<std::string>().c_str(), human_bytes(m["stored_bytes"].get<double>()).c_str(),
                  m["bytes_per_value"].get<double>());
    out << line;
  }
  if (!j["flow"].is_null()) out << "  flow         " << j["flow"]["K"].get<int>() << "x" << j["flow"]["K"].get<int>() << " per head per sample\n";
  if (!j["pinned_heads"].empty()) {
    out << "  pinned       ";
    for (const auto& h : j["pinned_heads"]) out << h.get<std::string>() << " ";
    out << "\n";
  }
  if (j["embeddings"]["spans"].get<std::int64_t>() > 0)
    out << "  embeddings   " << j["embeddings"]["spans"].get<std::int64_t>() << " spans x " << j["embeddings"]["dim"].get<int>() << "\n";
  out << "  file size    " << human_bytes(j["file_bytes"].get<double>()) << "\n";
  return out.str();
}

}  // namespace headscope::store
