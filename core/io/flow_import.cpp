// NumPy flow matrices -> store. Per-problem arrays [problems, layers, heads, K, K] (float16 or float32,
// C order) become one sample each with the store's /flow/matrices; an averaged [layers, heads, K, K]
// becomes one sample marked "averaged". The sources have no tokens, so each sample holds K placeholder
// tokens and positions 0..K-1, said in its metadata. Ranking CSVs and JSON summaries beside the arrays
// are kept verbatim in /analysis/imported/ (added after the writer closes). Mapping: docs/importers.md.
#include <algorithm>
#include <climits>
#include <filesystem>
#include <map>

#include "core/io/import.h"
#include "core/io/import_support.h"
#include "core/io/json_stream.h"
#include "core/io/npy.h"
#include "core/store/h5.h"

namespace headscope::io {

using json = nlohmann::json;
using namespace detail;
namespace fs = std::filesystem;

namespace {

constexpr std::uint64_t kMaxSideFileBytes = 64u << 20;

std::string shape_text(const std::vector<std::uint64_t>& shape) {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

std::string read_text_file(const std::string& path) {
  const std::uint64_t size = file_size(path);
  if (size > kMaxSideFileBytes)
    throw ImportError(path + ": " + std::to_string(size) + " bytes is too large for a ranking CSV or JSON summary (limit 64 MiB)");
  std::string text(size, '\0');
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (!file || std::fread(text.data(), 1, size, file) != size) {
    if (file) std::fclose(file);
    throw ImportError(path + ": cannot read");
  }
  std::fclose(file);
  return text;
}

// A side file kept verbatim: its dataset name in /analysis/imported and its text.
struct SideFile {
  std::string source, dataset, text;
};

}  // namespace

ImportSummary import_flow(const ImportOptions& options) {
  const auto files = collect_files(options.inputs, {".npy", ".csv", ".json"}, "flow matrix (.npy) or ranking/summary");
  std::vector<std::string> arrays;
  std::vector<SideFile> side_files;
  std::map<std::string, int> dataset_names;
  for (const auto& f : files) {
    const std::string ext = fs::path(f).extension().string();
    if (ext == ".npy" || ext == ".NPY") { arrays.push_back(f); continue; }
    SideFile side{f, fs::path(f).filename().string(), read_text_file(f)};
    if (ext == ".json" || ext == ".JSON") parse_json_file(f);  // a truncated summary is an error, not a silent copy
    if (int n = dataset_names[side.dataset]++; n > 0) side.dataset += "." + std::to_string(n);
    side_files.push_back(std::move(side));
  }
  if (arrays.empty()) throw ImportError("no .npy flow matrices among the inputs (found only CSV/JSON side files)");

  PartialStore out(options);
  std::uint64_t bytes_total = 0;
  for (const auto& f : arrays) bytes_total += file_size(f);
  ProgressTicker ticker(options.progress, bytes_total);

  store::StoreLayout layout;
  layout.kind = store::RunKind::import;
  json settings = base_settings("flow", "NumPy flow matrices [problems, layers, heads, K, K] or averaged [layers, heads, K, K]", files, options);
  settings["missing"] = {"tokens and the token positions of the K flow positions (placeholders 0..K-1)",
                         "per-token metrics", "attention matrices beyond the K x K blocks"};
  settings["notes"] = {"each problem of a 5-D array is one sample; a 4-D (averaged) array is one sample with metadata averaged = true",
                       "row = attending position, column = attended position, as in the source",
                       "ranking CSVs and JSON summaries are kept verbatim in /analysis/imported"};
  json side_json = json::array();
  for (const auto& s : side_files) side_json.push_back({{"source", s.source}, {"dataset", "/analysis/imported/" + s.dataset}});
  settings["analysis_files"] = side_json;

  std::int64_t rows = 0;
  std::uint64_t bytes_before = 0;
  std::vector<float> matrices;
  for (const auto& path : arrays) {
    ticker.set_file(path);
    NpyFile npy(path);
    const auto& shape = npy.header().shape;
    const bool averaged = shape.size() == 4;
    if (shape.size() != 4 && shape.size() != 5)
      throw ImportError(path + ": byte " + std::to_string(npy.header().data_offset) + ": expected shape [problems, layers, heads, K, K] or [layers, heads, K, K], found " +
                        shape_text(shape));
    const std::size_t d = averaged ? 0 : 1;
    const std::uint64_t problems = averaged ? 1 : shape[0], layers = shape[d], heads = shape[d + 1], k = shape[d + 2];
    if (shape[d + 3] != k) throw ImportError(path + ": expected square K x K matrices, found shape " + shape_text(shape));
    if (layers == 0 || heads == 0 || k == 0) throw ImportError(path + ": empty flow array of shape " + shape_text(shape));
    check_import_layout(path + ": shape " + shape_text(shape), static_cast<std::int64_t>(std::min<std::uint64_t>(layers, INT32_MAX)),
                        static_cast<std::int64_t>(std::min<std::uint64_t>(heads, INT32_MAX)));
    if (npy.header().type != NpyType::float16 && npy.header().type != NpyType::float32 && npy.header().type != NpyType::float64)
      throw ImportError(path + ": expected float16 or float32 flow matrices, found " + npy_type_name(npy.header().type));
    if ((options.layers > 0 && static_cast<std::uint64_t>(options.layers) != layers) ||
        (options.heads > 0 && static_cast<std::uint64_t>(options.heads) != heads))
      throw ImportError(path + ": shape " + shape_text(shape) + " does not match --layers " + std::to_string(options.layers) +
                        " --heads " + std::to_string(options.heads));
    if (!out.created()) {
      layout.layer_count = static_cast<int>(layers);
      layout.head_count = static_cast<int>(heads);
      layout.flow_size = static_cast<int>(k);
      settings["layers"] = layout.layer_count;
      settings["heads"] = layout.head_count;
      settings["flow_size"] = layout.flow_size;
      out.create(layout, import_provenance(options, settings));
    } else if (layers != static_cast<std::uint64_t>(layout.layer_count) || heads != static_cast<std::uint64_t>(layout.head_count) ||
               k != static_cast<std::uint64_t>(layout.flow_size)) {
      throw ImportError(path + ": shape " + shape_text(shape) + " differs from the first array's [.., " +
                        std::to_string(layout.layer_count) + ", " + std::to_string(layout.head_count) + ", " +
                        std::to_string(layout.flow_size) + ", " + std::to_string(layout.flow_size) + "]");
    }
    const std::uint64_t per_problem = layers * heads * k * k;
    const std::string stem = fs::path(path).stem().string();
    for (std::uint64_t p = 0; p < problems; ++p) {
      store::SampleRecord sample;
      matrices.resize(per_problem);
      npy.read_floats(p * per_problem, per_problem, matrices.data());  // [layer, head, K, K]
      sample.flow = matrices;
      sample.tokens.assign(k, -1);
      for (std::uint64_t i = 0; i < k; ++i) sample.flow_positions.push_back(static_cast<std::int32_t>(i));
      sample.id = averaged ? stem : stem + "[" + std::to_string(p) + "]";
      json metadata = {{"source_file", path}, {"source_dtype", npy_type_name(npy.header().type)},
                       {"averaged", averaged}, {"flow_positions_known", false}};
      if (!averaged) metadata["problem_index"] = p;
      sample.metadata_json = metadata.dump();
      out.append(sample);
      ++rows;
      ticker.update(rows, out.samples(), bytes_before + npy.header().data_offset + (p + 1) * per_problem * npy.header().item_size);
    }
    bytes_before += file_size(path);
  }
  ticker.update(rows, out.samples(), bytes_before, true);

  out.commit([&](const std::string& partial) {
    if (side_files.empty()) return;
    h5::Id access(H5Pcreate(H5P_FILE_ACCESS));
    H5Pset_libver_bounds(access, H5F_LIBVER_LATEST, H5F_LIBVER_LATEST);
    h5::Id file(h5::check(H5Fopen(partial.c_str(), H5F_ACC_RDWR, access), partial, "cannot reopen to add /analysis"));
    h5::Id analysis = h5::create_group(file, "analysis", partial);
    h5::Id imported = h5::create_group(analysis, "imported", partial);
    for (const auto& s : side_files) {
      h5::write_string_dataset(imported, s.dataset, s.text, partial);
      h5::Id dataset = h5::open_dataset(imported, s.dataset, partial);
      h5::write_attribute(dataset, "source", s.source);
      h5::write_attribute(dataset, "description", std::string("verbatim copy of the earlier pipeline's file"));
    }
  });

  ImportSummary summary;
  summary.out = options.out;
  summary.format = "flow";
  summary.sources = files;
  summary.rows = rows;
  finish_summary(summary, out, layout, settings, ticker.seconds());
  if (!side_files.empty())
    summary.notes.push_back(std::to_string(side_files.size()) + " ranking/summary files kept in /analysis/imported");
  return summary;
}

}  // namespace headscope::io
