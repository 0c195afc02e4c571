// Which result file a path is, and opening it by its kind (see result_files.h); the files themselves are
// read by core/store (sweep_file.h, ib_file.h).
#include "views/data/result_files.h"

#include <stdexcept>

#include "core/store/file_header.h"
#include "core/store/result_io.h"
#include "views/data/ib_source_data.h"

namespace headscope::views {

std::string headscope_file_kind(const std::string& path) {
  h5::Id file = store::result_io::open_read_only(path);  // StoreError (a runtime_error) naming the file
  return store::read_root_attributes(file, path).kind;
}

bool is_result_file(const std::string& path) {
  try {
    h5::Id file = store::result_io::open_read_only(path);
    const std::string kind = store::read_root_attributes(file, path).kind;
    return kind == "ib" || (kind == "sweep" && h5::link_exists(file, "/sweep"));
  } catch (const std::exception&) {
    return false;
  }
}

ResultFile open_result_file(const std::string& path, bool background) {
  const std::string kind = headscope_file_kind(path);
  ResultFile file;
  file.path = path;
  file.kind = kind;
  if (kind == "sweep") file.sweep = read_sweep_file(path);
  else if (kind == "ib") {
    file.ib = read_ib_file(path);
    file.ib_source = std::make_shared<IbSourceData>(file.ib, background);
  }
  else
    throw std::runtime_error(path + ": not a sweep or ib result file (kind " +
                             (kind.empty() ? std::string("missing") : "'" + kind + "'") + ")");
  return file;
}

}  // namespace headscope::views
