// Phase 0 (see phase0.h): Pearson and Spearman correlations of query norm with entropy per head, their
// ranking, and the store's copy of them.
#include "core/analysis/phase0.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <numeric>
#include <sstream>
#include <stdexcept>

#include "core/store/reader.h"

namespace headscope::analysis {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

double pearson_of(const std::vector<double>& x, const std::vector<double>& y) {
  const std::size_t n = x.size();
  if (n < 2) return kNaN;
  const double mean_x = std::accumulate(x.begin(), x.end(), 0.0) / static_cast<double>(n);
  const double mean_y = std::accumulate(y.begin(), y.end(), 0.0) / static_cast<double>(n);
  double xy = 0, xx = 0, yy = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double dx = x[i] - mean_x, dy = y[i] - mean_y;
    xy += dx * dy;
    xx += dx * dx;
    yy += dy * dy;
  }
  if (xx <= 0 || yy <= 0) return kNaN;
  return std::clamp(xy / std::sqrt(xx * yy), -1.0, 1.0);
}

}  // namespace

std::vector<double> average_ranks(const std::vector<double>& values) {
  std::vector<std::size_t> order(values.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return values[a] < values[b]; });
  std::vector<double> ranks(values.size());
  for (std::size_t begin = 0; begin < order.size();) {
    std::size_t end = begin + 1;
    while (end < order.size() && values[order[end]] == values[order[begin]]) ++end;
    const double rank = (static_cast<double>(begin + 1) + static_cast<double>(end)) / 2.0;  // mean of begin+1..end
    for (std::size_t i = begin; i < end; ++i) ranks[order[i]] = rank;
    begin = end;
  }
  return ranks;
}

Correlation correlate(const std::vector<double>& x, const std::vector<double>& y) {
  std::vector<double> finite_x, finite_y;
  for (std::size_t i = 0; i < std::min(x.size(), y.size()); ++i)
    if (std::isfinite(x[i]) && std::isfinite(y[i])) {
      finite_x.push_back(x[i]);
      finite_y.push_back(y[i]);
    }
  Correlation c;
  c.pairs = static_cast<std::int64_t>(finite_x.size());
  c.pearson = pearson_of(finite_x, finite_y);
  c.spearman = pearson_of(average_ranks(finite_x), average_ranks(finite_y));
  return c;
}

std::vector<store::HeadRef> phase0_ranking(const store::Phase0Group& p, int head_count) {
  std::vector<std::size_t> order;
  for (std::size_t i = 0; i < p.pearson.size(); ++i)
    if (std::isfinite(p.pearson[i])) order.push_back(i);
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return p.pearson[a] < p.pearson[b]; });
  std::vector<store::HeadRef> ranking;
  for (std::size_t i : order) ranking.push_back({static_cast<int>(i) / head_count, static_cast<int>(i) % head_count});
  return ranking;
}

store::Phase0Group phase0_correlations(const store::StoreReader& reader) {
  store::Phase0Group p;
  if (reader.metric_index("query_norm") < 0 || reader.metric_index("entropy") < 0) return p;
  const auto& layout = reader.layout();
  const int L = layout.layer_count, H = layout.head_count;
  const std::int64_t S = reader.sample_count();
  p.present = true;
  p.pearson.assign(static_cast<std::size_t>(L) * H, kNaN);
  p.spearman.assign(p.pearson.size(), kNaN);
  p.pairs.assign(p.pearson.size(), 0);
  for (int layer = 0; layer < L; ++layer) {
    std::vector<std::vector<double>> norms(H), entropies(H);  // [head][token of every sample]
    for (std::int64_t sample = 0; sample < S; ++sample) {
      const auto norm_slice = reader.layer_slice("query_norm", sample, layer);  // [token, head]
      const auto entropy_slice = reader.layer_slice("entropy", sample, layer);
      for (std::size_t i = 0; i < norm_slice.size(); ++i) {
        norms[i % H].push_back(norm_slice[i]);
        entropies[i % H].push_back(entropy_slice[i]);
      }
    }
    for (int head = 0; head < H; ++head) {
      const Correlation c = correlate(norms[head], entropies[head]);
      const std::size_t index = static_cast<std::size_t>(layer) * H + head;
      p.pearson[index] = c.pearson;
      p.spearman[index] = c.spearman;
      p.pairs[index] = c.pairs;
    }
  }
  p.ranking = phase0_ranking(p, H);
  return p;
}

Phase0Target phase0_target(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec))
    throw std::runtime_error(path + ": no such capture store (phase0:STORE takes its target from a capture store's phase 0)");
  const store::AnalysisGroup stored = store::read_analysis_group(path);
  Phase0Target target;
  store::Phase0Group p = stored.phase0;
  int head_count = stored.head_count;
  target.from_analysis = p.present;
  if (!p.present) {
    const auto reader = store::StoreReader::open(path);
    p = phase0_correlations(*reader);
    head_count = reader->layout().head_count;
    if (!p.present) throw std::runtime_error(path + ": phase 0 needs the query_norm and entropy metrics, which this store lacks");
  }
  if (p.ranking.empty()) throw std::runtime_error(path + ": phase 0 ranks no head (no head has two finite query-norm/entropy pairs with variance)");
  target.head = p.ranking.front();
  const std::size_t index = static_cast<std::size_t>(target.head.layer) * head_count + target.head.head;
  target.pearson = p.pearson[index];
  target.spearman = p.spearman[index];
  target.pairs = p.pairs[index];
  return target;
}

std::optional<std::string> phase0_target_store(const std::string& target) {
  const std::string prefix = kPhase0TargetPrefix;
  if (target.rfind(prefix, 0) != 0) return std::nullopt;
  return target.substr(prefix.size());
}

std::string describe_phase0_target(const Phase0Target& target, const std::string& path) {
  char numbers[160];
  std::snprintf(numbers, sizeof numbers, " (r = %.4f, Spearman %.4f, n = %lld; ", target.pearson, target.spearman,
                static_cast<long long>(target.pairs));
  return store::head_name(target.head) + " from phase 0 of " + path + numbers +
         (target.from_analysis ? "its /analysis/phase0)" : "computed from its arrays)");
}

std::string format_phase0(const store::Phase0Group& p, int head_count, int top) {
  std::ostringstream out;
  out << "phase 0: heads by Pearson r of query norm vs entropy over tokens (most negative first)\n"
      << "  head      pearson_r  spearman       n\n";
  for (std::size_t rank = 0; rank < p.ranking.size() && static_cast<int>(rank) < top; ++rank) {
    const store::HeadRef head = p.ranking[rank];
    const std::size_t index = static_cast<std::size_t>(head.layer) * head_count + head.head;
    char line[128];
    std::snprintf(line, sizeof line, "  %-8s %10.4f %9.4f %7lld\n", store::head_name(head).c_str(), p.pearson[index],
                  p.spearman[index], static_cast<long long>(p.pairs[index]));
    out << line;
  }
  if (p.ranking.empty()) out << "  (no head has two finite pairs with variance on both sides)\n";
  return out.str();
}

}  // namespace headscope::analysis
