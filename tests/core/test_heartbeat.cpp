// Heartbeat detection against the METRICS.md table (both definitions), NaN handling and pulse positions.
#include <cmath>
#include <vector>

#include <gtest/gtest.h>

#include "core/analysis/heartbeat.h"

namespace ha = headscope::analysis;

namespace {
std::vector<double> repeat(double value, int count) { return std::vector<double>(static_cast<std::size_t>(count), value); }
std::vector<double> concat(std::initializer_list<std::vector<double>> parts) {
  std::vector<double> all;
  for (const auto& part : parts) all.insert(all.end(), part.begin(), part.end());
  return all;
}
int count(const std::vector<double>& trace, ha::HeartbeatDefinition definition) {
  ha::HeartbeatOptions options;
  options.definition = definition;
  return ha::detect_heartbeats(trace, options).count;
}
constexpr auto kDrop = ha::HeartbeatDefinition::drop;
constexpr auto kDebounced = ha::HeartbeatDefinition::debounced;
}  // namespace

TEST(Heartbeat, MetricsTable) {
  const auto first = concat({{.9, .9}, repeat(.1, 7), {.9}, repeat(.1, 7), {.9, .9}});
  EXPECT_EQ(count(first, kDrop), 2);
  EXPECT_EQ(count(first, kDebounced), 1);
  const auto second = concat({repeat(.1, 5), repeat(.9, 5), repeat(.1, 5)});
  EXPECT_EQ(count(second, kDrop), 2);
  EXPECT_EQ(count(second, kDebounced), 2);
  const auto third = concat({repeat(.9, 5), repeat(.5, 5), repeat(.49, 5)});
  EXPECT_EQ(count(third, kDrop), 1);
  EXPECT_EQ(count(third, kDebounced), 1);
}

TEST(Heartbeat, DefaultIsDebouncedAndRecorded) {
  const auto result = ha::detect_heartbeats(concat({repeat(.1, 5), repeat(.9, 5), repeat(.1, 5)}));
  EXPECT_EQ(result.definition, kDebounced);
  EXPECT_STREQ(ha::heartbeat_definition_name(result.definition), "debounced");
  EXPECT_EQ(result.threshold, 0.5);
  EXPECT_EQ(result.min_run, 5);
  ASSERT_EQ(result.pulses.size(), 2u);
  EXPECT_EQ(result.pulses[0].begin, 0);
  EXPECT_EQ(result.pulses[0].end, 5);
  EXPECT_EQ(result.pulses[1].begin, 10);
  EXPECT_EQ(result.pulses[1].end, 15);
}

TEST(Heartbeat, PulsePositions) {
  const auto trace = concat({{.9, .9}, repeat(.1, 7), {.9}, repeat(.1, 7), {.9, .9}});
  ha::HeartbeatOptions drop;
  drop.definition = kDrop;
  const auto dropped = ha::detect_heartbeats(trace, drop);
  ASSERT_EQ(dropped.count, 2);
  EXPECT_EQ(dropped.pulses[0].begin, 2);
  EXPECT_EQ(dropped.pulses[0].end, 9);
  EXPECT_EQ(dropped.pulses[1].begin, 10);
  EXPECT_EQ(dropped.pulses[1].end, 17);
  const auto debounced = ha::detect_heartbeats(trace);  // the initial (low) state holds from step 0
  ASSERT_EQ(debounced.count, 1);
  EXPECT_EQ(debounced.pulses[0].begin, 0);
  EXPECT_EQ(debounced.pulses[0].end, 19);
}

TEST(Heartbeat, MissingValuesCountAsHalf) {
  const double nan = std::nan("");
  // A NaN inside a low run is 0.5, i.e. high: it splits the run under `drop`.
  const auto trace = concat({repeat(.1, 5), {nan}, repeat(.1, 5)});
  EXPECT_EQ(count(trace, kDrop), 2);
  EXPECT_EQ(count(trace, kDebounced), 1);  // a one-step high blip is absorbed
  EXPECT_EQ(count(repeat(nan, 10), kDrop), 0);
  ha::HeartbeatOptions low_missing;
  low_missing.missing_value = 0.0;
  low_missing.definition = kDrop;
  EXPECT_EQ(ha::detect_heartbeats(trace, low_missing).count, 1);
}

TEST(Heartbeat, ConfigurableAndDegenerate) {
  EXPECT_EQ(count({}, kDebounced), 0);
  EXPECT_EQ(count(repeat(.1, 4), kDebounced), 0);  // no run reaches L: no initial state
  EXPECT_EQ(count(repeat(.1, 4), kDrop), 0);
  ha::HeartbeatOptions short_runs;
  short_runs.min_run = 2;
  short_runs.threshold = 0.3;
  EXPECT_EQ(ha::detect_heartbeats({.2, .2, .4, .4, .2, .2}, short_runs).count, 2);
  const std::vector<float> floats = {.1f, .1f, .1f, .1f, .1f, .9f};
  EXPECT_EQ(ha::detect_heartbeats(floats.data(), 6).count, 1);
}
