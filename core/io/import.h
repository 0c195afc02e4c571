// Importers: turn the files earlier pipelines left behind (per-problem JSD JSON, chunked IAF JSON,
// per-token metric CSV, NumPy flow matrices) into a HeadScope store of kind `import`. Each importer
// streams its input, writes OUT.partial and renames it to OUT only when everything was read, so a
// failed import never leaves a complete-looking file. Mapping decisions: docs/importers.md.
#pragma once
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

namespace headscope::io {

// Every importer error: the message names the file, the line or byte offset, and what was expected.
class ImportError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Reported to the progress callback a few times a second while an import runs.
struct ImportProgress {
  std::string file;              // the source file being read
  std::int64_t rows = 0;         // source records so far (CSV rows, JSON problems, flow matrices)
  std::int64_t samples = 0;      // samples committed to the store
  std::uint64_t bytes_read = 0;  // of all sources together
  std::uint64_t bytes_total = 0;
  double seconds = 0;
};
using ProgressCallback = std::function<void(const ImportProgress&)>;

struct ImportOptions {
  std::vector<std::string> inputs;  // files or folders (folders are walked recursively, sorted)
  std::string out;                  // the store to create (.h5)
  int layers = 0;                   // 0: from the data (see docs/importers.md per format)
  int heads = 0;
  bool overwrite = false;           // replace an existing OUT
  std::string command_line;         // written into the provenance
  ProgressCallback progress;        // may be empty
};

struct ImportSummary {
  std::string out;
  std::string format;                // "jsd", "iaf", "csv", "flow" or "v6"
  std::vector<std::string> sources;  // every file read
  std::int64_t samples = 0;
  std::int64_t tokens = 0;
  std::int64_t rows = 0;             // source records read
  int layers = 0;
  int heads = 0;
  std::vector<std::string> metrics;
  std::vector<std::string> missing;  // what the source does not have (for views to say plainly)
  std::vector<std::string> notes;    // decisions a reader of the store should know
  double seconds = 0;
};

ImportSummary import_jsd(const ImportOptions& options);
ImportSummary import_iaf(const ImportOptions& options);
ImportSummary import_csv(const ImportOptions& options);
ImportSummary import_flow(const ImportOptions& options);
ImportSummary import_v6(const ImportOptions& options);  // V6 results JSON (+ attention_*.npz): v6_import.cpp

// Dispatches on "jsd", "iaf", "csv", "flow" or "v6"; throws ImportError for another name.
ImportSummary import_format(const std::string& format, const ImportOptions& options);

// A one-screen description of a finished import.
std::string format_summary(const ImportSummary& summary);

}  // namespace headscope::io
