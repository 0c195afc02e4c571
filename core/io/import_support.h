// Plumbing shared by the importers: finding the source files, turning a byte offset into a line and
// column, throttled progress reports, and PartialStore, which writes OUT.partial and renames it to OUT
// only on success (deleting it on any failure), so no half-import ever looks complete; OUT's writer lock is
// held throughout, so a live capture's file is never replaced.
#pragma once
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/io/import.h"
#include "core/store/file_replace.h"
#include "core/store/layout.h"

namespace headscope::store { class StoreWriter; }

namespace headscope::io::detail {

// The files named by `inputs`: files as given; folders walked recursively in sorted path order,
// keeping files whose lowercase extension is one of `extensions` (".json"). Throws ImportError when an
// input does not exist or nothing matched.
std::vector<std::string> collect_files(const std::vector<std::string>& inputs,
                                       const std::vector<std::string>& extensions, const std::string& what);

std::uint64_t file_size(const std::string& path);

// Bounds on what an import may allocate, checked before allocating: a layer, head or token index read
// from a file (a typo, a corrupt row) must give an error naming the file, not a 19 GB array or a
// std::bad_alloc. Far beyond any real model: 4,096 layers or heads, a million tokens per sample, and
// 2^28 dense cells (one float per token x layer x head: 1 GiB per metric) per sample.
constexpr std::int64_t kMaxImportLayers = 4096;
constexpr std::int64_t kMaxImportHeads = 4096;
constexpr std::int64_t kMaxImportTokens = std::int64_t{1} << 20;
constexpr std::int64_t kMaxImportSampleCells = std::int64_t{1} << 28;
// Throws ImportError("<where>: ...") when the layout or one sample's dense [tokens, layers, heads] array
// is beyond the bounds above.
void check_import_layout(const std::string& where, std::int64_t layers, std::int64_t heads);
void check_import_sample(const std::string& where, std::int64_t tokens, std::int64_t layers, std::int64_t heads);
// A JSON number as float32. Throws ImportError("<where>: ...") for a finite value beyond float32's range
// (1e308 must not silently become +inf); NaN and infinities written as such stay what they are.
float import_float(const nlohmann::json& value, const std::string& where);

// "line 12, column 5 (byte 311)" for a byte offset of the file (scans the file up to the offset).
std::string describe_offset(const std::string& path, std::uint64_t offset);

// Calls the progress callback at most ~4 times a second.
class ProgressTicker {
 public:
  ProgressTicker(ProgressCallback callback, std::uint64_t bytes_total);
  void set_file(const std::string& file) { progress_.file = file; }
  void update(std::int64_t rows, std::int64_t samples, std::uint64_t bytes_read, bool force = false);
  double seconds() const;

 private:
  ProgressCallback callback_;
  ImportProgress progress_;
  std::chrono::steady_clock::time_point start_, last_;
};

// The store an importer writes: OUT.partial while it runs, OUT after commit().
class PartialStore {
 public:
  explicit PartialStore(const ImportOptions& options);  // throws if OUT exists and !overwrite
  ~PartialStore();                                      // not committed: closes and deletes the partial
  PartialStore(const PartialStore&) = delete;
  PartialStore& operator=(const PartialStore&) = delete;

  bool created() const { return writer_ != nullptr; }
  void create(const store::StoreLayout& layout, const store::Provenance& provenance);
  void append(const store::SampleRecord& sample);
  std::int64_t samples() const;
  std::int64_t tokens() const;
  // Closes the writer, lets `finish` add to the closed file (e.g. an /analysis group), renames to OUT.
  void commit(const std::function<void(const std::string& partial_path)>& finish = {});
  const std::string& partial_path() const { return partial_; }

 private:
  std::string out_, partial_;
  std::unique_ptr<store::WriterLock> lock_;  // OUT's: refuses a live writer of OUT and keeps others out
  std::unique_ptr<store::StoreWriter> writer_;
  bool committed_ = false;
};

// Provenance of an import: the command line and the settings JSON (format, sources, options, what is
// missing, notes); no model is known.
store::Provenance import_provenance(const ImportOptions& options, const nlohmann::json& settings);

// Settings every importer records: {"importer", "format", "sources", "layers_option", "heads_option"}.
nlohmann::json base_settings(const std::string& importer, const std::string& format_description,
                             const std::vector<std::string>& sources, const ImportOptions& options);

// Fills the summary's common fields from the committed store.
void finish_summary(ImportSummary& summary, const PartialStore& store, const store::StoreLayout& layout,
                    const nlohmann::json& settings, double seconds);

}  // namespace headscope::io::detail
