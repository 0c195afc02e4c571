// Across-sample statistics of an intervention sweep (METRICS.md, "Seed conventions": bootstrap CI): the
// samples are resampled with replacement B times (seeded; target and controls together, since they were
// measured on the same samples), each resample refits every head's gain and the target/control ratios,
// and the 2.5 / 97.5 percentiles make the 95 % intervals. A control is "flat" when its gain's interval
// contains 0. Also each condition's mean with its interval, and how far each metric moves over the sweep.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace headscope::analysis {

struct Interval {
  double low = 0, high = 0;  // NaN, NaN when it could not be formed (one sample, no finite resample)
  bool contains(double x) const { return low <= x && x <= high; }
};

// One metric's per-sample means of a sweep. A sample's mean weighs in by its token count, so a resample
// of every sample reproduces the pooled mean the sweep reports.
struct SweepSampleMeans {
  std::size_t conditions = 0, heads = 0, samples = 0;
  std::vector<double> mean;  // [condition, head, sample] mean over the sample's tokens (NaN: none)
  std::vector<double> n;     // [condition, head, sample] tokens counted
  double at(const std::vector<double>& v, std::size_t c, std::size_t h, std::size_t s) const {
    return v[(c * heads + h) * samples + s];
  }
};

struct BootstrapOptions {
  int resamples = 1000;       // B
  std::uint64_t seed = 0;
  double confidence = 0.95;   // the interval between the (1-c)/2 and (1+c)/2 percentiles
};

struct SweepBootstrap {
  int resamples = 0;                    // B as run (0: not run)
  std::uint64_t seed = 0;
  double confidence = 0.95;
  std::string note;                     // why intervals are missing, when they are
  std::vector<Interval> gain;           // [head] of the OLS gain (max attention on ln scale)
  std::vector<Interval> ratio;          // [control] target gain / that control's gain
  Interval ratio_versus_mean_control;   // target gain / mean control gain
  std::vector<std::uint8_t> control_flat;  // [control] 1 when the control's gain interval contains 0
  std::vector<Interval> condition_mean; // [condition, head] of the max-attention mean (the gain's points)
};

// max_attention: the means the gain is fitted on; scales [condition], all > 0. Heads: target first.
// Percentiles interpolate linearly between order statistics (numpy's default). Resamples whose fit or
// ratio is not finite are left out of that interval. With one sample every interval is NaN (said in
// `note`): there is no across-sample spread to resample.
SweepBootstrap bootstrap_sweep(const std::vector<double>& scales, const SweepSampleMeans& max_attention,
                               const BootstrapOptions& options = {});

// The q-quantile (0..1) of the finite values, linear between order statistics; NaN when none.
double percentile(std::vector<double> values, double q);

}  // namespace headscope::analysis
