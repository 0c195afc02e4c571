// The master of a sharded run (see master.h). Sections:
//   1. names and the shard's place (its settings' "shard" object)
//   2. opening the shards: each checked as a store, against its place and against shard 0
//   3. writing the master: root attributes and provenance from shard 0, then per table dataset a copy
//      (fixed), a rebased column (offset columns) or a virtual dataset over the shards' committed rows
//   4. reading a master's record of its shards
#include "core/store/master.h"

#include <filesystem>
#include <limits>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>

#include "core/store/committed_rows.h"
#include "core/store/dimension_scales.h"
#include "core/store/file_header.h"
#include "core/store/file_replace.h"
#include "core/store/h5.h"
#include "core/store/read_access.h"
#include "core/store/reader.h"
#include "core/store/schema.h"
#include "core/store/schema_table.h"

namespace headscope::store {

namespace fs = std::filesystem;
namespace sc = schema;
using h5::Id;

// 1. Names and places ----------------------------------------------------------------------------------
std::string shard_path(const std::string& master_path, int index, int count) {
  fs::path path(master_path);
  const std::string extension = path.extension().string();
  const std::string stem = extension == ".h5" || extension == ".hdf5" ? path.stem().string() : path.filename().string();
  return (path.parent_path() / (stem + ".shard-" + std::to_string(index) + "-of-" + std::to_string(count) +
                                (extension.empty() ? std::string(".h5") : extension)))
      .string();
}

std::optional<ShardPlace> shard_place(const Provenance& provenance, const std::string& path) {
  const auto settings = nlohmann::json::parse(provenance.settings_json, nullptr, false);
  if (!settings.is_object() || !settings.contains(sc::kShardSetting)) return std::nullopt;
  const auto& shard = settings[sc::kShardSetting];
  ShardPlace place;
  if (!shard.is_object() || !shard.value("index", nlohmann::json()).is_number_integer() ||
      !shard.value("count", nlohmann::json()).is_number_integer())
    throw StoreError(path + ": /run/settings_json: 'shard' is not {\"index\": I, \"count\": N}");
  place.index = shard["index"].get<int>();
  place.count = shard["count"].get<int>();
  place.planned_samples = shard.value("samples", std::int64_t{-1});
  if (place.count < 1 || place.index < 0 || place.index >= place.count)
    throw StoreError(path + ": /run/settings_json: shard " + std::to_string(place.index) + " of " + std::to_string(place.count) +
                     " is not a place in a run");
  return place;
}

// The settings without the shard's place: what every shard of one run shares.
static std::string shared_settings(const std::string& settings_json) {
  auto settings = nlohmann::json::parse(settings_json, nullptr, false);
  if (settings.is_object()) settings.erase(sc::kShardSetting);
  return settings.dump();
}

// 2. The shards ----------------------------------------------------------------------------------------
namespace {

struct Source {
  ShardState state;
  std::unique_ptr<StoreReader> reader;  // checked as a store; keeps layout and provenance
  Id file;                              // the raw file, for its datasets
  std::map<std::string, Id> datasets;
  RowCounts rows;                       // committed rows of each axis: what the master maps
  hid_t dataset(const std::string& name) const { return datasets.at(name); }
};

std::string layout_signature(const StoreLayout& layout) {
  std::string text = std::to_string(layout.layer_count) + "x" + std::to_string(layout.head_count) + " metrics";
  for (const auto& metric : layout.metrics) text += " " + metric.name;
  text += layout.metric_type == ValueType::float16 ? " float16" : " float32";
  text += " flow " + std::to_string(layout.flow_size) + " pinned";
  for (const auto& head : layout.pinned_heads) text += " " + head_name(head);
  return text + " embeddings " + std::to_string(layout.embedding_dim);
}

// What makes two shards parts of different runs, or "" when they are parts of one.
std::string difference(const Source& a, const Source& b) {
  const auto& pa = a.reader->provenance();
  const auto& pb = b.reader->provenance();
  if (layout_signature(a.reader->layout()) != layout_signature(b.reader->layout()))
    return "its layout (" + layout_signature(b.reader->layout()) + ") differs from shard " + std::to_string(a.state.place.index) +
           "'s (" + layout_signature(a.reader->layout()) + ")";
  if (pa.model_config_json != pb.model_config_json || pa.tokenizer_bytes != pb.tokenizer_bytes)
    return "its model or tokenizer differs from shard " + std::to_string(a.state.place.index) + "'s";
  if (shared_settings(pa.settings_json) != shared_settings(pb.settings_json))
    return "its capture settings differ from shard " + std::to_string(a.state.place.index) + "'s";
  return "";
}

void open_source(Source& source, int index, int count) {
  const std::string& path = source.state.path;
  source.reader = StoreReader::open(path);
  if (source.reader->layout().kind != RunKind::capture) throw StoreError(path + ": not a capture store, so not a shard of a capture");
  const auto place = shard_place(source.reader->provenance(), path);
  if (!place)
    throw StoreError(path + ": not a shard (captured without --shard or MPI); a master joins the shards of one sharded capture");
  if (place->index != index || place->count != count)
    throw StoreError(path + ": is shard " + std::to_string(place->index) + " of " + std::to_string(place->count) +
                     ", given as shard " + std::to_string(index) + " of " + std::to_string(count));
  source.state.place = *place;
  source.state.exists = true;
  source.state.live = source.reader->live();
  source.state.complete = source.reader->complete();
  OpenedFile opened = open_for_reading(path);
  source.file = std::move(opened.file);
  const StoreLayout& layout = source.reader->layout();
  for (const auto& spec : sc::capture_datasets())
    for (const auto& name : sc::dataset_paths(spec, layout))
      if (spec.role == sc::Role::data || h5::link_exists(source.file, name))  // scales: newer shards only
        source.datasets.emplace(name, h5::open_dataset(source.file, name, path));
  source.rows = committed_rows([&](const char* name) { return source.dataset(name); }, layout, path);
  // The reader checked the rows it saw; a live writer may have committed more since, which are as whole.
  source.state.committed_samples = source.rows[sc::RowAxis::sample];
  source.state.mapped_samples = source.state.committed_samples;
}

// 3. Writing ---------------------------------------------------------------------------------------------
// Copies every attribute of `from` onto `to` (units, descriptions, dimension labels, the layout).
void copy_attributes(hid_t from, hid_t to, const std::string& context) {
  H5O_info_t info;
  h5::check_status(H5Oget_info2(from, &info, H5O_INFO_NUM_ATTRS), context, "cannot list attributes");
  for (hsize_t i = 0; i < info.num_attrs; ++i) {
    Id attribute(h5::check(H5Aopen_by_idx(from, ".", H5_INDEX_CRT_ORDER, H5_ITER_INC, i, H5P_DEFAULT, H5P_DEFAULT), context,
                           "cannot open an attribute"));
    if (!attribute.valid()) continue;
    char name[256] = {};
    H5Aget_name(attribute, sizeof name, name);
    // Dimension-scale bookkeeping holds references into the source file: attach_dimension_scales redoes it.
    const std::string attribute_name = name;
    if (attribute_name == "DIMENSION_LIST" || attribute_name == "REFERENCE_LIST" || attribute_name == "CLASS" || attribute_name == "NAME")
      continue;
    Id type(H5Aget_type(attribute)), space(H5Aget_space(attribute));
    const auto points = static_cast<std::size_t>(std::max<hssize_t>(1, H5Sget_simple_extent_npoints(space)));
    std::vector<unsigned char> buffer(points * H5Tget_size(type));
    h5::check_status(H5Aread(attribute, type, buffer.data()), context, std::string("cannot read attribute ") + name);
    if (H5Aexists(to, name) > 0) H5Adelete(to, name);
    Id copy(h5::check(H5Acreate2(to, name, type, space, H5P_DEFAULT, H5P_DEFAULT), context, std::string("cannot create attribute ") + name));
    const herr_t written = H5Awrite(copy, type, buffer.data());
    if (H5Tdetect_class(type, H5T_VLEN) > 0 || H5Tis_variable_str(type) > 0) H5Dvlen_reclaim(type, space, H5P_DEFAULT, buffer.data());
    h5::check_status(written, context, std::string("cannot write attribute ") + name);
  }
}

// Links created with the groups above them.
Id intermediate_groups() {
  Id links(H5Pcreate(H5P_LINK_CREATE));
  H5Pset_create_intermediate_group(links, 1);
  return links;
}

// A dataset of `rows` rows shaped like the shard's `like` (its type and inner dimensions, its attributes).
struct Shape {
  Id type;
  std::vector<hsize_t> dims;  // [rows, inner...]
};
Shape shape_like(hid_t like, std::int64_t rows) {
  Shape shape{Id(H5Dget_type(like)), h5::extent(like)};
  shape.dims[0] = static_cast<hsize_t>(rows);
  return shape;
}

// The rebased column: each shard's committed values plus the rows of the indexed axis before that shard.
void write_offset_column(hid_t file, const std::string& name, sc::RowAxis rows_axis, sc::RowAxis indexes,
                         const std::vector<Source*>& sources, const Source& first, const std::string& context) {
  std::vector<std::int64_t> values;
  std::int64_t base = 0;
  for (const Source* source : sources) {
    const std::int64_t rows = source->rows[rows_axis];
    const std::size_t at = values.size();
    values.resize(at + static_cast<std::size_t>(rows));
    if (rows > 0)
      h5::read_slab(source->dataset(name), H5T_NATIVE_INT64, {0}, {static_cast<hsize_t>(rows)}, values.data() + at, source->state.path);
    for (std::size_t i = at; i < values.size(); ++i) values[i] += base;
    base += source->rows[indexes];
  }
  Shape shape = shape_like(first.dataset(name), static_cast<std::int64_t>(values.size()));
  Id space(H5Screate_simple(static_cast<int>(shape.dims.size()), shape.dims.data(), nullptr));
  Id links = intermediate_groups();
  Id dataset(h5::check(H5Dcreate2(file, name.c_str(), shape.type, space, links, H5P_DEFAULT, H5P_DEFAULT), context,
                       "cannot create " + name));
  if (!values.empty())
    h5::check_status(H5Dwrite(dataset, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()), context, "cannot write " + name);
  copy_attributes(first.dataset(name), dataset, context + " " + name);
}

// The virtual dataset: shard i's committed rows [0, rows_i) at rows [base_i, base_i + rows_i). Rows no
// shard maps read as the fill value: NaN for floats, so a missing shard can never pass for data.
void write_virtual(hid_t file, const std::string& name, sc::RowAxis axis, const std::vector<Source*>& sources, const Source& first,
                   const fs::path& master_folder, const std::string& context) {
  std::int64_t total = 0;
  for (const Source* source : sources) total += source->rows[axis];
  Shape shape = shape_like(first.dataset(name), total);
  Id space(H5Screate_simple(static_cast<int>(shape.dims.size()), shape.dims.data(), nullptr));
  Id create(H5Pcreate(H5P_DATASET_CREATE));
  if (H5Tget_class(shape.type) == H5T_FLOAT) {
    const float nan = std::numeric_limits<float>::quiet_NaN();
    h5::check_status(H5Pset_fill_value(create, H5T_NATIVE_FLOAT, &nan), context, "cannot set the fill value of " + name);
  }
  h5::check_status(H5Pset_layout(create, H5D_VIRTUAL), context, "cannot make " + name + " virtual");
  std::int64_t base = 0;
  for (const Source* source : sources) {
    const std::int64_t rows = source->rows[axis];
    if (rows == 0) continue;
    std::vector<hsize_t> start(shape.dims.size(), 0), block = shape.dims, one(shape.dims.size(), 1);
    start[0] = static_cast<hsize_t>(base);
    block[0] = static_cast<hsize_t>(rows);
    Id virtual_space(H5Screate_simple(static_cast<int>(shape.dims.size()), shape.dims.data(), nullptr));
    H5Sselect_hyperslab(virtual_space, H5S_SELECT_SET, start.data(), nullptr, one.data(), block.data());
    Id source_space(H5Screate_simple(static_cast<int>(block.size()), block.data(), nullptr));
    const std::string file_name = fs::absolute(source->state.path).lexically_normal().lexically_relative(master_folder).string();
    h5::check_status(H5Pset_virtual(create, virtual_space, file_name.c_str(), name.c_str(), source_space), context,
                     "cannot map " + source->state.path + " into " + name);
    base += rows;
  }
  Id links = intermediate_groups();
  Id dataset(h5::check(H5Dcreate2(file, name.c_str(), shape.type, space, links, create, H5P_DEFAULT), context,
                       "cannot create the virtual dataset " + name));
  copy_attributes(first.dataset(name), dataset, context + " " + name);
}

nlohmann::json shards_record(const std::vector<Source>& sources, const fs::path& master_folder) {
  nlohmann::json record = nlohmann::json::array();
  for (const auto& source : sources)
    record.push_back({{"file", fs::absolute(source.state.path).lexically_normal().lexically_relative(master_folder).string()},
                      {"index", source.state.place.index},
                      {"samples", source.state.place.planned_samples},
                      {"mapped", source.state.mapped_samples}});
  return record;
}

}  // namespace

MasterInfo build_master(const std::string& master_path, const std::vector<std::string>& shard_paths, const std::string& command_line) {
  h5::quiet_errors();
  const int count = static_cast<int>(shard_paths.size());
  if (count < 1) throw StoreError(master_path + ": no shard files to join");
  const fs::path master_folder = fs::absolute(master_path).lexically_normal().parent_path();
  std::vector<Source> sources(static_cast<std::size_t>(count));
  Source* first = nullptr;
  for (int i = 0; i < count; ++i) {
    Source& source = sources[static_cast<std::size_t>(i)];
    source.state.path = shard_paths[static_cast<std::size_t>(i)];
    source.state.place = {i, count, -1};
    std::error_code ec;
    if (fs::absolute(source.state.path).lexically_normal() == fs::absolute(master_path).lexically_normal())
      throw StoreError(master_path + ": the master cannot be one of its own shards");
    if (!fs::exists(source.state.path, ec)) continue;
    open_source(source, i, count);
    if (!first) first = &source;
    else if (const std::string why = difference(*first, source); !why.empty())
      throw StoreError(source.state.path + ": not a shard of the same run as " + first->state.path + ": " + why);
  }
  if (!first) throw StoreError(master_path + ": none of its " + std::to_string(count) + " shard files exists yet (" + shard_paths[0] + ", ...)");

  MasterInfo info;
  info.complete = true;
  for (const auto& source : sources) {
    info.shards.push_back(source.state);
    info.samples += source.state.mapped_samples;
    info.complete = info.complete && source.state.done();
  }

  TempSibling temporary(master_path);
  const std::string& context = master_path;
  {
    Id access(H5Pcreate(H5P_FILE_ACCESS));
    H5Pset_libver_bounds(access, H5F_LIBVER_LATEST, H5F_LIBVER_LATEST);  // readable in SWMR mode
    Id file(h5::check(H5Fcreate(temporary.path().c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, access), context, "cannot create the master"));
    Id first_root(h5::check(H5Gopen2(first->file, "/", H5P_DEFAULT), first->state.path, "cannot open the root group"));
    Id root(h5::check(H5Gopen2(file, "/", H5P_DEFAULT), context, "cannot open the root group"));
    copy_attributes(first_root, root, context);  // the layout attributes
    write_root_attributes(file, RunKind::capture, command_line, info.complete);
    h5::write_attribute(file, sc::kShardCount, static_cast<std::int64_t>(count));
    h5::write_attribute(file, sc::kShards, shards_record(sources, master_folder).dump());
    // The run's provenance is shard 0's, with the shard's place replaced by the run's shard count.
    Provenance provenance = first->reader->provenance();
    auto settings = nlohmann::json::parse(provenance.settings_json, nullptr, false);
    if (settings.is_object()) settings[sc::kShardSetting] = {{"count", count}};
    provenance.settings_json = settings.dump();
    write_provenance(file, provenance, context);

    std::vector<Source*> ordered;
    for (auto& source : sources) ordered.push_back(&source);
    const StoreLayout& layout = first->reader->layout();
    std::map<std::string, sc::RowAxis> offsets;
    for (const auto& column : sc::offset_columns()) offsets.emplace(column.path, column.indexes);
    for (const auto& spec : sc::capture_datasets())
      for (const auto& name : sc::dataset_paths(spec, layout)) {
        if ((spec.rows == sc::RowAxis::fixed && spec.role == sc::Role::scale) || !first->datasets.count(name)) {
          continue;  // fixed scales: write_fixed_scales, below; a scale or coordinate older shards lack: none
        } else if (spec.rows == sc::RowAxis::fixed) {
          Id links = intermediate_groups();
          h5::check_status(H5Ocopy(first->file, name.c_str(), file, name.c_str(), H5P_DEFAULT, links), context, "cannot copy " + name);
          Id copied = h5::open_dataset(file, name, context);  // its scales are the shard's: attached anew below
          if (H5Aexists(copied, "DIMENSION_LIST") > 0) H5Adelete(copied, "DIMENSION_LIST");
        } else if (const auto offset = offsets.find(name); offset != offsets.end()) {
          write_offset_column(file, name, spec.rows, offset->second, ordered, *first, context);
        } else {
          write_virtual(file, name, spec.rows, ordered, *first, master_folder, context);
        }
      }
    write_fixed_scales(file, layout, context);
    attach_dimension_scales(file, layout, context);
    h5::check_status(H5Fflush(file, H5F_SCOPE_GLOBAL), context, "cannot flush the master");
  }
  temporary.commit();
  return info;
}

// 4. Reading the record ----------------------------------------------------------------------------------
bool is_master(hid_t file) { return h5::has_attribute(file, sc::kShardCount); }

std::vector<ShardState> master_shards(hid_t file, const std::string& master_path) {
  const auto record = nlohmann::json::parse(h5::read_string_attribute(file, sc::kShards, master_path), nullptr, false);
  const std::int64_t count = h5::read_int_attribute(file, sc::kShardCount, master_path);
  if (!record.is_array() || static_cast<std::int64_t>(record.size()) != count)
    throw StoreError(master_path + ": root attribute '" + sc::kShards + "' is not a list of its " + std::to_string(count) + " shards");
  const fs::path folder = fs::path(master_path).parent_path();
  std::vector<ShardState> shards;
  for (const auto& entry : record) {
    if (!entry.is_object() || !entry.value("file", nlohmann::json()).is_string())
      throw StoreError(master_path + ": root attribute '" + sc::kShards + "': an entry without its file");
    ShardState state;
    state.file = entry["file"].get<std::string>();
    state.path = (folder / state.file).string();
    state.place.index = entry.value("index", static_cast<int>(shards.size()));
    state.place.count = static_cast<int>(count);
    state.place.planned_samples = entry.value("samples", std::int64_t{-1});
    state.mapped_samples = entry.value("mapped", std::int64_t{0});
    shards.push_back(state);
  }
  return shards;
}

std::optional<MasterInfo> read_master(const std::string& master_path) {
  h5::quiet_errors();
  std::vector<ShardState> shards;
  {
    OpenedFile opened = open_for_reading(master_path);
    if (!is_master(opened.file)) return std::nullopt;
    shards = master_shards(opened.file, master_path);
  }
  MasterInfo info;
  info.complete = true;
  for (auto& shard : shards) {
    std::error_code ec;
    shard.exists = fs::exists(shard.path, ec);
    if (shard.exists) {
      try {
        const auto reader = StoreReader::open(shard.path);
        shard.live = reader->live();
        shard.complete = reader->complete();
        shard.committed_samples = reader->sample_count();
      } catch (const std::exception& e) {
        shard.problem = e.what();
      }
    } else {
      shard.problem = "missing";
    }
    info.samples += shard.mapped_samples;
    info.complete = info.complete && shard.done();
  }
  info.shards = std::move(shards);
  return info;
}

}  // namespace headscope::store
