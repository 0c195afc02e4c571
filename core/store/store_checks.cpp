// The reader's checks of a store's counts and indices (see store_checks.h).
#include "core/store/store_checks.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "core/store/schema.h"

namespace headscope::store {

namespace sc = schema;

namespace {

[[noreturn]] void bad_row(const std::string& path, const char* dataset, std::int64_t row, const std::string& what) {
  throw StoreError(path + ": " + dataset + " row " + std::to_string(row) + ": " + what + " (damaged file?)");
}

std::string range_text(std::int64_t start, std::int64_t length, std::int64_t available) {
  return "range " + std::to_string(start) + " + " + std::to_string(length) + " outside the " + std::to_string(available) +
         " rows stored";
}

// start >= 0, length >= 0, start + length <= available.
bool inside(std::int64_t start, std::int64_t length, std::int64_t available) {
  return start >= 0 && length >= 0 && start <= available && length <= available - start;
}

bool integer_element(sc::ElementType type) {
  return type == sc::ElementType::int32 || type == sc::ElementType::int64 || type == sc::ElementType::uint8;
}

}  // namespace

RowExtents row_extents(const std::map<std::string, h5::Id>& datasets, const StoreLayout& layout) {
  RowExtents out;
  bool seen[sc::kRowAxisCount] = {};
  for (const auto& spec : sc::capture_datasets()) {
    if (spec.rows == sc::RowAxis::fixed) continue;
    const int axis = static_cast<int>(spec.rows);
    for (const auto& name : sc::dataset_paths(spec, layout)) {
      const auto found = datasets.find(name);
      if (found == datasets.end()) continue;
      const auto rows = static_cast<std::int64_t>(h5::extent0(found->second));
      out.rows[axis] = seen[axis] ? std::min(out.rows[axis], rows) : rows;
      seen[axis] = true;
    }
  }
  return out;
}

void check_layout(const StoreLayout& l, const std::string& path) {
  auto within = [&](const char* name, int value, int low, int high) {
    if (value < low || value > high)
      throw StoreError(path + ": root attribute " + name + " = " + std::to_string(value) + " outside " + std::to_string(low) +
                       ".." + std::to_string(high) + " (damaged file?)");
  };
  within(sc::kLayerCount, l.layer_count, 1, kMaxLayoutLayers);
  within(sc::kHeadCount, l.head_count, 1, kMaxLayoutHeads);
  within(sc::kFlowSize, l.flow_size, 0, kMaxFlowSize);
  within(sc::kEmbeddingDim, l.embedding_dim, 0, kMaxEmbeddingDim);
  for (std::size_t p = 0; p < l.pinned_heads.size(); ++p) {
    const HeadRef head = l.pinned_heads[p];
    if (head.layer < 0 || head.layer >= l.layer_count || head.head < 0 || head.head >= l.head_count)
      bad_row(path, sc::kAttentionHeads, static_cast<std::int64_t>(p),
              "pinned head (" + std::to_string(head.layer) + ", " + std::to_string(head.head) + ") outside the " +
                  std::to_string(l.layer_count) + " x " + std::to_string(l.head_count) + " heads");
  }
}

void check_dataset_shapes(const std::map<std::string, h5::Id>& datasets, const StoreLayout& layout, const std::string& path) {
  for (const auto& spec : sc::capture_datasets()) {
    if (spec.rows == sc::RowAxis::fixed) continue;
    for (const auto& name : sc::dataset_paths(spec, layout)) {
      const auto found = datasets.find(name);
      if (found == datasets.end() && spec.role != sc::Role::data) continue;  // scales and coordinates: newer stores only
      if (found == datasets.end()) throw StoreError(path + ": missing dataset '" + name + "'");
      const auto dims = h5::extent(found->second);
      std::string expected = "[rows";
      bool same = dims.size() == spec.dims.size();
      for (std::size_t d = 1; d < spec.dims.size(); ++d) {
        const std::size_t size = sc::dimension_size(spec.dims[d], layout);
        expected += ", " + std::to_string(size);
        same = same && dims[d] == size;
      }
      if (!same) {
        std::string actual = "[";
        for (std::size_t d = 0; d < dims.size(); ++d) actual += (d ? ", " : "") + std::to_string(dims[d]);
        throw StoreError(path + ": " + name + " is shaped " + actual + "], the layout says " + expected +
                         "] (damaged file or layout attributes?)");
      }
      h5::Id type(H5Dget_type(found->second));
      const H5T_class_t type_class = H5Tget_class(type);
      const H5T_class_t expected_class = spec.type == sc::ElementType::text ? H5T_STRING
                                         : integer_element(spec.type)        ? H5T_INTEGER
                                                                             : H5T_FLOAT;
      if (type_class != expected_class)
        throw StoreError(path + ": " + name + " has the wrong element type (" +
                         (expected_class == H5T_STRING ? "strings" : expected_class == H5T_INTEGER ? "integers" : "floats") + " expected)");
    }
  }
}

void check_sample_rows(const SampleColumns& c, std::int64_t from, std::int64_t to, const StoreLayout& layout,
                       const RowExtents& extents, const std::string& path) {
  using R = sc::RowAxis;
  std::int64_t token_end = from > 0 ? c.token_start[from - 1] + c.token_count[from - 1] : 0;
  std::int64_t span_end = from > 0 ? c.embedding_start[from - 1] + c.embedding_count[from - 1] : 0;
  const bool pinned = !layout.pinned_heads.empty();
  std::int64_t attention_end =
      pinned && from > 0 ? c.attention_offset[from - 1] + std::int64_t{c.token_count[from - 1]} * c.token_count[from - 1] : 0;
  for (std::int64_t i = from; i < to; ++i) {
    const std::int64_t count = c.token_count[i];
    if (count < 0) bad_row(path, sc::kTokenCount, i, "negative token count " + std::to_string(count));
    if (c.token_start[i] != token_end)
      bad_row(path, sc::kTokenStart, i, "starts at token " + std::to_string(c.token_start[i]) + ", the previous sample ends at " +
                                            std::to_string(token_end));
    if (!inside(c.token_start[i], count, extents[R::token]))
      bad_row(path, sc::kTokenCount, i, "token " + range_text(c.token_start[i], count, extents[R::token]));
    token_end = c.token_start[i] + count;
    if (c.prompt_length[i] < 0 || c.prompt_length[i] > count)
      bad_row(path, sc::kPromptLength, i, std::to_string(c.prompt_length[i]) + " outside the sample's 0.." + std::to_string(count) + " tokens");
    if (!inside(c.id_start[i], c.id_length[i], extents[R::sample_text_byte]))
      bad_row(path, sc::kIdLength, i, "id byte " + range_text(c.id_start[i], c.id_length[i], extents[R::sample_text_byte]));
    if (!inside(c.metadata_start[i], c.metadata_length[i], extents[R::sample_text_byte]))
      bad_row(path, sc::kMetadataLength, i,
              "metadata byte " + range_text(c.metadata_start[i], c.metadata_length[i], extents[R::sample_text_byte]));
    const std::int64_t spans = c.embedding_count[i];
    if (c.embedding_start[i] != span_end || !inside(c.embedding_start[i], spans, layout.embedding_dim > 0 ? extents[R::span] : 0))
      bad_row(path, sc::kEmbeddingCount, i,
              "step spans " + std::to_string(c.embedding_start[i]) + " + " + std::to_string(spans) + " do not follow the previous sample's (" +
                  std::to_string(span_end) + ") inside the " + std::to_string(extents[R::span]) + " spans stored");
    span_end += spans;
    if (pinned) {
      const std::int64_t values = count * count;
      if (c.attention_offset[i] != attention_end || !inside(attention_end, values, extents[R::attention_value]))
        bad_row(path, sc::kAttentionOffset, i, "attention block " + range_text(c.attention_offset[i], values, extents[R::attention_value]));
      attention_end += values;
    }
  }
}

void check_flow_positions(const std::vector<std::int32_t>& positions, std::int64_t from, int flow_size,
                          const SampleColumns& columns, const std::string& path) {
  const std::size_t k = static_cast<std::size_t>(flow_size);
  for (std::size_t j = 0; j < positions.size(); ++j) {
    const std::int64_t sample = from + static_cast<std::int64_t>(j / k);
    const std::int32_t count = columns.token_count[static_cast<std::size_t>(sample)];
    if (positions[j] < 0 || positions[j] >= count)
      bad_row(path, sc::kFlowPositions, sample,
              "position " + std::to_string(positions[j]) + " outside the sample's " + std::to_string(count) + " tokens");
  }
}

void check_span_rows(const SpanRows& spans, std::int64_t span_from, std::int64_t samples, const SampleColumns& c,
                     const RowExtents& extents, const std::string& path) {
  // Owner of each span from the per-sample ranges (already checked contiguous).
  std::int64_t owner = static_cast<std::int64_t>(std::upper_bound(c.embedding_start.begin(), c.embedding_start.begin() + samples, span_from) -
                                                 c.embedding_start.begin()) - 1;
  for (std::size_t j = 0; j < spans.sample.size(); ++j) {
    const std::int64_t row = span_from + static_cast<std::int64_t>(j);
    while (owner + 1 < samples && c.embedding_start[owner + 1] <= row) ++owner;
    if (spans.sample[j] != owner)
      bad_row(path, sc::kEmbeddingSample, row, "sample index " + std::to_string(spans.sample[j]) + ", but the span belongs to sample " +
                                                   std::to_string(owner) + " of " + std::to_string(samples));
    const std::int32_t count = c.token_count[static_cast<std::size_t>(owner)];
    if (spans.span_start[j] < 0 || spans.span_start[j] > spans.span_end[j] || spans.span_end[j] > count)
      bad_row(path, sc::kEmbeddingSpanStart, row,
              "span " + std::to_string(spans.span_start[j]) + ".." + std::to_string(spans.span_end[j]) + " outside the sample's " +
                  std::to_string(count) + " tokens");
    if (!inside(spans.label_start[j], spans.label_length[j], extents[sc::RowAxis::label_text_byte]))
      bad_row(path, sc::kEmbeddingLabelLength, row,
              "label byte " + range_text(spans.label_start[j], spans.label_length[j], extents[sc::RowAxis::label_text_byte]));
  }
}

void check_token_text(const std::vector<std::int64_t>& starts, const std::vector<std::int32_t>& lengths, std::int64_t at,
                      const RowExtents& extents, const std::string& path) {
  for (std::size_t t = 0; t < starts.size(); ++t)
    if (!inside(starts[t], lengths[t], extents[sc::RowAxis::token_text_byte]))
      bad_row(path, sc::kTokenTextLength, at + static_cast<std::int64_t>(t),
              "text byte " + range_text(starts[t], lengths[t], extents[sc::RowAxis::token_text_byte]));
}

void check_sample_metadata(const SampleInfo& info, const std::string& path) {
  if (!info.metadata_json.empty() && !nlohmann::json::accept(info.metadata_json))
    bad_row(path, sc::kMetadataStart, info.index, "the metadata is not valid JSON");
  for (const auto* starts : {&info.facts.step_starts, &info.facts.generated_step_starts})
    for (int start : *starts)
      if (start < 0 || start > info.token_count)
        bad_row(path, sc::kMetadataStart, info.index,
                "a recorded step starts at token " + std::to_string(start) + ", outside the sample's " + std::to_string(info.token_count));
}

}  // namespace headscope::store
