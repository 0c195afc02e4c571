// Model-level traces and their comparison (see model_trace.h).
#include "core/analysis/model_trace.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <sstream>
#include <stdexcept>

#include "core/store/reader.h"

namespace headscope::analysis {

std::vector<float> mean_over_heads(const std::vector<std::vector<float>>& layer_slices, int head_count) {
  if (layer_slices.empty() || head_count <= 0) return {};
  const std::size_t tokens = layer_slices.front().size() / static_cast<std::size_t>(head_count);
  std::vector<double> sum(tokens, 0.0);
  std::vector<int> count(tokens, 0);
  for (const auto& slice : layer_slices)
    for (std::size_t t = 0; t < tokens; ++t)
      for (int h = 0; h < head_count; ++h) {
        const float v = slice[t * static_cast<std::size_t>(head_count) + static_cast<std::size_t>(h)];
        if (std::isfinite(v)) { sum[t] += v; ++count[t]; }
      }
  std::vector<float> out(tokens);
  for (std::size_t t = 0; t < tokens; ++t) out[t] = count[t] ? static_cast<float>(sum[t] / count[t]) : std::nanf("");
  return out;
}

std::vector<float> model_level_trace(const store::StoreReader& reader, std::int64_t sample, const std::string& metric) {
  if (reader.metric_index(metric) < 0) throw std::runtime_error(reader.path() + ": the store has no " + metric + " metric");
  std::vector<std::vector<float>> slices;
  for (int layer = 0; layer < reader.layout().layer_count; ++layer) slices.push_back(reader.layer_slice(metric, sample, layer));
  return mean_over_heads(slices, reader.layout().head_count);
}

namespace {

struct Moments {
  double n = 0, sa = 0, sb = 0, saa = 0, sbb = 0, sab = 0, abs_diff = 0;
  void add(double a, double b) {
    n += 1; sa += a; sb += b; saa += a * a; sbb += b * b; sab += a * b; abs_diff += std::fabs(a - b);
  }
  double pearson() const {
    if (n < 3) return std::nan("");
    const double va = saa - sa * sa / n, vb = sbb - sb * sb / n;
    return va > 0 && vb > 0 ? (sab - sa * sb / n) / std::sqrt(va * vb) : std::nan("");
  }
};

// Calls add(a, b) for each pair of finite values of the two traces aligned at their last token.
template <typename Add>
void for_aligned(const std::vector<float>& ta, const std::vector<float>& tb, Add&& add) {
  const std::size_t overlap = std::min(ta.size(), tb.size());
  for (std::size_t k = overlap; k >= 1; --k) {  // in step order, ending at the last token
    const float va = ta[ta.size() - k], vb = tb[tb.size() - k];
    if (std::isfinite(va) && std::isfinite(vb)) add(va, vb);
  }
}

}  // namespace

TraceComparisonRow compare_trace_pair(const std::vector<float>& ta, const std::vector<float>& tb) {
  TraceComparisonRow row;
  row.tokens_a = static_cast<int>(ta.size());
  row.tokens_b = static_cast<int>(tb.size());
  Moments m;
  for_aligned(ta, tb, [&](double va, double vb) { m.add(va, vb); });
  row.compared = static_cast<int>(m.n);
  row.mean_a = m.n ? m.sa / m.n : std::nan("");
  row.mean_b = m.n ? m.sb / m.n : std::nan("");
  row.pearson = m.pearson();
  row.mean_abs_difference = m.n ? m.abs_diff / m.n : std::nan("");
  return row;
}

TraceComparison compare_model_traces(const store::StoreReader& a, const store::StoreReader& b, const std::string& metric) {
  TraceComparison result;
  result.metric = metric;
  std::map<std::string, std::int64_t> b_by_id;
  for (std::int64_t i = 0; i < b.sample_count(); ++i) b_by_id.emplace(b.sample(i).id, i);
  std::vector<std::pair<std::int64_t, std::int64_t>> pairs;
  for (std::int64_t i = 0; i < a.sample_count(); ++i) {
    const auto found = b_by_id.find(a.sample(i).id);
    if (found != b_by_id.end()) pairs.emplace_back(i, found->second);
  }
  if (pairs.empty()) {
    result.matched_by_id = false;
    for (std::int64_t i = 0; i < std::min(a.sample_count(), b.sample_count()); ++i) pairs.emplace_back(i, i);
  }
  Moments pooled;
  for (const auto& [ia, ib] : pairs) {
    const auto ta = model_level_trace(a, ia, metric), tb = model_level_trace(b, ib, metric);
    TraceComparisonRow row = compare_trace_pair(ta, tb);
    row.id = result.matched_by_id ? a.sample(ia).id : "#" + std::to_string(ia);
    for_aligned(ta, tb, [&](double va, double vb) { pooled.add(va, vb); });
    result.rows.push_back(row);
  }
  result.mean_a = pooled.n ? pooled.sa / pooled.n : std::nan("");
  result.mean_b = pooled.n ? pooled.sb / pooled.n : std::nan("");
  result.pooled_pearson = pooled.pearson();
  return result;
}

std::string format_trace_comparison(const TraceComparison& c, int rows) {
  std::ostringstream out;
  char line[256];
  out << "model-level " << c.metric << " trace (mean over layers and heads), " << c.rows.size() << " sample pairs "
      << (c.matched_by_id ? "matched by id" : "paired by position (no ids in common)") << ", aligned at the last token\n";
  std::snprintf(line, sizeof line, "all compared steps: mean A %.4f, mean B %.4f, Pearson r %.3f\n", c.mean_a, c.mean_b, c.pooled_pearson);
  out << line << "  sample                 tokens_A  tokens_B  compared   mean_A   mean_B  pearson  mean_|A-B|\n";
  for (int r = 0; r < std::min<int>(rows, static_cast<int>(c.rows.size())); ++r) {
    const auto& row = c.rows[static_cast<std::size_t>(r)];
    std::snprintf(line, sizeof line, "  %-22.22s  %8d  %8d  %8d  %7.4f  %7.4f  %7.3f  %10.4f\n", row.id.c_str(), row.tokens_a,
                  row.tokens_b, row.compared, row.mean_a, row.mean_b, row.pearson, row.mean_abs_difference);
    out << line;
  }
  return out.str();
}

}  // namespace headscope::analysis
