// Synthetic store writer (see demo_store.h). Each head gets a kind from its (layer, head); a kind fixes
// its attention row shape, and the per-token metrics follow from that shape plus smooth per-token drift
// and noise, so grids, heatmaps and traces show patterns a reader can recognise.
#include "app/demo_store/demo_store.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <random>
#include <thread>

#include "core/store/schema_table.h"
#include "core/store/writer.h"

namespace headscope::app {

namespace {

enum class HeadKind { previous_token, sink, broad, local_window };

HeadKind head_kind(int layer, int head) {
  const unsigned h = static_cast<unsigned>(layer * 131 + head * 29 + (layer * head) % 7);
  return static_cast<HeadKind>(h % 4);
}

const char* kWords[] = {"The", " train", " leaves", " at", " 3", ":", "15", " and", " travels", " 120",
                        " km", ".", " How", " far", " does", " it", " go", " in", " 2", " hours", "?",
                        "\n", " Step", " 1", " speed", " =", " distance", " /", " time", " so", " the",
                        " answer", " is", " 240", " Let", " x", " be", " total", " cost", ",", " then"};

// One attention row of a pinned head: [keys] for query q (causal: keys 0..q).
void attention_row(HeadKind kind, int q, int prompt_length, std::mt19937& rng, float* row, int tokens) {
  std::fill(row, row + tokens, 0.0f);
  std::uniform_real_distribution<float> jitter(0.0f, 0.05f);
  double total = 0;
  for (int k = 0; k <= q; ++k) {
    double w = jitter(rng);
    switch (kind) {
      case HeadKind::previous_token: w += (k == std::max(q - 1, 0)) ? 8.0 : 0.02; break;
      case HeadKind::sink: w += (k == 0) ? 6.0 : 0.05 + (k < prompt_length ? 0.05 : 0); break;
      case HeadKind::broad: w += 0.5 + 0.5 * std::sin(k * 0.05); break;
      case HeadKind::local_window: w += std::exp(-(q - k) / 6.0); break;
    }
    row[k] = static_cast<float>(w);
    total += w;
  }
  for (int k = 0; k <= q; ++k) row[k] = static_cast<float>(row[k] / total);
}

}  // namespace

void write_demo_store(const std::string& path, const DemoStoreOptions& options, const std::function<void(int)>& progress) {
  std::vector<int> lengths = options.sample_tokens;
  if (lengths.empty())
    for (int s = 0; s < options.sample_count; ++s) lengths.push_back(std::max(8, options.token_count - s * 37));
  const int longest = lengths.empty() ? 0 : *std::max_element(lengths.begin(), lengths.end());
  store::StoreLayout layout;
  layout.chunk_tokens = options.chunk_tokens > 0 ? options.chunk_tokens : store::schema::chunk_tokens_for_samples(longest);
  layout.kind = store::RunKind::capture;
  layout.layer_count = options.layer_count;
  layout.head_count = options.head_count;
  layout.metrics = store::standard_metrics();
  for (const auto& head : options.pinned)
    if (longest <= options.max_pinned_tokens && head.layer < options.layer_count && head.head < options.head_count) layout.pinned_heads.push_back(head);
  store::Provenance provenance;
  provenance.command_line = "headscope make-demo-store " + path;
  provenance.model_name = "synthetic-" + std::to_string(options.layer_count) + "x" + std::to_string(options.head_count);
  provenance.model_path = options.model_path.empty() ? "(synthetic: no model)" : options.model_path;
  provenance.model_config_json = "{\"n_layer\": " + std::to_string(options.layer_count) +
                                 ", \"n_head\": " + std::to_string(options.head_count) + "}";
  provenance.settings_json = "{\"source\": \"synthetic demo store\", \"seed\": " + std::to_string(options.seed) + "}";
  auto writer = store::StoreWriter::create(path, layout, provenance, true);

  const int L = options.layer_count, H = options.head_count, metric_count = static_cast<int>(layout.metrics.size());
  std::mt19937 rng(options.seed);
  std::normal_distribution<float> noise(0.0f, 1.0f);
  for (int s = 0; s < static_cast<int>(lengths.size()); ++s) {
    const int T = std::max(1, lengths[static_cast<std::size_t>(s)]);
    const int prompt_length = T * 3 / 5;
    store::SampleRecord record;
    record.id = "demo-" + std::to_string(s);
    record.metadata_json = "{\"level\": " + std::to_string(1 + s % 4) + "}";
    record.prompt_length = prompt_length;
    for (int t = 0; t < T; ++t) {
      const int word = static_cast<int>((t * 7 + s * 3 + (t / 11)) % (sizeof kWords / sizeof kWords[0]));
      record.tokens.push_back(word);
      record.token_text.emplace_back(kWords[word]);
    }
    record.metrics.assign(metric_count, std::vector<float>(std::size_t(T) * L * H));
    for (int t = 0; t < T; ++t) {
      const double position = std::log1p(t);
      for (int l = 0; l < L; ++l)
        for (int h = 0; h < H; ++h) {
          const HeadKind kind = head_kind(l, h);
          const double depth = static_cast<double>(l) / std::max(L - 1, 1);
          double focus = 0;  // 0 = broad, 1 = one key
          switch (kind) {
            case HeadKind::previous_token: focus = 0.9; break;
            case HeadKind::sink: focus = 0.75; break;
            case HeadKind::broad: focus = 0.1 + 0.1 * depth; break;
            case HeadKind::local_window: focus = 0.45; break;
          }
          focus = std::clamp(focus + 0.08 * std::sin(t * 0.07 + h) + 0.03 * noise(rng), 0.0, 1.0);
          const double entropy = (1 - focus) * position + 0.02 * std::abs(noise(rng));
          const double max_attention = std::clamp(focus + (1 - focus) / (t + 1.0), 0.0, 1.0);
          const double k90 = std::max(1.0, std::round((1 - focus) * 0.9 * (t + 1)));
          const std::size_t at = (std::size_t(t) * L + l) * H + h;
          const double values[] = {
              2 + 3 * depth + 0.5 * std::sin(t * 0.013 * (h + 1)) + 0.1 * noise(rng),          // query_norm
              entropy,                                                                          // entropy
              max_attention,                                                                    // max_attention
              k90,                                                                              // k90
              t < prompt_length ? NAN : std::clamp(0.9 - 0.6 * depth + 0.3 * std::sin(t * 0.2 + l) + 0.05 * noise(rng), 0.0, 1.0),  // iaf
              t == 0 ? NAN : std::abs(0.05 * (1 - focus) + 0.02 * noise(rng) + ((t % 41 == 0) ? 0.3 : 0)),  // jsd
              t == 0 ? NAN : std::abs(0.03 + 0.02 * std::sin(t * 0.05) + 0.01 * noise(rng)),   // windowed_jsd
              std::max(1.0, std::round((1 - focus) * 12 + 1)),                                   // connectivity
              kind == HeadKind::sink && t == 0 ? 0.9 * (T - 1) : std::abs(1 + 0.3 * noise(rng)) * (kind == HeadKind::previous_token ? 1.0 : 0.5),  // received
          };
          for (int m = 0; m < metric_count && m < 9; ++m) record.metrics[m][at] = static_cast<float>(values[m]);
        }
    }
    for (const auto& head : layout.pinned_heads) {
      std::vector<float> attention(std::size_t(T) * T);
      for (int q = 0; q < T; ++q) attention_row(head_kind(head.layer, head.head), q, prompt_length, rng, &attention[std::size_t(q) * T], T);
      record.pinned_attention.push_back(std::move(attention));
    }
    writer->append(record);
    if (progress) progress(s);
    if (options.delay_between_samples_ms > 0 && s + 1 < static_cast<int>(lengths.size()))
      std::this_thread::sleep_for(std::chrono::milliseconds(options.delay_between_samples_ms));
  }
  writer->close();
}

}  // namespace headscope::app
