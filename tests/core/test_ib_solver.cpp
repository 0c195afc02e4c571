// The IB solver against the known answers of METRICS.md: first transitions at β_c = 1/ρ² for the doubly
// symmetric binary source (DSBS), points of the DSBS optimal curve, the deterministic Y = X mod 2 case,
// the independent case, the invariants on every run, determinism for a fixed seed and any thread count,
// and the vectorised exp of the membership update against std::exp.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <utility>
#include <vector>

#include "core/analysis/ib/aib.h"
#include "core/analysis/ib/anneal.h"
#include "core/analysis/ib/ib_problem.h"
#include "core/analysis/ib/simd.h"
#include "ib_test_util.h"

namespace headscope::analysis::ib {
namespace {

IbProblem dsbs(double epsilon) {
  return problem_from_joint({(1 - epsilon) / 2, epsilon / 2, epsilon / 2, (1 - epsilon) / 2}, 2, 2);
}

AnnealOptions small_problem_options(double beta_max) {
  AnnealOptions options;
  options.beta_min = 0.5;
  options.beta_max = beta_max;
  options.min_size = 0;  // explicit joints have no step counts
  options.clusters_max = 8;
  options.tolerance = 1e-13;
  options.max_iterations = 200000;
  options.refine_steps = 12;
  return options;
}

const TransitionEvent* first_split(const AnnealResult& result) {
  for (const TransitionEvent& event : result.history)
    if (event.kind == EventKind::split) return &event;
  return nullptr;
}

TEST(IbSolver, MaximalCorrelationGivesTheDsbsCriticalBeta) {
  EXPECT_NEAR(critical_beta(dsbs(0.1)), 1.5625, 1e-10);
  EXPECT_NEAR(critical_beta(dsbs(0.2)), 1.0 / (0.6 * 0.6), 1e-10);  // 2.7778
  EXPECT_NEAR(maximal_correlation(dsbs(0.1)), 0.8, 1e-12);
  EXPECT_NEAR(mutual_information_xy(dsbs(0.1)), 0.368064, 5e-7);
}

// The split is first seen on the 1.02 grid one step above β_c. The copies' separation grows by λ = β·ρ²
// per iteration, so β/λ̂ estimates β_c (seen: 1e-5 relative; the perturbation's nonlinearity is the error),
// and bisection on the stability test pins it further: 12 halvings of a 2% bracket leave 5e-6 relative.
// 1e-4 absolute covers both.
TEST(IbSolver, FirstTransitionOfDsbsIsAtOneOverRhoSquared) {
  for (const auto& [epsilon, refine_steps] : {std::pair{0.1, 0}, std::pair{0.1, 12}, std::pair{0.2, 0}, std::pair{0.2, 12}}) {
    SCOPED_TRACE("epsilon=" + std::to_string(epsilon) + " refine_steps=" + std::to_string(refine_steps));
    const IbProblem problem = dsbs(epsilon);
    const double beta_c = 1 / ((1 - 2 * epsilon) * (1 - 2 * epsilon));
    AnnealOptions options = small_problem_options(4.0);
    options.refine_steps = refine_steps;
    const AnnealResult result = anneal(problem, options);
    const TransitionEvent* split = first_split(result);
    ASSERT_NE(split, nullptr);
    EXPECT_NEAR(split->beta_critical, beta_c, 1e-4);
    EXPECT_GE(split->beta, beta_c);
    EXPECT_LE(split->beta, beta_c * std::pow(1.02, 3));
    for (const CurvePoint& point : result.curve) {
      if (point.beta < beta_c) {
        EXPECT_EQ(point.cluster_count, 1);
      }
    }
    headscope::test::expect_ib_invariants(problem, result);
  }
}

// Reference values to 6 decimals; the converged fixed point is reached to |Δq| < 1e-13, so the only
// error is the reference's rounding (5e-7) plus the solution's distance from the fixed point.
TEST(IbSolver, DsbsCurvePointsMatchTheOptimalCurve) {
  struct Reference { double beta, info_xt, info_ty; };
  for (const Reference& ref : {Reference{2, 0.482730, 0.282273}, Reference{3, 0.657763, 0.358076},
                               Reference{5, 0.691648, 0.367795}}) {
    SCOPED_TRACE("beta=" + std::to_string(ref.beta));
    const IbProblem problem = dsbs(0.1);
    const AnnealResult result = anneal(problem, small_problem_options(ref.beta));
    const CurvePoint& last = result.curve.back();
    EXPECT_DOUBLE_EQ(last.beta, ref.beta);
    EXPECT_NEAR(last.info_xt, ref.info_xt, 2e-6);
    EXPECT_NEAR(last.info_ty, ref.info_ty, 2e-6);
    EXPECT_LE(last.cluster_count, 2);
    headscope::test::expect_ib_invariants(problem, result);
  }
}

TEST(IbSolver, DsbsSlopeAtBetaTwoIsOneOverBeta) {
  const IbProblem problem = dsbs(0.1);
  AnnealOptions options = small_problem_options(2.0 * 1.0005);
  const AnnealResult result = anneal(problem, options);
  // Two close curve points around β = 2: re-converge the final state at 2/1.0005.
  SoftClustering lower = result.clustering;
  converge(problem, 2.0 / 1.0005, lower, 200000, 1e-14);
  const IbMeasures a = measure(problem, lower), b = measure(problem, result.clustering);
  EXPECT_NEAR((b.info_ty - a.info_ty) / (b.info_xt - a.info_xt), 0.5, 1e-3);
}

TEST(IbSolver, DeterministicLabelIsTrivialBelowOneAndFullAbove) {
  // X uniform on {0..3}, Y = X mod 2.
  const IbProblem problem = problem_from_joint({0.25, 0, 0, 0.25, 0.25, 0, 0, 0.25}, 4, 2);
  const AnnealResult result = anneal(problem, small_problem_options(10.0));
  for (const CurvePoint& point : result.curve) {
    SCOPED_TRACE("beta=" + std::to_string(point.beta));
    EXPECT_LE(point.cluster_count, 2);
    if (point.beta < 1.0) {
      EXPECT_EQ(point.cluster_count, 1);
      EXPECT_NEAR(point.info_ty, 0, 1e-12);
    } else if (point.beta > 1.1) {
      EXPECT_NEAR(point.info_xt, std::log(2.0), 1e-9);
      EXPECT_NEAR(point.info_ty, std::log(2.0), 1e-9);
    }
  }
  // KL = +inf must give exact zeros: every point sits in exactly one cluster.
  for (double m : result.clustering.membership) EXPECT_TRUE(m == 0.0 || m == 1.0) << m;
  headscope::test::expect_ib_invariants(problem, result);
}

TEST(IbSolver, IndependentVariablesNeverSplit) {
  const std::vector<double> p_x = {0.1, 0.2, 0.3, 0.4}, p_y = {0.5, 0.3, 0.2};
  std::vector<double> joint;
  for (double px : p_x)
    for (double py : p_y) joint.push_back(px * py);
  const IbProblem problem = problem_from_joint(joint, 4, 3);
  AnnealOptions options = small_problem_options(100.0);
  options.tolerance = 1e-12;
  const AnnealResult result = anneal(problem, options);
  EXPECT_EQ(result.clustering.cluster_count, 1);
  EXPECT_EQ(first_split(result), nullptr);
  EXPECT_NEAR(result.curve.back().info_ty, 0, 1e-12);
  headscope::test::expect_ib_invariants(problem, result);
}

TEST(IbSolver, MergingIdenticalRowsKeepsTheAnswer) {
  const IbProblem problem = problem_from_joint({0.25, 0, 0, 0.25, 0.25, 0, 0, 0.25}, 4, 2);
  const CompressedProblem compressed = merge_identical_rows(problem);
  EXPECT_EQ(compressed.problem.x_count, 2);
  EXPECT_EQ(compressed.compressed_index, (std::vector<int>{0, 1, 0, 1}));
  EXPECT_NEAR(mutual_information_xy(compressed.problem), mutual_information_xy(problem), 1e-15);
}

// A richer problem (6 points, 3 labels) for the invariants and determinism.
IbProblem six_point_problem() {
  return problem_from_joint({0.12, 0.02, 0.01, 0.10, 0.05, 0.02, 0.02, 0.14, 0.01,
                             0.01, 0.09, 0.08, 0.03, 0.02, 0.13, 0.05, 0.05, 0.05}, 6, 3, 1000);
}

TEST(IbSolver, InvariantsHoldWithSurfaceTensionAndBias) {
  const IbProblem problem = six_point_problem();
  AnnealOptions options = small_problem_options(200.0);
  options.min_size = 60;  // steps, of the 1000 the problem stands for
  options.bias_constant = 1.0;
  const AnnealResult result = anneal(problem, options);
  EXPECT_GE(result.clustering.cluster_count, 2);
  for (int t = 0; t < result.clustering.cluster_count; ++t)
    EXPECT_GE(result.clustering.cluster_mass[t] * problem.step_count, options.min_size);
  EXPECT_NEAR(result.curve.back().info_ty, result.info_xy, 0.02);  // β = 200: nearly all of I(X;Y)
  headscope::test::expect_ib_invariants(problem, result);
}

TEST(IbSolver, FixedSeedIsDeterministic) {
  const IbProblem problem = six_point_problem();
  AnnealOptions options = small_problem_options(50.0);
  options.seed = 7;
  const AnnealResult a = anneal(problem, options), b = anneal(problem, options);
  ASSERT_EQ(a.history.size(), b.history.size());
  for (size_t i = 0; i < a.history.size(); ++i) {
    EXPECT_EQ(a.history[i].beta, b.history[i].beta);
    EXPECT_EQ(a.history[i].info_ty, b.history[i].info_ty);
    EXPECT_EQ(a.history[i].kind, b.history[i].kind);
  }
  EXPECT_EQ(a.clustering.membership, b.clustering.membership);
  options.threads = 2;  // partial sums run over fixed chunks: the thread count changes nothing
  const AnnealResult c = anneal(problem, options);
  EXPECT_EQ(a.clustering.membership, c.clustering.membership);
}

TEST(IbSolver, ThreadCountChangesNothingOnALargeProblem) {
  // 3,000 points × 6 labels: big enough that each pass is shared with the worker pool's helpers.
  SplitMix64 rng(11);
  std::vector<double> joint(3000 * 6);
  for (size_t x = 0; x < 3000; ++x)
    for (size_t y = 0; y < 6; ++y) joint[x * 6 + y] = rng.uniform() * (y == x % 6 ? 4.0 : 1.0);
  const IbProblem problem = problem_from_joint(joint, 3000, 6, 3000);
  AnnealOptions options;
  options.beta_max = 10;
  options.beta_ratio = 1.1;
  options.clusters_max = 8;
  options.min_size = 40;
  options.tolerance = 1e-8;
  options.max_iterations = 200;
  options.threads = 1;
  const AnnealResult one = anneal(problem, options);
  EXPECT_GE(one.clustering.cluster_count, 4);  // from 4 clusters on, passes are shared
  for (int threads : {2, 3}) {
    options.threads = threads;
    const AnnealResult many = anneal(problem, options);
    EXPECT_EQ(one.clustering.membership, many.clustering.membership) << threads << " threads";
    ASSERT_EQ(one.curve.size(), many.curve.size());
    for (size_t i = 0; i < one.curve.size(); ++i) EXPECT_EQ(one.curve[i].info_ty, many.curve[i].info_ty);
  }
  headscope::test::expect_ib_invariants(problem, one);
}

TEST(IbSolver, VectorisedExpMatchesStdExp) {
  // Within 2 ulp of std::exp over (−750, 0], exactly 0 for −inf and below the underflow point.
  std::vector<double> inputs = {0.0, -1e-300, -0.5, -1.0, -10.25, -700.0, -708.5, -745.0, -745.13, -745.2, -746.0,
                                -1e6, -std::numeric_limits<double>::infinity()};
  SplitMix64 rng(3);
  for (int i = 0; i < 4000; ++i) inputs.push_back(-750 * rng.uniform());
  for (int i = 0; i < 4000; ++i) inputs.push_back(-rng.uniform());
  while (inputs.size() % 4) inputs.push_back(0.0);
  for (size_t i = 0; i < inputs.size(); i += 4) {
    simd::Double4 v = {inputs[i], inputs[i + 1], inputs[i + 2], inputs[i + 3]};
    simd::exp_nonpositive(v);
    for (int lane = 0; lane < 4; ++lane) {
      const double x = inputs[i + lane], want = std::exp(x);
      SCOPED_TRACE("x=" + std::to_string(x));
      if (want == 0) {
        EXPECT_EQ(v[lane], 0.0);
      } else {
        const double ulp = std::max(std::nextafter(want, 2.0) - want, std::numeric_limits<double>::denorm_min());
        EXPECT_LE(std::abs(v[lane] - want), 2 * ulp);
      }
    }
  }
}

TEST(IbAib, MergeCostsAddUpToInformation) {
  const std::vector<double> mass = {0.4, 0.3, 0.2, 0.1};
  const std::vector<double> labels = {0.9, 0.1, 0.2, 0.8, 0.5, 0.5, 0.85, 0.15};
  const std::vector<AibMerge> merges = agglomerate(mass, labels, 2, {0, 1, 2, 3});
  ASSERT_EQ(merges.size(), 3u);
  double total = 0;
  for (const AibMerge& m : merges) total += m.cost;
  EXPECT_NEAR(merges.back().info_ty_after, 0, 1e-12);
  EXPECT_EQ(merges[0].kept, 0);  // 0 and 3 have nearly equal q(y|t): merged first, the heavier keeps its id
  EXPECT_EQ(merges[0].absorbed, 3);
  const std::vector<ElbowRow> rows = elbow_table(merges, 4, total, {1.0, 0.0});
  EXPECT_EQ(rows[0].clusters_nats, 1);
  EXPECT_EQ(rows[1].clusters_nats, 4);
}

// The seed's elbow from split gains (METRICS.md "split-gain elbow"): the clusters alive at the first β
// after which no split gains >= g; later small splits and a reabsorption at that β do not count.
TEST(IbAib, SplitGainElbowReadsTheAnnealingPath) {
  auto split = [](double beta, int clusters, double gain) {
    TransitionEvent e;
    e.kind = EventKind::split, e.beta = beta, e.beta_critical = beta, e.cluster_count = clusters, e.gain = gain;
    return e;
  };
  TransitionEvent reabsorb = split(3.0, 3, 0);
  reabsorb.kind = EventKind::reabsorb;
  const std::vector<TransitionEvent> history = {split(1.5, 2, 0.35), split(3.0, 3, 0.22), split(3.0, 4, 0.05), reabsorb,
                                                split(6.0, 4, 0.16), split(9.0, 5, 0.02)};
  std::vector<CurvePoint> curve;
  for (const auto& [beta, clusters] : std::vector<std::pair<double, int>>{{1.0, 1}, {1.5, 2}, {3.0, 3}, {6.0, 4}, {9.0, 5}}) {
    CurvePoint point;
    point.beta = beta, point.cluster_count = clusters;
    curve.push_back(point);
  }
  std::vector<ElbowRow> rows(5);
  const double thresholds[] = {0.30, 0.20, 0.15, 0.10, 0.50};
  for (std::size_t i = 0; i < rows.size(); ++i) rows[i].threshold = thresholds[i];
  add_split_elbow(rows, history, curve);
  EXPECT_EQ(rows[0].clusters_split, 2);
  EXPECT_EQ(rows[0].beta_split, 1.5);
  EXPECT_EQ(rows[1].clusters_split, 3) << "K after every event of β = 3, the reabsorption included";
  EXPECT_EQ(rows[2].clusters_split, 4);
  EXPECT_EQ(rows[3].clusters_split, 4);
  EXPECT_EQ(rows[3].beta_split, 6.0);
  EXPECT_EQ(rows[4].clusters_split, 1) << "no split that large: the one starting cluster";
  EXPECT_TRUE(std::isnan(rows[4].beta_split));
}

// The progress of the annealing (issue 21): one call per step of the β grid, in order, ending at β_max.
TEST(IbSolver, ReportsEachStepOfTheBetaGrid) {
  const IbProblem problem = dsbs(0.1);
  const AnnealOptions options = small_problem_options(4.0);
  std::vector<AnnealStep> steps;
  anneal(problem, options, {}, [&](const AnnealStep& step) { steps.push_back(step); });
  const std::vector<double> grid = beta_grid(options);
  ASSERT_EQ(steps.size(), grid.size());
  for (std::size_t k = 0; k < steps.size(); ++k) {
    EXPECT_EQ(steps[k].steps_done, k + 1);
    EXPECT_EQ(steps[k].step_count, grid.size());
    EXPECT_EQ(steps[k].beta, grid[k]);
    EXPECT_GE(steps[k].cluster_count, 1);
  }
}

}  // namespace
}  // namespace headscope::analysis::ib
