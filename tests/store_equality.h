// Two stores hold the same run, sample by sample, bit for bit (NaN equal to NaN): ids, metadata, tokens
// and their text, every metric of every layer, the summaries, flow, pinned attention and step embeddings.
// What a master over shards must give against one process's store of the same samples.
#pragma once
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "core/store/reader.h"

namespace headscope::test {

// Same bits (so NaN payloads and signed zeros count); reports the first differing index.
inline ::testing::AssertionResult same_values(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size()) return ::testing::AssertionFailure() << "sizes " << a.size() << " vs " << b.size();
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::memcmp(&a[i], &b[i], sizeof(float)) != 0 && !(std::isnan(a[i]) && std::isnan(b[i])))
      return ::testing::AssertionFailure() << "value " << i << ": " << a[i] << " vs " << b[i];
  return ::testing::AssertionSuccess();
}

inline void expect_same_run(const store::StoreReader& a, const store::StoreReader& b) {
  const auto& layout = a.layout();
  ASSERT_EQ(a.sample_count(), b.sample_count());
  ASSERT_EQ(a.token_count(), b.token_count());
  ASSERT_EQ(layout.layer_count, b.layout().layer_count);
  ASSERT_EQ(layout.metrics.size(), b.layout().metrics.size());
  for (std::int64_t i = 0; i < a.sample_count(); ++i) {
    SCOPED_TRACE("sample " + std::to_string(i));
    const auto sa = a.sample(i), sb = b.sample(i);
    EXPECT_EQ(sa.id, sb.id);
    EXPECT_EQ(sa.metadata_json, sb.metadata_json);
    EXPECT_EQ(sa.token_count, sb.token_count);
    EXPECT_EQ(sa.prompt_length, sb.prompt_length);
    EXPECT_EQ(a.tokens(i), b.tokens(i));
    EXPECT_EQ(a.token_text(i), b.token_text(i));
    for (const auto& metric : layout.metrics)
      for (int layer = 0; layer < layout.layer_count; ++layer)
        EXPECT_TRUE(same_values(a.layer_slice(metric.name, i, layer), b.layer_slice(metric.name, i, layer)))
            << metric.name << " layer " << layer;
    EXPECT_EQ(a.flow_positions(i), b.flow_positions(i));
    EXPECT_TRUE(same_values(a.flow(i), b.flow(i))) << "flow";
    for (const auto& head : layout.pinned_heads) {
      const auto pa = a.pinned_attention(i, head), pb = b.pinned_attention(i, head);
      ASSERT_TRUE(pa && pb);
      EXPECT_TRUE(same_values(*pa, *pb)) << "pinned " << store::head_name(head);
    }
  }
  for (const auto& metric : layout.metrics) EXPECT_TRUE(same_values(a.summary(metric.name), b.summary(metric.name))) << metric.name;
  const auto ea = a.embeddings(), eb = b.embeddings();
  EXPECT_EQ(ea.span_start, eb.span_start);
  EXPECT_EQ(ea.span_end, eb.span_end);
  EXPECT_EQ(ea.labels, eb.labels);
  EXPECT_TRUE(same_values(ea.vectors, eb.vectors)) << "embeddings";
  EXPECT_EQ(a.embedding_sample(), b.embedding_sample());
}

}  // namespace headscope::test
