// Plumbing shared by the importers: finding the source files, turning a byte offset into a line and
// column, throttled progress reports, and PartialStore, which writes OUT.partial and renames it to OUT
// only on success (deleting it on any failure), so no half-import ever looks complete.
#pragma once
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/io/import.h"
#include "core/store/layout.h"

namespace headscope::store { class StoreWriter; }

namespace headscope::io::detail {

// The files named by `inputs`: files as given; folders walked recursively in sorted path order,
// keeping files whose lowercase extension is one of `extensions` (".json"). Throws ImportError when an
// input does not exist or nothing matched.
std::vector<std::string> collect_files(const std::vector<std::string>& inputs,
                                       const std::vector<std::string>& extensions, const std::string& what);

std::uint64_t file_size(const std::string& path);

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
