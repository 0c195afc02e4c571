// What StoreReader checks before it trusts a store: the layout's counts, every dataset's shape against the
// schema table, and every index and count of the rows it reads (per-sample columns, flow positions, step
// spans, token text offsets, sample metadata) against the extents it saw. Each failure is a StoreError
// naming the file, the dataset and the row, so no damaged value reaches an allocation or an index.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/store/h5.h"
#include "core/store/layout.h"
#include "core/store/schema_table.h"

namespace headscope::store {

// Upper bounds of a layout that any real model stays far below (a damaged attribute must not size a grid).
inline constexpr int kMaxLayoutLayers = 4096, kMaxLayoutHeads = 4096, kMaxFlowSize = 1024;
inline constexpr int kMaxEmbeddingDim = 1 << 20;

// Rows each row axis holds: the shortest dataset of that axis (schema_table.h).
struct RowExtents {
  std::int64_t rows[schema::kRowAxisCount] = {};
  std::int64_t operator[](schema::RowAxis axis) const { return rows[static_cast<int>(axis)]; }
};
RowExtents row_extents(const std::map<std::string, h5::Id>& datasets, const StoreLayout& layout);

// The per-sample columns a reader caches, [samples] each (names of schema.h's /samples datasets).
struct SampleColumns {
  std::vector<std::int64_t> token_start, id_start, metadata_start, embedding_start, attention_offset;
  std::vector<std::int32_t> token_count, prompt_length, id_length, metadata_length, embedding_count;
};

void check_layout(const StoreLayout& layout, const std::string& path);
// Rank, inner dimensions and element class of every dataset of the table against the layout.
void check_dataset_shapes(const std::map<std::string, h5::Id>& datasets, const StoreLayout& layout, const std::string& path);
// Rows [from, to) of the per-sample columns: contiguous token, span and attention ranges inside their
// datasets, prompt lengths within the sample, ids and metadata inside /samples/text.
void check_sample_rows(const SampleColumns& columns, std::int64_t from, std::int64_t to, const StoreLayout& layout,
                       const RowExtents& extents, const std::string& path);
// Flow positions of samples [from, from + rows), [rows, K]: each inside its sample.
void check_flow_positions(const std::vector<std::int32_t>& positions, std::int64_t from, int flow_size,
                          const SampleColumns& columns, const std::string& path);
// Step spans [span_from, span_from + rows): owned by the sample whose range holds them, inside its
// tokens, with labels inside /embeddings/label_text.
struct SpanRows {
  std::vector<std::int64_t> sample, label_start;
  std::vector<std::int32_t> span_start, span_end, label_length;
};
void check_span_rows(const SpanRows& spans, std::int64_t span_from, std::int64_t samples, const SampleColumns& columns,
                     const RowExtents& extents, const std::string& path);
// The display-text offsets of tokens [at, at + n) of a sample.
void check_token_text(const std::vector<std::int64_t>& starts, const std::vector<std::int32_t>& lengths, std::int64_t at,
                      const RowExtents& extents, const std::string& path);
// A sample's metadata: a JSON object (or empty), its recorded step starts inside the sample.
void check_sample_metadata(const SampleInfo& info, const std::string& path);

}  // namespace headscope::store
