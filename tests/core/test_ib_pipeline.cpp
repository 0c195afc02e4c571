// The IB pipeline around the solver: spherical k-means on planted blobs, adjusted mutual information,
// loading a NumPy pair (and its errors), the pipeline as `headscope ib` runs it (run_ib: smoothing into
// a problem whose invariants hold, the "ib" HDF5 output), and `headscope ib` failing clearly on bad
// input. Small sizes: runs in a second or two.
#include <gtest/gtest.h>
#include <hdf5.h>
#include <hdf5_hl.h>

#include <cmath>
#include <cstdlib>
#include <fstream>

#include "core/analysis/ib/aib.h"
#include "core/analysis/ib/ami.h"
#include "core/analysis/ib/anneal.h"
#include "core/analysis/ib/ib_input.h"
#include "core/analysis/ib/ib_store.h"
#include "core/analysis/ib/kmeans.h"
#include "core/analysis/ib/run_ib.h"
#include "core/analysis/ib/smoothing.h"
#include "core/analysis/ib/summary.h"
#include "core/io/npy.h"
#include "ib_test_util.h"
#include "test_support.h"

namespace headscope::analysis::ib {
namespace {

// 6 well-separated blobs in 40 dims, 100 points each; label = blob % 3 with 10% noise.
struct Blobs {
  std::vector<float> points;
  std::vector<int> blob, label;
};
Blobs make_blobs() {
  SplitMix64 rng(5);
  auto gaussian = [&rng] { return std::sqrt(-2 * std::log(std::max(rng.uniform(), 1e-300))) * std::cos(6.2831853 * rng.uniform()); };
  const int dim = 40, blobs = 6, per_blob = 100;
  std::vector<float> centers(blobs * dim);
  for (float& c : centers) c = static_cast<float>(gaussian());
  Blobs out;
  for (int b = 0; b < blobs; ++b)
    for (int i = 0; i < per_blob; ++i) {
      for (int k = 0; k < dim; ++k) out.points.push_back(static_cast<float>(centers[b * dim + k] + 0.3 * gaussian()));
      out.blob.push_back(b);
      out.label.push_back(rng.uniform() < 0.9 ? b % 3 : static_cast<int>(rng.next() % 3));
    }
  return out;
}

TEST(IbPipeline, SphericalKMeansFindsPlantedBlobs) {
  Blobs data = make_blobs();
  normalize_rows(data.points.data(), 600, 40);
  // Twice as many cells as blobs (random seeding may put two seeds in one blob): every cell is pure.
  SphericalKMeansOptions options;
  options.cluster_count = 12;
  options.seed = 3;
  const SphericalKMeansResult one = spherical_kmeans(data.points.data(), 600, 40, options);
  std::vector<std::vector<int>> counts(12, std::vector<int>(6, 0));
  for (int i = 0; i < 600; ++i) ++counts[one.assignment[i]][data.blob[i]];
  for (const auto& cell : counts) {
    int total = 0, top = 0;
    for (int c : cell) total += c, top = std::max(top, c);
    EXPECT_EQ(top, total);
  }
  options.threads = 1;  // the thread count changes nothing
  EXPECT_EQ(spherical_kmeans(data.points.data(), 600, 40, options).assignment, one.assignment);
}

TEST(IbPipeline, AdjustedMutualInformation) {
  const std::vector<int> a = {0, 0, 0, 1, 1, 1, 2, 2, 2, 2};
  const std::vector<int> relabelled = {5, 5, 5, 9, 9, 9, 7, 7, 7, 7};
  EXPECT_NEAR(adjusted_mutual_information(a, relabelled), 1.0, 1e-12);
  // Independent labelings: AMI ≈ 0 (E[MI] removes the chance MI that raw MI keeps).
  SplitMix64 rng(1);
  std::vector<int> x(2000), y(2000);
  for (int i = 0; i < 2000; ++i) x[i] = static_cast<int>(rng.next() % 5), y[i] = static_cast<int>(rng.next() % 7);
  EXPECT_NEAR(adjusted_mutual_information(x, y), 0.0, 0.01);
  EXPECT_GT(labeling_mutual_information(x, y), expected_mutual_information(x, y) * 0.5);
  // By hand: MI = ln 2, H = (ln 2, 1.5 ln 2), E[MI] = 2·(1/6)(ln 2)/2 + 4·(1/2)(ln 2)/4 = (2/3) ln 2 ... precisely
  // E[MI] = ln2·(1/6 + 1/2) = 0.46210; AMI = (0.69315 − 0.46210)/(0.86643 − 0.46210) = 4/7.
  EXPECT_NEAR(adjusted_mutual_information({0, 0, 1, 1}, {0, 0, 1, 2}), 4.0 / 7.0, 1e-12);
}

TEST(IbPipeline, NumpyPairToIbFile) {
  const auto dir = headscope::test::temp_dir();
  const Blobs data = make_blobs();
  io::write_npy((dir / "e.npy").string(), "<f4", {600, 40}, data.points.data(), data.points.size() * 4);
  io::write_npy((dir / "l.npy").string(), "<i4", {600}, data.label.data(), data.label.size() * 4);
  StepData steps = load_step_data((dir / "e.npy").string(), (dir / "l.npy").string());
  ASSERT_EQ(steps.step_count, 600);
  EXPECT_EQ(steps.label_names, (std::vector<std::string>{"0", "1", "2"}));

  // The pipeline as `headscope ib` runs it (run_ib), for both smoothings.
  IbSettings settings;
  settings.embeddings_path = (dir / "e.npy").string();
  settings.labels_path = (dir / "l.npy").string();
  settings.out_path = (dir / "ib.h5").string();
  settings.overwrite = true;  // both smoothings write the same file
  settings.command_line = "test";
  settings.smoothing_options.cells = 30;
  settings.anneal.beta_max = 30;
  settings.anneal.min_size = 20;
  settings.anneal.tolerance = 1e-8;
  for (Smoothing method : {Smoothing::quantize, Smoothing::knn}) {
    SCOPED_TRACE(smoothing_name(method));
    settings.smoothing = smoothing_name(method);
    const IbRun run = run_ib(settings);
    const AnnealResult& result = run.result;
    EXPECT_GE(result.clustering.cluster_count, 3);
    // Reabsorptions (min_size) may take back a little information: 1e-3 nats of slack on monotonicity.
    headscope::test::expect_ib_invariants(run.smoothed.problem, result, 1e-3);
    EXPECT_GT(adjusted_mutual_information(run.step_assignment, data.label), 0.5);

    const std::string& out = settings.out_path;
    const hid_t file = H5Fopen(out.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
    ASSERT_GE(file, 0);
    char kind[16] = {};
    EXPECT_GE(H5LTget_attribute_string(file, "/", "kind", kind), 0);
    EXPECT_STREQ(kind, "ib");
    hsize_t dims[1] = {0};
    EXPECT_GE(H5LTget_dataset_info(file, "/ib/curve/beta", dims, nullptr, nullptr), 0);
    EXPECT_EQ(dims[0], result.curve.size());
    H5Fclose(file);
  }
}

TEST(IbPipeline, BadInputIsAnErrorNamingTheFile) {
  const auto dir = headscope::test::temp_dir();
  std::ofstream((dir / "bad.npy").string()) << "not numpy";
  const std::vector<int> labels = {0, 1};
  io::write_npy((dir / "l.npy").string(), "<i4", {2}, labels.data(), 8);
  try {
    load_step_data((dir / "bad.npy").string(), (dir / "l.npy").string());
    FAIL() << "expected an error";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("bad.npy"), std::string::npos) << e.what();
  }
  EXPECT_THROW(load_step_data((dir / "missing.h5").string()), IbInputError);
  const std::string command = headscope::test::headscope_exe().string() + " ib --embeddings " + (dir / "bad.npy").string() +
                              " --labels " + (dir / "l.npy").string() + " --out " + (dir / "o.h5").string() + " 2>/dev/null";
  EXPECT_NE(std::system(command.c_str()), 0);
}

}  // namespace
}  // namespace headscope::analysis::ib
