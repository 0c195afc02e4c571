// `headscope import` end to end: the committed samples of every format import through the executable,
// `headscope inspect` describes the result as an import with what it lacks, and a failing import exits
// non-zero with the file and line on stderr and no output file left.
#include <filesystem>
#include <fstream>
#include <string>

#include "cli_support.h"

namespace {

std::filesystem::path samples() { return headscope::test::fixtures_dir() / ".." / ".." / "samples" / "imports"; }

}  // namespace

TEST(CliImport, EveryFormatImportsAndInspects) {
  HEADSCOPE_REQUIRE_PATH(samples());
  const auto dir = headscope::test::temp_dir();
  for (const std::string format : {"jsd", "iaf", "csv", "flow"}) {
    const auto out = (dir / (format + ".h5")).string();
    auto result = headscope::test::run_headscope("import " + format + " " + (samples() / format).string() + " --out " + out);
    ASSERT_EQ(result.exit_code, 0) << result.err;
    EXPECT_NE(result.out.find("imported " + format + " -> " + out), std::string::npos) << result.out;
    result = headscope::test::run_headscope("inspect " + out);
    ASSERT_EQ(result.exit_code, 0) << result.err;
    EXPECT_NE(result.out.find("kind         import"), std::string::npos) << result.out;
    EXPECT_NE(result.out.find("imported     " + format), std::string::npos) << result.out;
    EXPECT_NE(result.out.find("missing"), std::string::npos) << result.out;
    EXPECT_NE(result.out.find("model        unknown"), std::string::npos) << result.out;
  }
}

TEST(CliImport, FailureExitsNonZeroAndLeavesNothing) {
  const auto dir = headscope::test::temp_dir();
  const auto bad = (dir / "bad.csv").string();
  std::ofstream(bad) << "sample_id,layer,head,token_pos,query_norm,entropy,max_attn,k_eff\na,0,0,0,1,x,1,1\n";
  const auto out = (dir / "out.h5").string();
  const auto result = headscope::test::run_headscope("import csv " + bad + " --out " + out);
  EXPECT_NE(result.exit_code, 0);
  EXPECT_NE(result.err.find(bad + ": line 2"), std::string::npos) << result.err;
  EXPECT_FALSE(std::filesystem::exists(out));
  EXPECT_FALSE(std::filesystem::exists(out + ".partial"));
}
