// The committed extent of every row axis of a capture store file: how many samples are committed (the
// length of /samples/token_start, written last by the writer), and from the last committed rows of the
// columns that index them, the tokens, spans, text bytes and attention values those samples use. Resume
// cuts a file back to it (writer.cpp); a master maps exactly it of each shard (master.cpp).
#pragma once
#include <cstdint>
#include <functional>
#include <string>

#include "core/store/h5.h"
#include "core/store/schema_table.h"

namespace headscope::store {

// Rows of each row axis (schema_table.h), indexed by the axis.
struct RowCounts {
  std::int64_t rows[schema::kRowAxisCount] = {};
  std::int64_t& operator[](schema::RowAxis axis) { return rows[static_cast<int>(axis)]; }
  std::int64_t operator[](schema::RowAxis axis) const { return rows[static_cast<int>(axis)]; }
};

// `dataset(path)` gives the open dataset of a table path. Throws StoreError naming `path` (the file).
RowCounts committed_rows(const std::function<hid_t(const char*)>& dataset, const StoreLayout& layout, const std::string& path);

}  // namespace headscope::store
