// Per-token metrics of one attention head, computed from its attention probabilities exactly as
// ../shared/METRICS.md defines them: entropy (and normalised, exp(H), 1/sum p^2 variants), max attention,
// k90, connectivity, input-attention fraction (IAF), JSD between consecutive rows, windowed JSD and
// received attention. One fused pass per head for the capture engine (caller-owned outputs, no copies,
// no per-row allocation) and plain single-row functions for tests, importers and views.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace headscope::analysis {

// Shapes are in PyTorch order: [query, key] is one head's attention matrix, query-major.
// "V" is the set of unmasked keys of a row. It always comes from a mask or a key range, never from a
// value test (a finite -1e4 mask leaves tiny positive probabilities). Rows are renormalised over V:
// p~ = p / sum_V p.

inline constexpr double kK90DefaultMass = 0.9;       // tau
inline constexpr double kK90Tolerance = 1e-9;        // k90 stops once the cumulative mass >= tau - 1e-9
inline constexpr double kConnectivityDefaultThreshold = 0.1;  // theta
inline constexpr double kConnectivityTolerance = 1e-9;  // a key counts when p~ >= theta - 1e-9
inline constexpr double kLn2 = 0.69314718055994530942;

// ---- Single-row functions. `key_mask` (nullptr = every key) marks V with nonzero bytes. ----------

// -sum_V p~ ln p~ in nats. Empty V (or zero mass on V) -> NaN; |V| = 1 -> +0.0; never -0.0.
double row_entropy(const float* probs, int key_count, const std::uint8_t* key_mask = nullptr);
// H / ln|V|, in [0, 1]. NaN when |V| <= 1 (no choice to make) or V is empty.
double row_entropy_normalized(const float* probs, int key_count, const std::uint8_t* key_mask = nullptr);
// exp(H): the "perplexity" effective number of keys (1 for one-hot, |V| for uniform).
double row_exp_entropy(const float* probs, int key_count, const std::uint8_t* key_mask = nullptr);
// 1 / sum_V p~^2: the participation-ratio effective number of keys.
double row_participation_count(const float* probs, int key_count, const std::uint8_t* key_mask = nullptr);
// max_V p~. NaN for empty V.
double row_max_attention(const float* probs, int key_count, const std::uint8_t* key_mask = nullptr);
// Smallest k with (sum of the k largest p~) >= tau - 1e-9. Exact, without a full sort (bucket selection).
// 0 for empty V.
int row_k90(const float* probs, int key_count, const std::uint8_t* key_mask = nullptr,
            double tau = kK90DefaultMass);
// The sort-based reference for row_k90: sort p~ descending, cumulative sum in double. For tests and
// benchmarks; the same result as row_k90 (see attention_metrics.cpp for the one caveat on summation order).
int row_k90_by_sort(const float* probs, int key_count, const std::uint8_t* key_mask = nullptr,
                    double tau = kK90DefaultMass);
// Number of keys in V with p~ >= theta (minus 1e-9, so that uniform rows count every key).
int row_connectivity(const float* probs, int key_count, const std::uint8_t* key_mask = nullptr,
                     double theta = kConnectivityDefaultThreshold);
// Input-attention fraction: sum over prompt keys [0, prompt_length) of V / sum over V. NaN if V has no mass.
// (NaN for prompt positions themselves is the caller's rule; the fused function applies it.)
double row_input_attention_fraction(const float* probs, int key_count, int prompt_length,
                                    const std::uint8_t* key_mask = nullptr);

// JSD = 1/2 KL(P||M) + 1/2 KL(Q||M), M = (P+Q)/2, in nats, in [0, ln 2]. Both rows are renormalised
// (they need not sum to 1) and aligned by absolute key index: the shorter one is zero-padded. Rows with no
// mass -> NaN. Computed in double; the fused function uses the same formula in float with a fast log.
double jsd(const float* p, int p_count, const float* q, int q_count);
double jsd(const std::vector<double>& p, const std::vector<double>& q);
inline double nats_to_bits(double nats) { return nats / kLn2; }
inline double jsd_bits(const std::vector<double>& p, const std::vector<double>& q) { return nats_to_bits(jsd(p, q)); }

// ---- One head, all tokens, fused -----------------------------------------------------------------

// One head's attention probabilities, borrowed. Query row q sits at absolute position
// query_offset + q; key j is absolute position j. Row q's V is [key_begin, key_end):
//   key_end   = query_offset + q + 1 (causal), or row_key_end[q] when given;
//   key_begin = 0, or pos + 1 - sliding_window when sliding_window > 0 (Mistral: `window` keys incl. self),
//               or row_key_begin[q] when given (e.g. left padding). Both are clamped to [0, key_count].
struct HeadAttention {
  const float* probs = nullptr;     // [query, key], rows `row_stride` floats apart
  int query_count = 0;
  int key_count = 0;
  std::ptrdiff_t row_stride = 0;    // 0 = key_count
  int query_offset = 0;             // > 0 when the queries are the last rows of a KV cache
  int sliding_window = 0;           // 0 = none
  const int* row_key_begin = nullptr;  // optional [query]
  const int* row_key_end = nullptr;    // optional [query]
};

