// Names of the store's attributes, groups and datasets (schema version 1), shared by every writer, reader
// and inspect so each is spelled once. The capture store's datasets are declared, with their types, axes,
// units and descriptions, in schema_table.h; docs/store-format.md describes each for readers without HeadScope.
#pragma once

namespace headscope::store::schema {

// Root attributes.
inline constexpr const char* kFormat = "format";
inline constexpr const char* kSchemaVersion = "schema_version";
inline constexpr const char* kKind = "kind";
inline constexpr const char* kCreated = "created";
inline constexpr const char* kToolVersion = "tool_version";
inline constexpr const char* kCommandLine = "command_line";
inline constexpr const char* kComplete = "complete";

// Root attributes of a capture or import store: its fixed layout (StoreLayout).
inline constexpr const char* kLayerCount = "layer_count";
inline constexpr const char* kHeadCount = "head_count";
inline constexpr const char* kFlowSize = "flow_size";
inline constexpr const char* kEmbeddingDim = "embedding_dim";
inline constexpr const char* kMetricType = "metric_type";
inline constexpr const char* kChunkTokens = "chunk_tokens";
inline constexpr const char* kDeflateLevel = "deflate_level";
inline constexpr const char* kMetricMantissaBits = "metric_mantissa_bits";
inline constexpr const char* kMetricNames = "metrics";

// Root attributes of a master over shard files (master.h): how many shards, and a JSON list of them
// ({"file", "index", "samples" planned, "mapped"}); the key of a shard's place in /run/settings_json.
inline constexpr const char* kShardCount = "shard_count";
inline constexpr const char* kShards = "shards";
inline constexpr const char* kShardSetting = "shard";

// Attributes every dataset carries (h5.h writes them with the H5DS dimension labels).
inline constexpr const char* kUnits = "units";
inline constexpr const char* kDescription = "description";
inline constexpr const char* kDimensions = "dimensions";
inline constexpr const char* kPrecision = "precision";  // on a metric stored with rounded mantissas

// /model and /run: provenance (Provenance in layout.h).
inline constexpr const char* kModelName = "name";               // attribute of /model
inline constexpr const char* kModelPath = "path";               // attribute of /model
inline constexpr const char* kModelConfig = "config_json";      // dataset in /model
inline constexpr const char* kModelTokenizer = "tokenizer";     // dataset in /model
inline constexpr const char* kTokenizerFormat = "format";       // attribute of /model/tokenizer
inline constexpr const char* kRunSettings = "settings_json";    // dataset in /run

// Groups.
inline constexpr const char* kModel = "/model";
inline constexpr const char* kRun = "/run";
inline constexpr const char* kSamples = "/samples";
inline constexpr const char* kTokens = "/tokens";
inline constexpr const char* kMetrics = "/metrics";
inline constexpr const char* kSummaries = "/summaries";
inline constexpr const char* kFlow = "/flow";
inline constexpr const char* kAttention = "/attention";
inline constexpr const char* kEmbeddings = "/embeddings";
inline constexpr const char* kAnalysis = "/analysis";  // `headscope analyze` (analysis_group.h)
inline constexpr const char* kAnalysisHeartbeats = "/analysis/heartbeats";
inline constexpr const char* kAnalysisFlow = "/analysis/flow";
inline constexpr const char* kAnalysisBoundaries = "/analysis/boundaries";
inline constexpr const char* kAnalysisPhase0 = "/analysis/phase0";

// /samples — one row per sample; token_start is written last and its length is the sample count.
inline constexpr const char* kTokenStart = "/samples/token_start";
inline constexpr const char* kTokenCount = "/samples/token_count";
inline constexpr const char* kPromptLength = "/samples/prompt_length";
inline constexpr const char* kIdStart = "/samples/id_start";
inline constexpr const char* kIdLength = "/samples/id_length";
inline constexpr const char* kMetadataStart = "/samples/metadata_start";
inline constexpr const char* kMetadataLength = "/samples/metadata_length";
inline constexpr const char* kEmbeddingStart = "/samples/embedding_start";
inline constexpr const char* kEmbeddingCount = "/samples/embedding_count";
inline constexpr const char* kSampleText = "/samples/text";

// /tokens — one row per token of every sample, flat.
inline constexpr const char* kTokenIds = "/tokens/ids";
inline constexpr const char* kTokenTextStart = "/tokens/text_start";
inline constexpr const char* kTokenTextLength = "/tokens/text_length";
inline constexpr const char* kTokenText = "/tokens/text";

inline constexpr const char* kFlowPositions = "/flow/positions";
inline constexpr const char* kFlowMatrices = "/flow/matrices";

inline constexpr const char* kAttentionHeads = "/attention/heads";
inline constexpr const char* kAttentionOffset = "/attention/offset";

inline constexpr const char* kEmbeddingVectors = "/embeddings/vectors";
inline constexpr const char* kEmbeddingSample = "/embeddings/sample";
inline constexpr const char* kEmbeddingSpanStart = "/embeddings/span_start";
inline constexpr const char* kEmbeddingSpanEnd = "/embeddings/span_end";
inline constexpr const char* kEmbeddingLabelStart = "/embeddings/label_start";
inline constexpr const char* kEmbeddingLabelLength = "/embeddings/label_length";
inline constexpr const char* kEmbeddingLabelText = "/embeddings/label_text";

// A writer holds an exclusive lock on "<file>.writer-lock" while it runs; inspect uses it to tell a
// live writer from one that was killed.
inline constexpr const char* kWriterLockSuffix = ".writer-lock";

}  // namespace headscope::store::schema
