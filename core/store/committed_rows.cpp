// committed_rows (see committed_rows.h): a (start, length) pair per pool, read at the last committed row.
#include "core/store/committed_rows.h"

#include "core/store/schema.h"

namespace headscope::store {

namespace sc = schema;

RowCounts committed_rows(const std::function<hid_t(const char*)>& dataset, const StoreLayout& layout, const std::string& path) {
  using R = sc::RowAxis;
  RowCounts committed;
  const std::int64_t samples = static_cast<std::int64_t>(h5::extent0(dataset(sc::kTokenStart)));
  committed[R::sample] = samples;
  if (samples == 0) return committed;
  // start + length at `row` of two int64 / int32 columns.
  auto end_of = [&](const char* start_name, const char* length_name, std::int64_t row) {
    std::int64_t start = 0;
    std::int32_t length = 0;
    const hsize_t at = static_cast<hsize_t>(row);
    h5::read_slab(dataset(start_name), H5T_NATIVE_INT64, {at}, {1}, &start, path + " " + start_name);
    h5::read_slab(dataset(length_name), H5T_NATIVE_INT32, {at}, {1}, &length, path + " " + length_name);
    return std::pair<std::int64_t, std::int32_t>{start, length};
  };
  const std::int64_t last = samples - 1;
  const auto [token_start, token_count] = end_of(sc::kTokenStart, sc::kTokenCount, last);
  committed[R::token] = token_start + token_count;
  const auto [metadata_start, metadata_length] = end_of(sc::kMetadataStart, sc::kMetadataLength, last);
  committed[R::sample_text_byte] = metadata_start + metadata_length;
  if (committed[R::token] > 0) {
    const auto [text_start, text_length] = end_of(sc::kTokenTextStart, sc::kTokenTextLength, committed[R::token] - 1);
    committed[R::token_text_byte] = text_start + text_length;
  }
  const auto [span_start, span_count] = end_of(sc::kEmbeddingStart, sc::kEmbeddingCount, last);
  committed[R::span] = span_start + span_count;
  if (layout.embedding_dim > 0 && committed[R::span] > 0) {
    const auto [label_start, label_length] = end_of(sc::kEmbeddingLabelStart, sc::kEmbeddingLabelLength, committed[R::span] - 1);
    committed[R::label_text_byte] = label_start + label_length;
  }
  if (!layout.pinned_heads.empty()) {
    std::int64_t offset = 0;
    h5::read_slab(dataset(sc::kAttentionOffset), H5T_NATIVE_INT64, {static_cast<hsize_t>(last)}, {1}, &offset,
                  path + " " + sc::kAttentionOffset);
    committed[R::attention_value] = offset + static_cast<std::int64_t>(token_count) * token_count;
  }
  return committed;
}

}  // namespace headscope::store
