// Shared importer plumbing (see import_support.h).
#include "core/io/import_support.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <cstdio>
#include <filesystem>
#include <system_error>

#include "core/store/file_replace.h"
#include "core/store/writer.h"

namespace headscope::io::detail {

namespace fs = std::filesystem;

void check_import_layout(const std::string& where, std::int64_t layers, std::int64_t heads) {
  if (layers < 1 || layers > kMaxImportLayers || heads < 1 || heads > kMaxImportHeads)
    throw ImportError(where + ": a layout of " + std::to_string(layers) + " layers x " + std::to_string(heads) +
                      " heads is outside 1.." + std::to_string(kMaxImportLayers) + " layers and 1.." +
                      std::to_string(kMaxImportHeads) + " heads (a corrupt layer or head index?)");
}

void check_import_sample(const std::string& where, std::int64_t tokens, std::int64_t layers, std::int64_t heads) {
  check_import_layout(where, layers, heads);
  if (tokens < 1 || tokens > kMaxImportTokens)
    throw ImportError(where + ": " + std::to_string(tokens) + " tokens in one sample is outside 1.." +
                      std::to_string(kMaxImportTokens) + " (a corrupt token position?)");
  if (tokens * layers * heads > kMaxImportSampleCells)
    throw ImportError(where + ": one sample of " + std::to_string(tokens) + " tokens x " + std::to_string(layers) +
                      " layers x " + std::to_string(heads) + " heads is more than " +
                      std::to_string(kMaxImportSampleCells) + " values per metric; split it");
}

float import_float(const nlohmann::json& value, const std::string& where) {
  const double number = value.get<double>();
  if (std::isfinite(number) && std::fabs(number) > static_cast<double>(std::numeric_limits<float>::max()))
    throw ImportError(where + ": " + value.dump() + " is beyond the float32 range the store holds (|x| <= 3.4e38)");
  return static_cast<float>(number);
}

static std::string lowercase_extension(const fs::path& path) {
  std::string ext = path.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return ext;
}

std::vector<std::string> collect_files(const std::vector<std::string>& inputs,
                                       const std::vector<std::string>& extensions, const std::string& what) {
  auto wanted = [&](const fs::path& p) {
    return std::find(extensions.begin(), extensions.end(), lowercase_extension(p)) != extensions.end();
  };
  std::vector<std::string> files;
  for (const auto& input : inputs) {
    std::error_code ec;
    const auto status = fs::status(input, ec);
    if (ec || !fs::exists(status)) throw ImportError(input + ": no such file or folder");
    if (fs::is_directory(status)) {
      std::vector<std::string> found;
      for (fs::recursive_directory_iterator it(input, fs::directory_options::follow_directory_symlink, ec), end;
           !ec && it != end; it.increment(ec))
        if (it->is_regular_file() && wanted(it->path())) found.push_back(it->path().string());
      if (ec) throw ImportError(input + ": cannot walk the folder (" + ec.message() + ")");
      std::sort(found.begin(), found.end());
      files.insert(files.end(), found.begin(), found.end());
    } else {
      files.push_back(input);
    }
  }
  if (files.empty()) {
    std::string list;
    for (const auto& e : extensions) list += (list.empty() ? "" : ", ") + e;
    throw ImportError("no " + what + " files (" + list + ") found in the inputs");
  }
  return files;
}

std::uint64_t file_size(const std::string& path) {
  std::error_code ec;
  const auto size = fs::file_size(path, ec);
  if (ec) throw ImportError(path + ": cannot read the file (" + ec.message() + ")");
  return size;
}

std::string describe_offset(const std::string& path, std::uint64_t offset) {
  std::uint64_t line = 1, column = 1, position = 0;
  if (std::FILE* file = std::fopen(path.c_str(), "rb")) {
    char buffer[1 << 16];
    std::size_t got;
    while (position < offset && (got = std::fread(buffer, 1, sizeof buffer, file)) > 0) {
      for (std::size_t i = 0; i < got && position < offset; ++i, ++position) {
        if (buffer[i] == '\n') { ++line; column = 1; } else { ++column; }
      }
    }
    std::fclose(file);
  }
  return "line " + std::to_string(line) + ", column " + std::to_string(column) + " (byte " + std::to_string(offset) + ")";
}

ProgressTicker::ProgressTicker(ProgressCallback callback, std::uint64_t bytes_total)
    : callback_(std::move(callback)), start_(std::chrono::steady_clock::now()), last_(start_) {
  progress_.bytes_total = bytes_total;
}

void ProgressTicker::update(std::int64_t rows, std::int64_t samples, std::uint64_t bytes_read, bool force) {
  if (!callback_) return;
  const auto now = std::chrono::steady_clock::now();
  if (!force && now - last_ < std::chrono::milliseconds(250)) return;
  last_ = now;
  progress_.rows = rows;
  progress_.samples = samples;
  progress_.bytes_read = bytes_read;
  progress_.seconds = std::chrono::duration<double>(now - start_).count();
  callback_(progress_);
}

double ProgressTicker::seconds() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

PartialStore::PartialStore(const ImportOptions& options) : out_(options.out), partial_(options.out + ".partial") {
  if (out_.empty()) throw ImportError("no output file given (--out FILE.h5)");
  try {
    store::check_replaceable(out_, options.overwrite);
    lock_ = std::make_unique<store::WriterLock>(out_);  // held until the rename: no writer replaces OUT meanwhile
  } catch (const store::StoreError& e) {
    throw ImportError(e.what());
  }
}

static void remove_quietly(const std::string& path) {
  std::error_code ec;
  fs::remove(path, ec);
}

PartialStore::~PartialStore() {
  if (committed_) return;
  writer_.reset();  // closes the HDF5 file before it is deleted
  remove_quietly(partial_);
  remove_quietly(partial_ + ".writer-lock");
}

void PartialStore::create(const store::StoreLayout& layout, const store::Provenance& provenance) {
  // A stale OUT.partial is the remains of an import that was killed: replace it.
  writer_ = store::StoreWriter::create(partial_, layout, provenance, /*overwrite=*/true);
}

void PartialStore::append(const store::SampleRecord& sample) { writer_->append(sample); }
std::int64_t PartialStore::samples() const { return writer_ ? writer_->sample_count() : 0; }
std::int64_t PartialStore::tokens() const { return writer_ ? writer_->token_count() : 0; }

void PartialStore::commit(const std::function<void(const std::string&)>& finish) {
  if (!writer_) throw ImportError(out_ + ": nothing was imported");
  writer_->close();
  if (finish) finish(partial_);
  try {
    store::rename_durably(partial_, out_);
  } catch (const store::StoreError& e) {
    throw ImportError(e.what());
  }
  committed_ = true;
}

store::Provenance import_provenance(const ImportOptions& options, const nlohmann::json& settings) {
  store::Provenance provenance;
  provenance.command_line = options.command_line;
  provenance.settings_json = settings.dump(1);
  return provenance;
}

nlohmann::json base_settings(const std::string& importer, const std::string& format_description,
                             const std::vector<std::string>& sources, const ImportOptions& options) {
  nlohmann::json sources_json = nlohmann::json::array();
  for (const auto& s : sources) sources_json.push_back(fs::absolute(s).lexically_normal().string());
  return {{"importer", importer},
          {"format", format_description},
          {"sources", sources_json},
          {"layers_option", options.layers},
          {"heads_option", options.heads}};
}

void finish_summary(ImportSummary& summary, const PartialStore& store, const store::StoreLayout& layout,
                    const nlohmann::json& settings, double seconds) {
  summary.samples = store.samples();
  summary.tokens = store.tokens();
  summary.layers = layout.layer_count;
  summary.heads = layout.head_count;
  for (const auto& m : layout.metrics) summary.metrics.push_back(m.name);
  if (settings.contains("missing")) summary.missing = settings["missing"].get<std::vector<std::string>>();
  if (settings.contains("notes")) summary.notes = settings["notes"].get<std::vector<std::string>>();
  summary.seconds = seconds;
}

}  // namespace headscope::io::detail
