// What a cluster of an IB run is made of: its members by membership, the per-head means of a metric over
// its steps' tokens against all steps' (hand-computed values, NaN skipped, overlapping and clipped spans),
// the heads that differ most, and the same read from a capture store (steps' text, sample ids, levels).
#include <gtest/gtest.h>

#include <cmath>

#include "core/analysis/ib/cluster_heads.h"
#include "core/analysis/ib/ib_input.h"
#include "core/analysis/ib/ib_source.h"
#include "core/store/reader.h"
#include "ib_source_store_data.h"
#include "test_support.h"

namespace headscope::analysis::ib {
namespace {

TEST(IbClusterHeads, MembersByMembershipThenStep) {
  const std::vector<int> cluster = {1, 0, 1, 1, 0};
  const std::vector<double> membership = {0.9, 0.8, 0.95, 0.9, 0.99};
  const std::vector<ClusterMember> members = cluster_members(cluster, membership, 1);
  ASSERT_EQ(members.size(), 3u);
  EXPECT_EQ(members[0].step, 2);  // 0.95
  EXPECT_EQ(members[1].step, 0);  // 0.9, before step 3 (same membership)
  EXPECT_EQ(members[2].step, 3);
  EXPECT_DOUBLE_EQ(members[0].membership, 0.95);
  EXPECT_TRUE(cluster_members(cluster, membership, 7).empty());
}

TEST(IbClusterHeads, TokenWeightedMeansByHand) {
  // One layer, two heads, four tokens: [token][head] = (1, NaN), (3, 2), (5, 4), (7, 6).
  const float nan = std::nanf("");
  const std::vector<float> values = {1, nan, 3, 2, 5, 4, 7, 6};
  ClusterHeadAccumulator accumulator(2, 1, 2);
  // Cluster 0 holds tokens 0-1, cluster 1 tokens 1-3 (token 1 in both); a step of no cluster is ignored,
  // and a span past the sample's end is clipped.
  accumulator.add_sample(values.data(), 4, {{0, 0, 2}, {1, 1, 9}, {-1, 0, 4}});
  const ClusterHeadProfile profile = accumulator.profile("entropy");
  EXPECT_EQ(profile.metric, "entropy");
  EXPECT_EQ(profile.cluster_tokens, (std::vector<std::int64_t>{2, 3}));
  EXPECT_EQ(profile.total_tokens, 5);
  EXPECT_DOUBLE_EQ(profile.cluster_mean[0], 2.0);  // (1 + 3) / 2
  EXPECT_DOUBLE_EQ(profile.cluster_mean[1], 2.0);  // 2 / 1: the NaN is skipped
  EXPECT_DOUBLE_EQ(profile.cluster_mean[2], 5.0);  // (3 + 5 + 7) / 3
  EXPECT_DOUBLE_EQ(profile.cluster_mean[3], 4.0);  // (2 + 4 + 6) / 3
  EXPECT_DOUBLE_EQ(profile.overall_mean[0], 3.8);  // (1 + 3 + 3 + 5 + 7) / 5
  EXPECT_DOUBLE_EQ(profile.overall_mean[1], 3.5);  // (2 + 2 + 4 + 6) / 4
  const std::vector<double> difference = profile.difference(1);
  EXPECT_NEAR(difference[0], 1.2, 1e-12);
  EXPECT_NEAR(difference[1], 0.5, 1e-12);
  const std::vector<HeadDifference> top = top_heads(profile, 0, 5);  // −1.8 at H0, −1.5 at H1
  ASSERT_EQ(top.size(), 2u);
  EXPECT_EQ(top[0].head, (store::HeadRef{0, 0}));
  EXPECT_NEAR(top[0].difference, -1.8, 1e-12);
  EXPECT_DOUBLE_EQ(top[0].cluster_mean, 2.0);
  EXPECT_DOUBLE_EQ(top[0].overall_mean, 3.8);
  EXPECT_EQ(top[1].head, (store::HeadRef{0, 1}));
  EXPECT_EQ(top_heads(profile, 1, 1).size(), 1u);
  EXPECT_TRUE(top_heads(profile, 2, 5).empty());
}

TEST(IbClusterHeads, ReadFromTheCaptureStore) {
  const std::string path = test::write_ib_source_store(test::temp_dir() / "store.h5");
  const StepData data = load_step_data(path);
  ASSERT_EQ(data.step_count, 8);
  EXPECT_EQ(data.source_store, path);
  EXPECT_FALSE(data.source_store_created.empty());
  EXPECT_EQ(data.step_sample, (std::vector<std::int64_t>{0, 0, 1, 1, 2, 2, 3, 3}));
  EXPECT_EQ(data.step_span_start, (std::vector<std::int32_t>{1, 3, 1, 3, 1, 3, 1, 3}));
  EXPECT_EQ(data.step_span_end, (std::vector<std::int32_t>{3, 6, 3, 6, 3, 6, 3, 6}));
  const IbStepSource source{data.step_sample, data.step_span_start, data.step_span_end};
  const auto reader = store::StoreReader::open(path);
  EXPECT_EQ(check_step_source(*reader, source), "");

  const SourceSteps steps = read_source_steps(*reader, source);
  EXPECT_EQ(steps.text[0], "bc");
  EXPECT_EQ(steps.text[7], "def");
  EXPECT_EQ(steps.sample_id[5], "problem-2");
  EXPECT_EQ(steps.level[5], 3);

  std::vector<int> cluster(8);
  for (int i = 0; i < 8; ++i) cluster[i] = data.label_text[i] == "mul" ? 1 : 0;
  const ClusterHeadProfile entropy = cluster_head_profile(*reader, "entropy", source, cluster, 2);
  ASSERT_EQ(entropy.layer_count, 2);
  ASSERT_EQ(entropy.head_count, 2);
  EXPECT_EQ(entropy.cluster_tokens, (std::vector<std::int64_t>{8, 12}));
  const int l1h0 = 2;  // [layer, head] index of L1H0
  EXPECT_NEAR(entropy.cluster_mean[1 * 4 + l1h0], 4.4, 1e-5);
  EXPECT_NEAR(entropy.overall_mean[l1h0], 3.5, 1e-5);
  EXPECT_NEAR(entropy.difference(1)[l1h0], 0.9, 1e-5);
  EXPECT_NEAR(entropy.difference(0)[l1h0], -1.35, 1e-5);
  EXPECT_NEAR(entropy.difference(1)[0], 0.1, 1e-5);  // L0H0: 0.1·(4 − 3) for mul, from the token positions only
  const std::vector<HeadDifference> top = top_heads(entropy, 1, 1);
  ASSERT_EQ(top.size(), 1u);
  EXPECT_EQ(top[0].head, (store::HeadRef{1, 0}));

  const ClusterHeadProfile iaf = cluster_head_profile(*reader, "iaf", source, cluster, 2);
  EXPECT_TRUE(std::isnan(iaf.cluster_mean[0]));  // the add steps lie in the prompt: IAF undefined
  EXPECT_NEAR(iaf.cluster_mean[4], 0.5, 1e-6);
  EXPECT_NEAR(iaf.overall_mean[0], 0.5, 1e-6);
  EXPECT_TRUE(std::isnan(iaf.difference(0)[0]));

  EXPECT_THROW(cluster_head_profile(*reader, "jsd", source, cluster, 2), store::StoreError);
  IbStepSource beyond = source;
  beyond.span_end[3] = 7;
  EXPECT_NE(check_step_source(*reader, beyond).find("step 3 spans tokens 3-7 of sample 1, which has 6 tokens"), std::string::npos)
      << check_step_source(*reader, beyond);
  beyond = source;
  beyond.sample[0] = 9;
  EXPECT_NE(check_step_source(*reader, beyond).find("but the store has 4 samples"), std::string::npos);
  EXPECT_THROW(read_source_steps(*reader, beyond), store::StoreError);
}

}  // namespace
}  // namespace headscope::analysis::ib
