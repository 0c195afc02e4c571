// The capture store's dataset table (see schema_table.h). Units and descriptions here are the attributes
// written into every file, so an HDF5 client reads the same words docs/store-format.md gives.
#include "core/store/schema_table.h"

#include <algorithm>
#include <cstring>

#include "core/store/schema.h"

namespace headscope::store::schema {

const std::vector<DatasetSpec>& capture_datasets() {
  using T = ElementType;
  using R = RowAxis;
  using P = Presence;
  using O = Repeat;
  constexpr Role S = Role::scale, C = Role::coordinate, D = Role::dimension;
  static const std::vector<DatasetSpec> table = {
      // /samples: one row per sample; token_start is written last and its length is the sample count.
      {kTokenStart, T::int64, R::sample, {"sample"}, "tokens",
       "offset of the sample's first token on the flat token axis; its length is the committed sample count", 1024, false},
      {kTokenCount, T::int32, R::sample, {"sample"}, "tokens", "tokens in the sample", 1024, false},
      {kPromptLength, T::int32, R::sample, {"sample"}, "tokens",
       "tokens before generation began (equal to token_count for teacher-forced samples)", 1024, false},
      {kIdStart, T::int64, R::sample, {"sample"}, "bytes", "offset of the sample id in /samples/text", 1024, false},
      {kIdLength, T::int32, R::sample, {"sample"}, "bytes", "length of the sample id (UTF-8)", 1024, false},
      {kMetadataStart, T::int64, R::sample, {"sample"}, "bytes", "offset of the sample's metadata JSON in /samples/text", 1024, false},
      {kMetadataLength, T::int32, R::sample, {"sample"}, "bytes", "length of the metadata JSON", 1024, false},
      {kEmbeddingStart, T::int64, R::sample, {"sample"}, "spans", "first row of the sample's step embeddings in /embeddings", 1024, false},
      {kEmbeddingCount, T::int32, R::sample, {"sample"}, "spans", "step embeddings of the sample", 1024, false},
      {kSampleText, T::uint8, R::sample_text_byte, {"byte"}, "", "UTF-8 pool of sample ids and metadata JSON", 65536, false},
      // /tokens: one row per token of every sample, flat.
      {kTokenIds, T::int32, R::token, {"token"}, "", "token ids of every sample, concatenated", 16384, false},
      {kTokenTextStart, T::int64, R::token, {"token"}, "bytes", "offset of the token's text in /tokens/text", 16384, false},
      {kTokenTextLength, T::int32, R::token, {"token"}, "bytes", "length of the token's display text", 16384, false},
      {kTokenText, T::uint8, R::token_text_byte, {"byte"}, "", "UTF-8 pool of token display texts", 65536, false},
      // One dataset per metric, and its per-sample means.
      {kMetrics, T::metric, R::token, {"token", "layer", "head"}, "", "", 0, true, Presence::always, Repeat::per_metric, true},
      {kSummaries, T::float32, R::sample, {"sample", "layer", "head"}, "", "mean over the sample's tokens (NaN skipped) of: ", 1,
       true, Presence::always, Repeat::per_metric},
      // K×K flow matrices.
      {kFlowPositions, T::int32, R::sample, {"sample", "position"}, "token index",
       "token positions that index the flow matrices' rows and columns", 256, false, Presence::flow},
      {kFlowMatrices, T::float32, R::sample, {"sample", "layer", "head", "attending", "attended"}, "probability",
       "attention among the flow positions: row = attending position, column = attended position", 1, true, Presence::flow},
      // Full attention of the pinned heads.
      {kAttentionHeads, T::int32, R::fixed, {"pinned", "layer_head"}, "", "the pinned heads as (layer, head) rows", 0, false,
       Presence::pinned},
      {kAttentionOffset, T::int64, R::sample, {"sample"}, "values",
       "offset of the sample's [query, key] matrix (token_count^2 values) in each /attention/L*H* array", 1024, false,
       Presence::pinned},
      {kAttention, T::float32, R::attention_value, {"value"}, "probability",
       "full attention of this head, each sample a row-major [query, key] block at its offset", 65536, true, Presence::pinned,
       Repeat::per_pinned_head},
      // Step-span embeddings for the Information Bottleneck.
      {kEmbeddingVectors, T::float32, R::span, {"span", "feature"}, "", "mean hidden state over each labelled span", -1, true,
       Presence::embeddings},
      {kEmbeddingSample, T::int64, R::span, {"span"}, "", "sample index of the span", 4096, false, Presence::embeddings},
      {kEmbeddingSpanStart, T::int32, R::span, {"span"}, "tokens", "first token of the span (sample-relative)", 4096, false,
       Presence::embeddings},
      {kEmbeddingSpanEnd, T::int32, R::span, {"span"}, "tokens", "one past the last token of the span", 4096, false,
       Presence::embeddings},
      {kEmbeddingLabelStart, T::int64, R::span, {"span"}, "bytes", "offset of the label in label_text", 4096, false,
       Presence::embeddings},
      {kEmbeddingLabelLength, T::int32, R::span, {"span"}, "bytes", "length of the label", 4096, false, Presence::embeddings},
      {kEmbeddingLabelText, T::uint8, R::label_text_byte, {"byte"}, "", "UTF-8 pool of span labels", 16384, false,
       Presence::embeddings},
      // Dimension scales and coordinates, so netCDF-aware tools (xarray) name every axis (docs/notebooks.md).
      {"/samples/sample", T::int64, R::sample, {"sample"}, "", "sample index (dimension scale)", 1024, false, P::always, O::once, false, S},
      {"/tokens/token", T::int64, R::token, {"token"}, "", "index on the flat token axis (dimension scale)", 16384, false, P::always, O::once, false, S},
      {"/metrics/token", T::int64, R::token, {"token"}, "", "index on the flat token axis (dimension scale)", 16384, false, P::always, O::once, false, S},
      {"/metrics/layer", T::int32, R::fixed, {"layer"}, "", "layer number (dimension scale)", 0, false, P::always, O::once, false, S},
      {"/metrics/head", T::int32, R::fixed, {"head"}, "", "head number (dimension scale)", 0, false, P::always, O::once, false, S},
      {"/metrics/token_sample", T::int64, R::token, {"token"}, "", "sample index of the token", 16384, false, P::always, O::once, false, C},
      {"/metrics/token_position", T::int32, R::token, {"token"}, "tokens", "position of the token in its sample", 16384, false,
       P::always, O::once, false, C},
      {"/metrics/token_text", T::text, R::token, {"token"}, "", "display text of the token (UTF-8, cut at 32 bytes; whole in /tokens/text)",
       16384, true, P::always, O::once, false, C, 32},
      {"/summaries/sample", T::int64, R::sample, {"sample"}, "", "sample index (dimension scale)", 1024, false, P::always, O::once, false, S},
      {"/summaries/layer", T::int32, R::fixed, {"layer"}, "", "layer number (dimension scale)", 0, false, P::always, O::once, false, S},
      {"/summaries/head", T::int32, R::fixed, {"head"}, "", "head number (dimension scale)", 0, false, P::always, O::once, false, S},
      {"/summaries/sample_id", T::text, R::sample, {"sample"}, "", "the sample's id (UTF-8, cut at 64 bytes; whole in /samples/text)",
       1024, true, P::always, O::once, false, C, 64},
      {"/summaries/level", T::int32, R::sample, {"sample"}, "", "the sample's difficulty level (its metadata's level; -1 when none)",
       1024, false, P::always, O::once, false, C},
      {"/summaries/prompt_length", T::int32, R::sample, {"sample"}, "tokens", "tokens before generation began", 1024, false,
       P::always, O::once, false, C},
      {"/embeddings/generated", T::uint8, R::span, {"span"}, "",
       "1: a step the capture detected in the generated text (--generate); 0: a labelled span of the prompt", 1024, false,
       P::embeddings, O::once, false, C},
      {"/flow/sample", T::int64, R::sample, {"sample"}, "", "sample index (dimension scale)", 256, false, P::flow, O::once, false, S},
      {"/flow/layer", T::int32, R::fixed, {"layer"}, "", "layer number (dimension scale)", 0, false, P::flow, O::once, false, S},
      {"/flow/head", T::int32, R::fixed, {"head"}, "", "head number (dimension scale)", 0, false, P::flow, O::once, false, S},
      {"/flow/position", T::int32, R::fixed, {"position"}, "", "flow position number, 0..K-1 (dimension scale)", 0, false, P::flow,
       O::once, false, S},
      {"/flow/attending", T::int32, R::fixed, {"attending"}, "", "attending flow position, 0..K-1 (dimension scale)", 0, false,
       P::flow, O::once, false, S},
      {"/flow/attended", T::int32, R::fixed, {"attended"}, "", "attended flow position, 0..K-1 (dimension scale)", 0, false, P::flow,
       O::once, false, S},
      {"/embeddings/span", T::int64, R::span, {"span"}, "", "span index (dimension scale)", 4096, false, P::embeddings, O::once, false, S},
      {"/embeddings/feature", T::int32, R::fixed, {"feature"}, "", "hidden-state feature number (dimension scale)", 0, false,
       P::embeddings, O::once, false, S},
      {"/attention/sample", T::int64, R::sample, {"sample"}, "", "sample index (dimension scale)", 1024, false, P::pinned, O::once, false, S},
      {"/attention/pinned", T::int32, R::fixed, {"pinned"}, "", "pinned head number (dimension scale)", 0, false, P::pinned, O::once, false, S},
      {"/attention/layer_head", T::int32, R::fixed, {"layer_head"}, "", "0: layer, 1: head (dimension scale)", 0, false, P::pinned,
       O::once, false, S},
      // Dimensions without values: the byte axes of the text pools and the attention values.
      {"/samples/byte", T::uint8, R::sample_text_byte, {"byte"}, "", "the byte axis of /samples/text (a dimension without values)",
       65536, false, P::always, O::once, false, D},
      {"/tokens/byte", T::uint8, R::token_text_byte, {"byte"}, "", "the byte axis of /tokens/text (a dimension without values)", 65536,
       false, P::always, O::once, false, D},
      {"/embeddings/byte", T::uint8, R::label_text_byte, {"byte"}, "", "the byte axis of /embeddings/label_text (a dimension without values)",
       16384, false, P::embeddings, O::once, false, D},
      {"/attention/value", T::uint8, R::attention_value, {"value"}, "", "the value axis of the pinned heads' attention (a dimension without values)",
       65536, false, P::pinned, O::once, false, D},
  };
  return table;
}

const std::vector<OffsetColumn>& offset_columns() {
  using R = RowAxis;
  static const std::vector<OffsetColumn> columns = {
      {kTokenStart, R::token},           {kIdStart, R::sample_text_byte},         {kMetadataStart, R::sample_text_byte},
      {kEmbeddingStart, R::span},        {kTokenTextStart, R::token_text_byte},   {kAttentionOffset, R::attention_value},
      {kEmbeddingSample, R::sample},     {kEmbeddingLabelStart, R::label_text_byte},
      // The growing dimension scales count their own axis; a token's sample counts samples.
      {"/samples/sample", R::sample},    {"/tokens/token", R::token},             {"/metrics/token", R::token},
      {"/summaries/sample", R::sample},  {"/flow/sample", R::sample},             {"/embeddings/span", R::span},
      {"/metrics/token_sample", R::sample}, {"/attention/sample", R::sample},
  };
  return columns;
}

std::size_t dimension_size(const char* dimension, const StoreLayout& layout) {
  const std::string name = dimension;
  if (name == "layer") return static_cast<std::size_t>(layout.layer_count);
  if (name == "head") return static_cast<std::size_t>(layout.head_count);
  if (name == "position" || name == "attending" || name == "attended") return static_cast<std::size_t>(layout.flow_size);
  if (name == "feature") return static_cast<std::size_t>(layout.embedding_dim);
  if (name == "layer_head") return 2;
  if (name == "pinned") return layout.pinned_heads.size();
  throw StoreError("schema: dimension '" + name + "' has no size in the layout");
}

std::vector<unsigned long long> chunk_shape(const DatasetSpec& spec, const StoreLayout& layout) {
  std::vector<unsigned long long> inner;
  unsigned long long row_values = 1;
  for (std::size_t d = 1; d < spec.dims.size(); ++d) {
    inner.push_back(dimension_size(spec.dims[d], layout));
    row_values *= inner.back();
  }
  const unsigned long long rows = spec.chunk_rows == 0  ? static_cast<unsigned long long>(std::max(1, layout.chunk_tokens))
                                  : spec.chunk_rows < 0 ? std::max<unsigned long long>(1, 65536 / std::max<unsigned long long>(row_values, 1))
                                                        : static_cast<unsigned long long>(spec.chunk_rows);
  const std::size_t value_bytes = spec.type == ElementType::metric && layout.metric_type == ValueType::float16 ? 2 : 4;
  if (spec.rows == RowAxis::fixed) return {static_cast<unsigned long long>(dimension_size(spec.dims[0], layout))};
  std::vector<unsigned long long> chunk{rows};
  for (std::size_t d = 1; d < spec.dims.size(); ++d) {
    const std::string name = spec.dims[d];
    unsigned long long extent = std::max<unsigned long long>(inner[d - 1], 1);
    if (spec.chunk_by_layer && name == "layer") extent = 1;
    if (spec.chunk_by_layer && name == "head") {  // as many heads as fit kMaxChunkBytes, in equal groups
      const unsigned long long fit = std::max<unsigned long long>(1, kMaxChunkBytes / (rows * value_bytes));
      const unsigned long long groups = (extent + fit - 1) / fit;
      extent = (extent + groups - 1) / groups;
    }
    chunk.push_back(extent);
  }
  return chunk;
}

int chunk_tokens_for_samples(std::int64_t longest_sample_tokens) {
  const int standard = StoreLayout{}.chunk_tokens;
  if (longest_sample_tokens <= 2048) return standard;
  int tokens = standard;
  while (tokens < longest_sample_tokens && tokens < 65536) tokens *= 2;
  return tokens;
}

std::string group_of(const std::string& path) { return path.substr(0, path.rfind('/')); }

bool is_present(const DatasetSpec& spec, const StoreLayout& layout) {
  switch (spec.presence) {
    case Presence::always: return true;
    case Presence::flow: return layout.flow_size > 0;
    case Presence::pinned: return !layout.pinned_heads.empty();
    case Presence::embeddings: return layout.embedding_dim > 0;
  }
  return false;
}

std::vector<std::string> dataset_paths(const DatasetSpec& spec, const StoreLayout& layout) {
  if (!is_present(spec, layout)) return {};
  std::vector<std::string> paths;
  switch (spec.repeat) {
    case Repeat::once: paths.push_back(spec.path); break;
    case Repeat::per_metric:
      for (const auto& metric : layout.metrics) paths.push_back(std::string(spec.path) + "/" + metric.name);
      break;
    case Repeat::per_pinned_head:
      for (const auto& head : layout.pinned_heads) paths.push_back(std::string(spec.path) + "/" + head_name(head));
      break;
  }
  return paths;
}

const DatasetSpec& dataset_spec(const char* path) {
  for (const auto& spec : capture_datasets())
    if (spec.repeat == Repeat::once && std::strcmp(spec.path, path) == 0) return spec;
  throw StoreError(std::string("schema: no dataset '") + path + "' in the table");
}

}  // namespace headscope::store::schema
