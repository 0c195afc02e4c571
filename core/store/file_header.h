// What every HeadScope file says about itself, written and read in one place for every kind (capture,
// import, sweep, ib): the root attributes (format, schema_version, kind, created, tool_version,
// command_line, complete), the capture store's layout attributes, and the /model and /run provenance.
// Names from schema.h; docs/store-format.md "Root attributes".
#pragma once
#include <hdf5.h>

#include <string>

#include "core/store/h5.h"
#include "core/store/layout.h"

namespace headscope::store {

struct RootAttributes {
  std::string format;              // "headscope"; "" when absent
  int schema_version = 0;
  std::string kind;                // "capture", "sweep", "ib", "import"; "" when absent
  std::string created, tool_version, command_line;
  bool complete = true;            // absent (files written before it existed): complete
};

// format, schema_version (this build's), kind, created (now), tool_version (this build's), command_line,
// complete.
void write_root_attributes(hid_t file, RunKind kind, const std::string& command_line, bool complete);
// Reads whatever of them is there (missing ones keep their defaults); never throws for a missing one.
RootAttributes read_root_attributes(hid_t file, const std::string& path);
// Throws StoreError naming the file unless it is a HeadScope file of a schema version this build reads.
void check_format(const RootAttributes& root, const std::string& path);

// The capture store's fixed layout as root attributes (layer_count, head_count, metrics, ...).
void write_layout_attributes(hid_t file, const StoreLayout& layout);
// The layout back, with each metric's units and description from its dataset. Throws StoreError.
StoreLayout read_layout(hid_t file, const std::string& path);

// /model: attribute name and dataset config_json ("{}" when empty) — what every kind records of the
// model. Returns the group so a capture store can add the path and the tokenizer.
h5::Id write_model_group(hid_t file, const std::string& model_name, const std::string& config_json,
                         const std::string& context);
// /model (with path and tokenizer) and /run/settings_json of a capture or import store.
void write_provenance(hid_t file, const Provenance& provenance, const std::string& context);
// The same back, with the settings decoded (facts.h).
Provenance read_provenance(hid_t file, const std::string& path);

}  // namespace headscope::store
