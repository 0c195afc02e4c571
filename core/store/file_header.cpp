// Root attributes, layout attributes and provenance of every HeadScope file (see file_header.h).
#include "core/store/file_header.h"

#include "core/store/dimension_scales.h"
#include "core/store/schema.h"
#include "core/util/time.h"
#include "core/version.h"

namespace headscope::store {

namespace sc = schema;
using h5::Id;

// Root attributes --------------------------------------------------------------------------------------
void write_root_attributes(hid_t file, RunKind kind, const std::string& command_line, bool complete) {
  h5::write_attribute(file, sc::kFormat, std::string(kFormatName));
  h5::write_attribute(file, sc::kSchemaVersion, static_cast<std::int64_t>(kSchemaVersion));
  h5::write_attribute(file, sc::kKind, std::string(run_kind_name(kind)));
  h5::write_attribute(file, sc::kCreated, headscope::utc_now_iso());
  h5::write_attribute(file, sc::kToolVersion, std::string(HEADSCOPE_VERSION));
  h5::write_attribute(file, sc::kCommandLine, command_line);
  h5::write_attribute(file, sc::kComplete, std::int64_t{complete});
}

RootAttributes read_root_attributes(hid_t file, const std::string& path) {
  RootAttributes root;
  auto text = [&](const char* name) { return h5::has_attribute(file, name) ? h5::read_string_attribute(file, name, path) : ""; };
  root.format = text(sc::kFormat);
  root.kind = text(sc::kKind);
  root.created = text(sc::kCreated);
  root.tool_version = text(sc::kToolVersion);
  root.command_line = text(sc::kCommandLine);
  if (h5::has_attribute(file, sc::kSchemaVersion))
    root.schema_version = static_cast<int>(h5::read_int_attribute(file, sc::kSchemaVersion, path));
  if (h5::has_attribute(file, sc::kComplete)) root.complete = h5::read_int_attribute(file, sc::kComplete, path) != 0;
  return root;
}

void check_format(const RootAttributes& root, const std::string& path) {
  if (root.format != kFormatName)
    throw StoreError(path + ": an HDF5 file, but not a HeadScope store (root attribute format='headscope' missing)");
  if (root.schema_version > kSchemaVersion)
    throw StoreError(path + ": schema version " + std::to_string(root.schema_version) +
                     " is newer than this HeadScope reads (" + std::to_string(kSchemaVersion) + "); upgrade HeadScope");
  if (root.schema_version < 1) throw StoreError(path + ": unknown schema version " + std::to_string(root.schema_version));
}

// Layout -----------------------------------------------------------------------------------------------
void write_layout_attributes(hid_t file, const StoreLayout& l) {
  for (auto [name, value] : {std::pair<const char*, int>{sc::kLayerCount, l.layer_count}, {sc::kHeadCount, l.head_count},
                             {sc::kFlowSize, l.flow_size}, {sc::kEmbeddingDim, l.embedding_dim}})
    h5::write_attribute(file, name, static_cast<std::int64_t>(value));
  h5::write_attribute(file, sc::kMetricType, std::string(l.metric_type == ValueType::float16 ? "float16" : "float32"));
  h5::write_attribute(file, sc::kChunkTokens, static_cast<std::int64_t>(l.chunk_tokens));
  h5::write_attribute(file, sc::kDeflateLevel, static_cast<std::int64_t>(l.deflate_level));
  h5::write_attribute(file, sc::kMetricMantissaBits, static_cast<std::int64_t>(l.mantissa_bits));
  std::vector<std::string> names;
  for (const auto& m : l.metrics) names.push_back(m.name);
  h5::write_attribute(file, sc::kMetricNames, names);
}

static std::vector<std::string> read_string_list_attribute(hid_t object, const std::string& name, const std::string& ctx) {
  Id attribute(h5::check(H5Aopen(object, name.c_str(), H5P_DEFAULT), ctx, "missing attribute '" + name + "'"));
  Id type(H5Aget_type(attribute));
  Id space(H5Aget_space(attribute));
  hssize_t count = H5Sget_simple_extent_npoints(space);
  if (H5Tget_class(type) != H5T_STRING || H5Tis_variable_str(type) > 0)
    throw StoreError(ctx + ": attribute '" + name + "' is not a fixed-length string list");
  std::size_t width = H5Tget_size(type);
  std::vector<char> packed(static_cast<std::size_t>(count) * width);
  if (count > 0) h5::check_status(H5Aread(attribute, type, packed.data()), ctx, "cannot read attribute '" + name + "'");
  std::vector<std::string> values;
  for (hssize_t i = 0; i < count; ++i) {
    std::string value(packed.data() + i * width, width);
    value.resize(value.find('\0') == std::string::npos ? width : value.find('\0'));
    values.push_back(value);
  }
  return values;
}

StoreLayout read_layout(hid_t file, const std::string& path) {
  StoreLayout layout;
  auto integer = [&](const char* name) { return static_cast<int>(h5::read_int_attribute(file, name, path)); };
  layout.kind = parse_run_kind(h5::read_string_attribute(file, sc::kKind, path));
  layout.layer_count = integer(sc::kLayerCount);
  layout.head_count = integer(sc::kHeadCount);
  layout.flow_size = integer(sc::kFlowSize);
  layout.embedding_dim = integer(sc::kEmbeddingDim);
  layout.metric_type = h5::read_string_attribute(file, sc::kMetricType, path) == "float32" ? ValueType::float32 : ValueType::float16;
  layout.chunk_tokens = integer(sc::kChunkTokens);
  layout.deflate_level = integer(sc::kDeflateLevel);
  if (h5::has_attribute(file, sc::kMetricMantissaBits))  // absent in files written before it existed: lossless
    layout.mantissa_bits = integer(sc::kMetricMantissaBits);
  for (const auto& name : read_string_list_attribute(file, sc::kMetricNames, path)) {
    Id dataset = h5::open_dataset(file, std::string(sc::kMetrics) + "/" + name, path);
    MetricSpec spec{name, "", ""};
    if (h5::has_attribute(dataset, sc::kUnits)) spec.units = h5::read_string_attribute(dataset, sc::kUnits, path);
    if (h5::has_attribute(dataset, sc::kDescription)) spec.description = h5::read_string_attribute(dataset, sc::kDescription, path);
    layout.metrics.push_back(spec);
  }
  if (h5::link_exists(file, sc::kAttentionHeads)) {
    Id heads = h5::open_dataset(file, sc::kAttentionHeads, path);
    auto dims = h5::extent(heads);
    std::vector<std::int32_t> pairs(dims.empty() ? 0 : dims[0] * 2);
    if (!pairs.empty()) h5::read_slab(heads, H5T_NATIVE_INT32, {0, 0}, {dims[0], 2}, pairs.data(), path);
    for (std::size_t i = 0; i + 1 < pairs.size(); i += 2) layout.pinned_heads.push_back({pairs[i], pairs[i + 1]});
  }
  if (layout.layer_count <= 0 || layout.head_count <= 0)
    throw StoreError(path + ": layer_count and head_count must be positive");
  return layout;
}

// Provenance -------------------------------------------------------------------------------------------
Id write_model_group(hid_t file, const std::string& model_name, const std::string& config_json, const std::string& context) {
  Id model = h5::create_group(file, sc::kModel, context);
  h5::write_attribute(model, sc::kModelName, model_name);
  h5::write_string_dataset(model, sc::kModelConfig, config_json.empty() ? "{}" : config_json, context);
  return model;
}

void write_provenance(hid_t file, const Provenance& p, const std::string& context) {
  Id model = write_model_group(file, p.model_name, p.model_config_json, context);
  h5::write_attribute(model, sc::kModelPath, p.model_path);
  h5::write_array(model, sc::kModelTokenizer, H5T_STD_U8LE, H5T_NATIVE_UINT8, {p.tokenizer_bytes.size()},
                  p.tokenizer_bytes.data(), context, {"byte"}, "", "the tokenizer file, verbatim");
  Id tokenizer = h5::open_dataset(model, sc::kModelTokenizer, context);
  h5::write_attribute(tokenizer, sc::kTokenizerFormat, p.tokenizer_format);
  Id run = h5::create_group(file, sc::kRun, context);
  h5::write_string_dataset(run, sc::kRunSettings, p.settings_json.empty() ? "{}" : p.settings_json, context);
  attach_label_scales(file, sc::kModel, context);  // the tokenizer's byte axis, named for xarray
}

Provenance read_provenance(hid_t file, const std::string& path) {
  Provenance p;
  p.command_line = h5::read_string_attribute(file, sc::kCommandLine, path);
  Id model = h5::open_group(file, sc::kModel, path);
  p.model_name = h5::read_string_attribute(model, sc::kModelName, path);
  p.model_path = h5::read_string_attribute(model, sc::kModelPath, path);
  p.model_config_json = h5::read_string_dataset(model, sc::kModelConfig, path);
  Id tokenizer = h5::open_dataset(model, sc::kModelTokenizer, path);
  p.tokenizer_format = h5::read_string_attribute(tokenizer, sc::kTokenizerFormat, path);
  const hsize_t bytes = h5::extent0(tokenizer);
  p.tokenizer_bytes.resize(bytes);
  if (bytes) h5::read_slab(tokenizer, H5T_NATIVE_UINT8, {0}, {bytes}, p.tokenizer_bytes.data(), path);
  Id run = h5::open_group(file, sc::kRun, path);
  p.settings_json = h5::read_string_dataset(run, sc::kRunSettings, path);
  p.settings = decode_run_settings(p.settings_json);
  return p;
}

}  // namespace headscope::store
