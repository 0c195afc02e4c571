// StoreReader: lazy, read-only access to a HeadScope store, live or finished. Opening checks that the
// file is HDF5, is a HeadScope store, and has a schema version this build reads; every failure is a
// StoreError naming the file. refresh() picks up samples a live writer appended since the last call.
// Reads are slices: one head's trace of one sample, one layer of one sample, the summaries.
#pragma once
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/store/layout.h"

namespace headscope::store {

class StoreReader {
 public:
  static std::unique_ptr<StoreReader> open(const std::string& path);
  ~StoreReader();
  StoreReader(const StoreReader&) = delete;
  StoreReader& operator=(const StoreReader&) = delete;

  const std::string& path() const;
  const StoreLayout& layout() const;
  const Provenance& provenance() const;
  int schema_version() const;
  std::string created() const;       // ISO-8601 UTC
  std::string tool_version() const;
  bool complete() const;             // the writer closed the file cleanly
  bool live() const;                 // opened while a writer still holds it (SWMR); see refresh()
  // Whether a refresh only appends samples. False for a master of a sharded run (master.h): its samples are
  // in shard order, so a rebuilt master that maps new samples of an earlier shard moves the later ones; a
  // live view re-reads its sample list after a refresh that found new samples.
  bool appends_only() const;

  // Re-reads the sample count of a growing file; returns true when new samples appeared.
  bool refresh();
  std::int64_t sample_count() const;
  std::int64_t token_count() const;

  SampleInfo sample(std::int64_t index) const;
  std::vector<std::int32_t> tokens(std::int64_t sample) const;       // [tokens]
  std::vector<std::string> token_text(std::int64_t sample) const;    // [tokens] ("" where none stored)

  int metric_index(const std::string& name) const;                   // -1 if not stored
  // One head's metric over the sample's tokens. [tokens]
  std::vector<float> head_trace(const std::string& metric, std::int64_t sample, HeadRef head) const;
  // All heads of one layer over the sample's tokens. [tokens, head]
  std::vector<float> layer_slice(const std::string& metric, std::int64_t sample, int layer) const;
  // Mean of the metric over each sample's tokens (NaN skipped). [samples, layer, head]
  std::vector<float> summary(const std::string& metric) const;

  std::vector<std::int32_t> flow_positions(std::int64_t sample) const;  // [K]
  std::vector<float> flow(std::int64_t sample) const;                   // [layer, head, K, K]
  // A pinned head's full attention, or nullopt if the head was not pinned. [query, key]
  std::optional<std::vector<float>> pinned_attention(std::int64_t sample, HeadRef head) const;

  std::int64_t embedding_count() const;
  SpanEmbeddings embeddings() const;               // all spans of all samples
  std::vector<std::int64_t> embedding_sample() const;  // [spans] sample index of each span

  // Bytes of the file on disk and of each stored metric (compressed storage size).
  std::uint64_t file_bytes() const;
  std::uint64_t metric_storage_bytes(const std::string& metric) const;

  struct Impl;  // opaque; public only so the .cpp's helpers can name it

 private:
  explicit StoreReader(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace headscope::store
