// The model-level trace (core/analysis/model_trace.h): the mean over layers and heads of each token's jsd
// (NaN skipped), and its comparison between a per-head store and a 1 x 1 model-level store holding that
// mean over the last tokens only (as an imported trace of the generated steps would), matched by id.
#include <gtest/gtest.h>

#include <cmath>

#include "core/analysis/model_trace.h"
#include "core/store/reader.h"
#include "core/store/writer.h"
#include "test_support.h"

using namespace headscope;

namespace {
constexpr int kJsd = 5;  // index of jsd in standard_metrics()

// Sample `id` with `tokens` tokens; jsd[t, layer, head] = (t + 1) * (1 + layer * H + head) / 10, NaN at t = 0
// and for head (1, 1) at t = 1.
store::SampleRecord per_head_sample(const std::string& id, int tokens) {
  const int L = 2, H = 2;
  store::SampleRecord s;
  s.id = id;
  s.prompt_length = tokens;
  s.tokens.assign(static_cast<std::size_t>(tokens), 1);
  s.metrics.assign(store::standard_metrics().size(), std::vector<float>(static_cast<std::size_t>(tokens) * L * H, 0.0f));
  for (int t = 0; t < tokens; ++t)
    for (int j = 0; j < L * H; ++j)
      s.metrics[kJsd][static_cast<std::size_t>(t * L * H + j)] = t == 0 || (t == 1 && j == 3) ? NAN : 0.1f * (t + 1) * (1 + j);
  return s;
}
}  // namespace

TEST(ModelTrace, MeanOverLayersAndHeadsAndTheComparisonWithAModelLevelStore) {
  const auto dir = test::temp_dir();
  const auto native = (dir / "native.h5").string(), model_level = (dir / "model.h5").string();
  store::StoreLayout layout;
  layout.layer_count = 2;
  layout.head_count = 2;
  layout.metrics = store::standard_metrics();
  layout.metric_type = store::ValueType::float32;
  {
    auto writer = store::StoreWriter::create(native, layout, {});
    writer->append(per_head_sample("a", 6));
    writer->append(per_head_sample("b", 5));
  }
  auto reader = store::StoreReader::open(native);
  const auto trace = analysis::model_level_trace(*reader, 0);
  ASSERT_EQ(trace.size(), 6u);
  EXPECT_TRUE(std::isnan(trace[0]));
  EXPECT_NEAR(trace[1], 0.2 * (1 + 2 + 3) / 3, 1e-6);  // head (1, 1) is NaN there: skipped
  EXPECT_NEAR(trace[4], 0.5 * (1 + 2 + 3 + 4) / 4, 1e-6);

  // The model-level store: samples b and a (other order), only the last 3 tokens, 1 x 1.
  store::StoreLayout one = layout;
  one.kind = store::RunKind::import;
  one.layer_count = one.head_count = 1;
  one.metrics = {store::standard_metric("jsd")};
  {
    auto writer = store::StoreWriter::create(model_level, one, {});
    for (const char* id : {"b", "a"}) {
      const auto full = analysis::model_level_trace(*reader, id == std::string("a") ? 0 : 1);
      store::SampleRecord s;
      s.id = id;
      s.tokens.assign(3, -1);
      s.prompt_length = 3;
      s.metrics.push_back(std::vector<float>(full.end() - 3, full.end()));
      writer->append(s);
    }
  }
  auto other = store::StoreReader::open(model_level);
  const auto comparison = analysis::compare_model_traces(*reader, *other);
  EXPECT_TRUE(comparison.matched_by_id);
  ASSERT_EQ(comparison.rows.size(), 2u);
  EXPECT_EQ(comparison.rows[0].id, "a");
  EXPECT_EQ(comparison.rows[0].compared, 3);  // aligned at the last token
  EXPECT_NEAR(comparison.rows[0].pearson, 1.0, 1e-9);
  EXPECT_NEAR(comparison.rows[0].mean_abs_difference, 0.0, 1e-7);
  EXPECT_NEAR(comparison.pooled_pearson, 1.0, 1e-9);
  EXPECT_THROW(analysis::model_level_trace(*other, 0, "entropy"), std::runtime_error);
}
