// `headscope analyze` and `headscope heartbeats` print one heartbeat computation: on a store where the
// definitions disagree, the two commands' calibration tables and top heads are the same for
// --definition debounced and drop, and the two definitions give different tables; a bad --definition
// is refused.
#include <gtest/gtest.h>

#include "../core/heartbeat_store_data.h"
#include "cli_support.h"

using namespace headscope;

namespace {
// The heartbeat block of a command's output: from "calibration:" up to the first blank line after the
// ranking (the ranking's header and rows included).
std::string heartbeat_block(const std::string& out) {
  const auto begin = out.find("calibration:");
  if (begin == std::string::npos) return "";
  const auto ranking = out.find("most telegraph-like", begin);
  const auto end = ranking == std::string::npos ? std::string::npos : out.find("\n\n", ranking);
  std::string block = out.substr(begin, end == std::string::npos ? std::string::npos : end - begin);
  while (!block.empty() && block.back() == '\n') block.pop_back();
  return block;
}
}  // namespace

TEST(CliHeartbeats, AnalyzeAndHeartbeatsPrintTheSameCountsForBothDefinitions) {
  const std::string store = test::heartbeat_definitions_store("cli-heartbeats.h5");
  std::string blocks[2];
  int i = 0;
  for (const char* definition : {"debounced", "drop"}) {
    SCOPED_TRACE(definition);
    const auto analyzed = test::run_headscope("analyze --no-write --top 4 --definition " + std::string(definition) + " " + store);
    const auto counted = test::run_headscope("heartbeats --top 4 --definition " + std::string(definition) + " " + store);
    ASSERT_EQ(analyzed.exit_code, 0) << analyzed.err;
    ASSERT_EQ(counted.exit_code, 0) << counted.err;
    blocks[i] = heartbeat_block(analyzed.out);
    EXPECT_FALSE(blocks[i].empty()) << analyzed.out;
    EXPECT_EQ(blocks[i], heartbeat_block(counted.out));
    ++i;
  }
  EXPECT_NE(blocks[0], blocks[1]);  // L0H0 counts 1 debounced, 2 dropped
  EXPECT_NE(test::run_headscope("heartbeats --definition bogus " + store).exit_code, 0);
}
