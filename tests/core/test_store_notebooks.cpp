// docs/notebooks.md's Python, run as written (its ```python blocks, in order, with STORE set) by Debian's
// /usr/bin/python3 with xarray + h5netcdf and h5py, on a store and on a master over two shards: the named
// dimensions and coordinates are there, and the values it prints equal the C++ reader's.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cmath>
#include <fstream>
#include <regex>
#include <sstream>

#include "core/store/analysis_group.h"
#include "core/store/ib_file.h"
#include "core/store/master.h"
#include "core/store/reader.h"
#include "core/store/sweep_file.h"
#include "result_file_data.h"
#include "shard_test_data.h"
#include "test_support.h"

namespace hs = headscope;
namespace fs = std::filesystem;

namespace {

std::string read_text(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The page's Python blocks as one script whose first argument is STORE.
fs::path notebook_script(const fs::path& dir) {
  const std::string page = read_text(hs::test::fixtures_dir() / ".." / ".." / "docs" / "notebooks.md");
  std::string script = "import sys\nSTORE = sys.argv[1]\n";
  const std::regex block("```python\n([\\s\\S]*?)```");
  int blocks = 0;
  for (auto it = std::sregex_iterator(page.begin(), page.end(), block); it != std::sregex_iterator(); ++it, ++blocks)
    script += (*it)[1].str() + "\n";
  EXPECT_GE(blocks, 5) << "docs/notebooks.md lost its examples";
  const fs::path path = dir / "notebooks.py";
  std::ofstream(path) << script;
  return path;
}

// "label v1 v2 ..." lines of the script's output, by label.
std::string line_after(const std::string& output, const std::string& label) {
  std::istringstream lines(output);
  for (std::string line; std::getline(lines, line);)
    if (line.rfind(label + " ", 0) == 0) return line.substr(label.size() + 1);
  ADD_FAILURE() << "no '" << label << "' line in:\n" << output;
  return "";
}

void expect_notebook_reads(const fs::path& store, const fs::path& dir) {
  ASSERT_TRUE(fs::exists("/usr/bin/python3")) << "Debian's python3 (scripts/install-deps.sh) is missing";
  const fs::path out = dir / "notebooks.out";
  const std::string command = "/usr/bin/python3 " + notebook_script(dir).string() + " " + store.string() + " >" + out.string() + " 2>&1";
  const int status = std::system(command.c_str());
  const std::string output = read_text(out);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << output;

  const auto reader = hs::store::StoreReader::open(store.string());
  const auto trace = reader->head_trace("entropy", 3, {1, 2});
  std::istringstream traced(line_after(output, "trace"));
  std::size_t length = 0;
  double value = 0;
  traced >> length >> value;
  EXPECT_EQ(length, trace.size());
  EXPECT_EQ(static_cast<float>(value), trace[4]);
  std::istringstream h5py_traced(line_after(output, "h5py trace"));
  h5py_traced >> length >> value;
  EXPECT_EQ(length, trace.size());
  EXPECT_EQ(static_cast<float>(value), trace[4]);
  EXPECT_EQ(line_after(output, "dims"), "['token', 'layer', 'head']");

  const auto summary = reader->summary("entropy");  // [sample, layer, head]
  const auto& layout = reader->layout();
  double sum = 0;
  int count = 0, level3 = 0;
  for (std::int64_t s = 0; s < reader->sample_count(); ++s) {
    const float v = summary[static_cast<std::size_t>((s * layout.layer_count + 1) * layout.head_count + 2)];
    if (!std::isnan(v)) sum += v, ++count;
    level3 += reader->sample(s).facts.level == 3;
  }
  std::istringstream grid(line_after(output, "grid"));
  int layers = 0, heads = 0;
  grid >> layers >> heads >> value;
  EXPECT_EQ(layers, layout.layer_count);
  EXPECT_EQ(heads, layout.head_count);
  EXPECT_NEAR(value, sum / count, 1e-5);
  const std::string samples = line_after(output, "level 3 samples");
  EXPECT_EQ(samples.substr(0, samples.find(' ')), std::to_string(level3));
  EXPECT_NE(samples.find("'sample-2'"), std::string::npos) << samples;  // ids as str: levels 1 + i % 5
  EXPECT_EQ(line_after(output, "h5py level 3 samples").substr(0, 1), std::to_string(level3));
}

}  // namespace

TEST(StoreNotebooks, DocsPythonReadsAStoreWithNamedDimensions) {
  const auto dir = hs::test::temp_dir();
  hs::test::write_samples((dir / "single.h5").string(), 0, 10, 0, 0);
  expect_notebook_reads(dir / "single.h5", dir);
}

TEST(StoreNotebooks, DocsPythonReadsAMasterOfShardsTheSameWay) {
  const auto dir = hs::test::temp_dir();
  const auto shards = hs::test::shard_paths(dir, 2);
  hs::test::write_samples(shards[0], 0, 4, 0, 2);
  hs::test::write_samples(shards[1], 4, 10, 1, 2);
  hs::store::build_master((dir / "run.h5").string(), shards, "merge");
  expect_notebook_reads(dir / "run.h5", dir);
}

// Every group of every file kind (capture store with /analysis, master, sweep, ib) opens in xarray with named
// dimensions: no array without a dimension scale (xarray refuses those unless told to invent names).
TEST(StoreNotebooks, EveryGroupOfEveryFileKindOpensInXarray) {
  const auto dir = hs::test::temp_dir();
  const fs::path store = dir / "run.h5";
  hs::test::write_samples(store.string(), 0, 3, 0, 0);
  hs::store::AnalysisGroup analysis;
  analysis.sample_count = 3;
  analysis.layer_count = 2;
  analysis.head_count = 3;
  analysis.heartbeats.present = true;
  analysis.heartbeats.definition = "debounced";
  analysis.heartbeats.counts = {0, 1, 2};
  analysis.heartbeats.telegraph_ranking = {{1, 0}};
  analysis.heartbeats.telegraph_score = {0.9};
  analysis.phase0.present = true;  // Spectra's phase 0: [layer, head] correlations and the ranking
  analysis.phase0.pearson = {-0.5, 0.1, 0.2, -0.9, 0.0, 0.3};
  analysis.phase0.spearman = {-0.4, 0.1, 0.2, -0.8, 0.0, 0.3};
  analysis.phase0.pairs = {30, 30, 30, 30, 30, 30};
  analysis.phase0.ranking = {{1, 0}, {0, 0}, {1, 1}, {0, 1}, {0, 2}, {1, 2}};
  auto& flow = analysis.flow;  // K = 2, with the CODI seed's arrays ([layer, head, attending], [criterion])
  flow.present = true;
  flow.k = 2;
  flow.mean = flow.std = std::vector<float>(24, 0.25f);
  flow.flow = flow.hub_score = flow.skip = flow.composite = flow.sequential = std::vector<double>(6, 0.5);
  flow.hub_position = flow.functional_type = std::vector<std::int32_t>(6, 0);
  flow.row_max = std::vector<double>(12, 0.25);
  flow.criteria = {"max hub score", "top composite score"};
  flow.criterion_phase = {1, 2};
  flow.criterion_value = {0.1, 0.5};
  flow.criterion_threshold = {0.2, 0.6};
  flow.criterion_passed = {0, 0};
  hs::store::write_analysis_group(store.string(), analysis);
  hs::store::write_sweep_file((dir / "sweep.h5").string(), hs::test::small_sweep(), false);
  hs::store::write_ib_file((dir / "ib.h5").string(), hs::test::small_ib(store.string()));
  const auto shards = hs::test::shard_paths(dir / "sharded", 2);
  fs::create_directories(dir / "sharded");
  hs::test::write_samples(shards[0], 0, 2, 0, 2);
  hs::test::write_samples(shards[1], 2, 3, 1, 2);
  hs::store::build_master((dir / "sharded" / "run.h5").string(), shards, "merge");
  const auto script = hs::test::fixtures_dir() / ".." / "core" / "xarray_groups.py";
  for (const fs::path& file : {store, dir / "sweep.h5", dir / "ib.h5", dir / "sharded" / "run.h5"}) {
    const fs::path out = dir / "groups.out";
    const int status = std::system(("/usr/bin/python3 " + script.string() + " " + file.string() + " >" + out.string() + " 2>&1").c_str());
    const std::string output = read_text(out);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << file << ":\n" << output;
    EXPECT_EQ(output.find("phony_dim"), std::string::npos) << output;
    if (file == store) {
      EXPECT_NE(output.find("/metrics token="), std::string::npos) << output;
      EXPECT_NE(output.find("/analysis/phase0"), std::string::npos) << output;
      EXPECT_NE(output.find("/analysis/flow "), std::string::npos) << output;
    }
  }
}
