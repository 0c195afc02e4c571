// Phase 0 (core/analysis/phase0.h): Pearson and Spearman against values worked by hand, ties at average
// ranks, non-finite pairs skipped; on a planted store the ranking, the /analysis/phase0 round trip through
// `analyze`'s writer, and the sweep target taken from the stored group or computed when it is absent.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "core/analysis/phase0.h"
#include "core/analysis/store_analysis.h"
#include "core/store/reader.h"
#include "phase0_store_data.h"

using namespace headscope;

TEST(Phase0, CorrelationsWorkedByHand) {
  // x = 1..5, y = 2,4,5,4,5: dx·dy = 6, dx² = 10, dy² = 6, r = 6/√60. Ranks of y with ties averaged:
  // 1, 2.5, 4.5, 2.5, 4.5, so Spearman = 7/√90.
  const double nan = std::numeric_limits<double>::quiet_NaN(), inf = std::numeric_limits<double>::infinity();
  const auto c = analysis::correlate({1, 2, 3, nan, 4, 5, 7}, {2, 4, 5, 3, 4, 5, inf});
  EXPECT_EQ(c.pairs, 5);
  EXPECT_NEAR(c.pearson, 6 / std::sqrt(60.0), 1e-12);
  EXPECT_NEAR(c.spearman, 7 / std::sqrt(90.0), 1e-12);
  EXPECT_EQ(analysis::average_ranks({3, 1, 3, 2}), (std::vector<double>{3.5, 1, 3.5, 2}));
  const auto perfect = analysis::correlate({1, 2, 3}, {9, 4, 1});
  EXPECT_NEAR(perfect.pearson, -8 / std::sqrt(2 * 98.0 / 3), 1e-12);  // dx·dy = -8, dx² = 2, dy² = 98/3
  EXPECT_DOUBLE_EQ(perfect.spearman, -1);
  EXPECT_TRUE(std::isnan(analysis::correlate({1, 2, 3}, {4, 4, 4}).pearson)) << "a constant side has no r";
  EXPECT_TRUE(std::isnan(analysis::correlate({1}, {2}).spearman));
}

TEST(Phase0, RanksThePlantedHeadsMostNegativeFirst) {
  const std::string path = test::phase0_store("phase0-rank.h5");
  const auto reader = store::StoreReader::open(path);
  const store::Phase0Group p = analysis::phase0_correlations(*reader);
  ASSERT_TRUE(p.present);
  EXPECT_NEAR(p.pearson[2], -1.0, 1e-9);  // L1H0
  EXPECT_NEAR(p.spearman[2], -1.0, 1e-9);
  EXPECT_NEAR(p.pearson[0], 1.0, 1e-9);   // L0H0
  EXPECT_TRUE(std::isnan(p.pearson[3]));   // L1H1: constant entropy
  const std::int64_t tokens = reader->token_count();
  EXPECT_EQ(p.pairs[0], tokens - reader->sample_count()) << "each sample's first entropy is NaN";
  EXPECT_EQ(p.pairs[1], tokens);
  EXPECT_EQ(p.ranking, (std::vector<store::HeadRef>{{1, 0}, {0, 1}, {0, 0}}));
}

TEST(Phase0, AnalyzeWritesItAndTheSweepTargetReadsIt) {
  const std::string path = test::phase0_store("phase0-target.h5");
  const auto computed = analysis::phase0_target(path);  // no /analysis yet: computed from the arrays
  EXPECT_FALSE(computed.from_analysis);
  EXPECT_EQ(computed.head, (store::HeadRef{1, 0}));
  EXPECT_NEAR(computed.pearson, -1.0, 1e-9);
  analysis::StoreAnalysis result;
  {
    const auto reader = store::StoreReader::open(path);
    result = analysis::analyze_store(*reader);
  }
  ASSERT_TRUE(result.phase0.present);
  analysis::write_store_analysis(path, result, {});
  const store::AnalysisGroup stored = store::read_analysis_group(path);
  ASSERT_TRUE(stored.phase0.present);
  EXPECT_EQ(stored.phase0.ranking, result.phase0.ranking);
  EXPECT_EQ(stored.phase0.pairs, result.phase0.pairs);
  for (std::size_t i = 0; i < 4; ++i) {
    EXPECT_TRUE(std::isnan(stored.phase0.pearson[i]) ? std::isnan(result.phase0.pearson[i]) : stored.phase0.pearson[i] == result.phase0.pearson[i]);
    EXPECT_TRUE(std::isnan(stored.phase0.spearman[i]) ? std::isnan(result.phase0.spearman[i]) : stored.phase0.spearman[i] == result.phase0.spearman[i]);
  }
  const auto read_back = analysis::phase0_target(path);
  EXPECT_TRUE(read_back.from_analysis);
  EXPECT_EQ(read_back.head, computed.head);
  EXPECT_EQ(read_back.pairs, computed.pairs);
  EXPECT_EQ(analysis::phase0_target_store("phase0:/a/b.h5"), std::optional<std::string>("/a/b.h5"));
  EXPECT_EQ(analysis::phase0_target_store("1:2"), std::nullopt);
  EXPECT_NE(analysis::format_phase0(result.phase0, 2).find("L1H0"), std::string::npos);
}
