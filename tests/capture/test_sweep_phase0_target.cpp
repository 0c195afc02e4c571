// `headscope sweep --target phase0:STORE` end to end: a capture of the hf-reference Llama, then a sweep
// whose target is the head that the store's phase 0 ranks first — computed from its arrays before
// `analyze`, read from /analysis/phase0 after — printed with its r; a store that is not there is an error
// that writes no sweep file.
#include <gtest/gtest.h>

#include <fstream>

#include "../app/cli_support.h"
#include "core/analysis/phase0.h"
#include "test_support.h"

namespace fs = std::filesystem;
using headscope::test::run_headscope;

TEST(SweepPhase0Target, TakesTheMostNegativeHeadOfTheStore) {
  const fs::path dir = headscope::test::temp_dir();
  const std::string model = (headscope::test::fixtures_dir() / "hf-reference" / "llama").string();
  const std::string prompts = (dir / "prompts.jsonl").string();
  std::ofstream(prompts) << "{\"id\": \"a\", \"ids\": [5, 9, 2, 7, 30, 31, 32, 4, 8, 15]}\n"
                         << "{\"id\": \"b\", \"ids\": [4, 8, 15, 16, 23, 42, 11, 3, 9, 27]}\n";
  const std::string store = (dir / "run.h5").string();
  const auto capture = run_headscope("capture --model " + model + " --prompts " + prompts + " --attention pre-rope --threads 1 --out " + store);
  ASSERT_EQ(capture.exit_code, 0) << capture.err;
  const auto expected = headscope::analysis::phase0_target(store);
  const std::string head = headscope::store::head_name(expected.head);
  auto sweep = [&](const std::string& target, const std::string& out) {
    return run_headscope("sweep --model " + model + " --prompts " + prompts + " --max-samples 1 --threads 1 --scales 0.5,1 --target " +
                         target + " --controls 0:0 --out " + (dir / out).string());
  };
  const auto computed = sweep("phase0:" + store, "computed.h5");
  ASSERT_EQ(computed.exit_code, 0) << computed.err;
  EXPECT_NE(computed.out.find("target: " + head + " from phase 0"), std::string::npos) << computed.out;
  EXPECT_NE(computed.out.find("computed from its arrays"), std::string::npos) << computed.out;
  EXPECT_NE(computed.out.find("target " + head), std::string::npos) << computed.out;
  ASSERT_EQ(run_headscope("analyze " + store).exit_code, 0);
  const auto stored = sweep("phase0:" + store, "stored.h5");
  ASSERT_EQ(stored.exit_code, 0) << stored.err;
  EXPECT_NE(stored.out.find("target: " + head + " from phase 0"), std::string::npos) << stored.out;
  EXPECT_NE(stored.out.find("its /analysis/phase0"), std::string::npos) << stored.out;
  const auto missing = sweep("phase0:" + (dir / "nowhere.h5").string(), "missing.h5");
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_FALSE(fs::exists(dir / "missing.h5"));
}
