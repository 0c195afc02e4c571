// The capture store's datasets, declared once: path, element type, what the growing first dimension
// counts, dimension names (C order), units, description, chunking and when the dataset exists. The
// writer creates, reopens, trims and appends by looping over this table, the reader opens by it, and
// tests/core/test_store_schema.cpp checks that docs/store-format.md documents every entry. The dimension
// names are also the names HDF5 dimension scales will carry.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/store/layout.h"

namespace headscope::store::schema {

// metric: the layout's metric_type; text: fixed-width UTF-8 strings (DatasetSpec::text_bytes, NUL-padded)
enum class ElementType { int32, int64, uint8, float32, metric, text };

// What the first dimension of a dataset counts. Resume cuts each dataset back to the committed count of
// its axis; `fixed` datasets are written once at creation and never grow.
enum class RowAxis { sample, token, span, sample_text_byte, token_text_byte, label_text_byte, attention_value, fixed };
inline constexpr int kRowAxisCount = 8;

enum class Presence { always, flow, pinned, embeddings };
enum class Repeat { once, per_metric, per_pinned_head };  // per_*: one dataset per metric / pinned head
// What a dataset is to netCDF-aware readers (xarray with h5netcdf): data, an HDF5 dimension scale of its
// group (named like the dimension it indexes: row numbers of a growing axis, 0..n-1 of a fixed one), or an
// auxiliary coordinate along its group's first dimension (named in the data's "coordinates" attribute).
// A `dimension` is a scale without values (a netCDF "dimension but not a variable"): it only grows, its chunks
// are never written and take no space; it names the byte axes of the text pools and the attention values.
// Scales and coordinates came after schema version 1's first files, so readers skip them when absent.
enum class Role { data, scale, coordinate, dimension };

struct DatasetSpec {
  const char* path;                 // per_metric / per_pinned_head: the group; the name is the metric's / "L3H5"
  ElementType type;
  RowAxis rows;
  std::vector<const char*> dims;    // dimension names; sizes after the first from the layout (dimension_size)
  const char* units;                // per_metric: "" = the metric's units
  const char* description;          // per_metric: followed by the metric's description
  int chunk_rows;                   // rows per chunk; 0 = layout.chunk_tokens; -1 = about 64 Ki values
  bool compressed;                  // shuffle + deflate at the layout's level. Columns and text pools never:
                                    // an uncompressed chunk is rewritten in place (see writer.cpp)
  Presence presence = Presence::always;
  Repeat repeat = Repeat::once;
  bool chunk_by_layer = false;      // chunk extent 1 along "layer", and along "head" as many heads as keep
                                    // the chunk within kMaxChunkBytes (a metric chunk is [chunk_tokens, 1, h])
  Role role = Role::data;
  int text_bytes = 0;               // ElementType::text: the width; longer texts are cut at a UTF-8 boundary
};

// A metric chunk's bytes stay under this: with long-sample chunking (chunk_tokens_for_samples) a chunk
// then holds a subset of a layer's heads, [chunk_tokens, 1, h] (one head at 32k float16 tokens), so a
// trace read decompresses its own head only and the reader's default 1 MiB chunk cache holds it.
inline constexpr std::size_t kMaxChunkBytes = std::size_t(64) << 10;

// Every dataset of a capture store, in creation order. /attention/heads is the one `fixed` entry.
const std::vector<DatasetSpec>& capture_datasets();

// The columns whose values are offsets on another row axis (token_start on the token axis, id_start on the
// sample text bytes, ...). A master over shard files (master.h) rebases each by the rows of that axis in
// the shards before it; every other dataset it maps unchanged.
struct OffsetColumn {
  const char* path;
  RowAxis indexes;  // the axis its values count along
};
const std::vector<OffsetColumn>& offset_columns();

// The size of a named dimension other than the first: layer, head, position/attending/attended (K),
// feature (embedding width), layer_head (2). Throws StoreError for a name it does not know.
std::size_t dimension_size(const char* dimension, const StoreLayout& layout);
// The chunk shape (rank = dims.size()) of an entry in this layout: the one place chunking is decided.
std::vector<unsigned long long> chunk_shape(const DatasetSpec& spec, const StoreLayout& layout);
// The layout's chunk_tokens for a run whose longest sample has this many tokens: the default (256) for
// short samples; past 2,048 tokens the next power of two at or above it (at most 65,536), so one head's
// trace over a sample is one or two chunk reads (the sample may straddle a chunk boundary).
int chunk_tokens_for_samples(std::int64_t longest_sample_tokens);
bool is_present(const DatasetSpec& spec, const StoreLayout& layout);
// The group a dataset path lives in ("/metrics" for "/metrics/entropy").
std::string group_of(const std::string& path);
// The concrete dataset paths of an entry in this layout (one, one per metric or one per pinned head).
std::vector<std::string> dataset_paths(const DatasetSpec& spec, const StoreLayout& layout);
// The entry with this exact path (only `once` entries); throws StoreError when there is none.
const DatasetSpec& dataset_spec(const char* path);

}  // namespace headscope::store::schema