struct TokenMetricOptions {
  double k90_mass = kK90DefaultMass;                          // tau
  double connectivity_threshold = kConnectivityDefaultThreshold;  // theta
  // Keys at absolute positions [0, prompt_length) are the prompt. IAF is written for query positions
  // >= prompt_length and NaN for prompt positions; prompt_length < 0 leaves every IAF NaN.
  int prompt_length = -1;
  int jsd_window = 0;  // w for windowed JSD; 0 = not computed (NaN)
  // The earlier pipeline left entropy NaN at the first 2 query positions ("insufficient context"). Set this
  // to 2 to reproduce it; it applies to the entropy outputs only (entropy, normalised, exp).
  int insufficient_context_positions = 0;
};

// Caller-owned outputs; nullptr = not computed. Per-query arrays are written at [q * stride], so they can
// point into a [token, layer, head] array (stride = layer_count * head_count). k90 and connectivity are
// written as floats (exact integers) to share the store's metric arrays.
struct TokenMetricOutputs {
  std::ptrdiff_t stride = 1;
  float* entropy = nullptr;             // [query] nats
  float* entropy_normalized = nullptr;  // [query] H / ln|V|
  float* exp_entropy = nullptr;         // [query] exp(H)
  float* participation_count = nullptr; // [query] 1 / sum p~^2
  float* max_attention = nullptr;       // [query]
  float* k90 = nullptr;                 // [query]
  float* connectivity = nullptr;        // [query]
  float* input_attention_fraction = nullptr;  // [query]
  float* jsd_previous = nullptr;        // [query] JSD(row q-1, row q) in nats; NaN at q = 0
  float* windowed_jsd = nullptr;        // [query] defined for w <= q <= query_count - w, NaN elsewhere
  float* received_attention = nullptr;  // [key] (contiguous): sum of p~ over later queries (pos > key)
};

struct TokenMetricReport {
  int empty_rows = 0;  // rows whose V was empty or held no mass: every per-query output of that row is NaN
};

// One head whose rows are all in `head` (a single block of TokenMetricStream).
TokenMetricReport compute_token_metrics(const HeadAttention& head, const TokenMetricOptions& options,
                                        const TokenMetricOutputs& outputs);

// One head's rows in blocks of consecutive queries, so that a long sequence never holds its [query, key]
// matrix whole: each block's per-row metrics are written at once; JSD to the previous row and windowed
// JSD cross block boundaries through the last 2w-1 rows the stream keeps (O(w * key) memory); received
// attention is summed over the blocks and written by finish(). The result does not depend on how the
// rows are split: compute_token_metrics is this stream with a single block.
// Per-query outputs are indexed from the first block's first query (q * stride), as compute_token_metrics
// indexes them; a windowed JSD value is written once its future window has arrived, so positions up to
// w-1 rows before a block's end are written by the next block.
class TokenMetricStream {
 public:
  TokenMetricStream(const TokenMetricOptions& options, const TokenMetricOutputs& outputs);
  // The next rows: block.query_offset must continue the previous block (any value for the first).
  TokenMetricReport add(const HeadAttention& block);
  // Writes received attention over every key seen (outputs.received_attention, [key], contiguous).
  void finish();

 private:
  struct KeptRow {
    std::vector<float> values;  // [end] by absolute key; only [begin, end) is meaningful
    int begin = 0, end = 0;
    double scale = 0;           // 1 / mass on V; 0 for an empty row
  };
  TokenMetricOptions options_;
  TokenMetricOutputs outputs_;
  int first_position_ = -1;     // absolute position of the first row seen
  int next_position_ = 0;       // the position the next block must start at
  int next_windowed_ = 0;       // the first position whose windowed JSD is still to be written
  std::vector<KeptRow> kept_;   // the last rows seen, oldest first (at most max(1, 2w - 1))
  std::vector<double> received_;  // [key]
  std::vector<float> k90_scratch_;
  std::vector<double> past_, future_;  // windowed JSD sums, [key]
};

// Windowed JSD of a sequence of rows (row s over keys [0, rows[s].size()), each renormalised to sum 1 and
// zero-padded by absolute key index): A_past = mean of rows t-w..t-1, A_fut = mean of rows t..t+w-1, each padded to
// t+w keys; wJSD(t) = JSD(A_past, A_fut) for w <= t <= T-w, NaN elsewhere. Returns [T].
std::vector<double> windowed_jsd(const std::vector<std::vector<double>>& rows, int window);

}  // namespace headscope::analysis
