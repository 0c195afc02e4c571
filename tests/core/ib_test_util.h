// Shared checks of the IB test suites: the METRICS.md invariants that every annealing run must satisfy.
#pragma once
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "core/analysis/ib/aib.h"
#include "core/analysis/ib/anneal.h"

namespace headscope::test {

// 0 ≤ I(T;Y) ≤ min(I(X;T), I(X;Y)); I(X;T) ≤ H(T) ≤ ln K; I(X;T), I(T;Y) non-decreasing in β (within
// `monotone_tolerance` nats, since reabsorptions may take back a little); AIB costs sum to final I(T;Y).
inline void expect_ib_invariants(const analysis::ib::IbProblem& problem, const analysis::ib::AnnealResult& result,
                                 double monotone_tolerance = 1e-6) {
  using namespace analysis::ib;
  constexpr double slack = 1e-9;
  double previous_xt = 0, previous_ty = 0;
  for (const CurvePoint& point : result.curve) {
    SCOPED_TRACE("beta=" + std::to_string(point.beta));
    EXPECT_GE(point.info_ty, -slack);
    EXPECT_LE(point.info_ty, std::min(point.info_xt, result.info_xy) + slack);
    EXPECT_LE(point.info_xt, point.cluster_entropy + slack);
    EXPECT_LE(point.cluster_entropy, std::log(static_cast<double>(point.cluster_count)) + slack);
    EXPECT_GE(point.info_xt, previous_xt - monotone_tolerance);
    EXPECT_GE(point.info_ty, previous_ty - monotone_tolerance);
    previous_xt = point.info_xt;
    previous_ty = point.info_ty;
  }
  const IbMeasures final_measures = measure(problem, result.clustering);
  const std::vector<AibMerge> merges = agglomerate(result.clustering.cluster_mass, result.clustering.label_given_cluster,
                                                   problem.y_count, result.cluster_id);
  double total = 0;
  for (const AibMerge& merge : merges) total += merge.cost;
  EXPECT_NEAR(total, final_measures.info_ty, 1e-10);
  ASSERT_EQ(result.cluster_id.size(), static_cast<size_t>(result.clustering.cluster_count));
}

}  // namespace headscope::test
