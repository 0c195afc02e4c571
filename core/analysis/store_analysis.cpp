// analyze_store and friends (see store_analysis.h). Sections: 1. heartbeats  2. flow  3. boundaries
// 4. writing /analysis (through core/store/analysis_group.h)  5. the printed tables.
#include "core/analysis/store_analysis.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "core/analysis/attention_metrics.h"
#include "core/store/analysis_group.h"
#include "core/store/reader.h"

namespace headscope::analysis {

namespace {

struct SampleFacts {
  int level = -1;
  std::vector<int> boundaries;  // token positions where a recorded step starts
};

SampleFacts read_facts(const store::SampleInfo& info) {
  return {info.facts.level.value_or(-1), info.facts.step_starts};
}

}  // namespace

StoreAnalysis analyze_store(const store::StoreReader& reader, const StoreAnalysisOptions& options) {
  StoreAnalysis a;
  const auto& layout = reader.layout();
  a.sample_count = static_cast<int>(reader.sample_count());
  a.layer_count = layout.layer_count;
  a.head_count = layout.head_count;
  a.heartbeat_options = options.heartbeat;
  const int L = a.layer_count, H = a.head_count, S = a.sample_count;
  const int heads = L * H;

  // 1. Heartbeats on IAF over generated steps ---------------------------------------------------------
  a.heartbeat_counts.assign(static_cast<std::size_t>(S) * heads, -1);
  std::vector<double> telegraph_sum(heads, 0.0), pulse_samples(heads, 0.0), count_sum(heads, 0.0);
  int generated_samples = 0;
  std::vector<SampleFacts> facts(S);
  const bool has_iaf = reader.metric_index("iaf") >= 0;
  for (int i = 0; i < S; ++i) {
    const auto info = reader.sample(i);
    facts[i] = read_facts(info);
    a.sample_levels.push_back(facts[i].level);
    const int generated = info.token_count - info.prompt_length;
    if (!has_iaf || generated <= 0) continue;
    ++generated_samples;
    for (int layer = 0; layer < L; ++layer) {
      const auto slice = reader.layer_slice("iaf", i, layer);  // [token, head]
      for (int head = 0; head < H; ++head) {
        std::vector<double> trace(generated);
        double far = 0;
        for (int t = 0; t < generated; ++t) {
          trace[t] = slice[static_cast<std::size_t>(info.prompt_length + t) * H + head];
          if (std::isfinite(trace[t]) && std::fabs(trace[t] - options.heartbeat.threshold) >= 0.3) far += 1;
        }
        const auto result = detect_heartbeats(trace, options.heartbeat);
        const int index = layer * H + head;
        a.heartbeat_counts[static_cast<std::size_t>(i) * heads + index] = result.count;
        count_sum[index] += result.count;
        pulse_samples[index] += result.count > 0 ? 1 : 0;
        telegraph_sum[index] += far / generated;
      }
    }
  }
  a.has_generation = generated_samples > 0;
  if (a.has_generation) {
    for (int index = 0; index < heads; ++index)
      a.telegraph_ranking.push_back({index / H, index % H, count_sum[index] / generated_samples,
                                     telegraph_sum[index] / generated_samples, pulse_samples[index] / generated_samples});
    // Telegraph-like: mostly far from the threshold, and pulsing in many samples.
    std::stable_sort(a.telegraph_ranking.begin(), a.telegraph_ranking.end(), [](const auto& x, const auto& y) {
      return x.telegraph_score * x.pulse_coverage > y.telegraph_score * y.pulse_coverage;
    });
    const int top = std::min<int>(options.telegraph_heads, heads);
    std::vector<int> keys;
    std::vector<double> values;
    for (int i = 0; i < S; ++i) {
      double sum = 0;
      int n = 0;
      for (int r = 0; r < top; ++r) {
        const int count = a.heartbeat_counts[static_cast<std::size_t>(i) * heads + a.telegraph_ranking[r].layer * H +
                                             a.telegraph_ranking[r].head];
        if (count >= 0) { sum += count; ++n; }
      }
      a.sample_heartbeats.push_back(n ? sum / n : std::nan(""));
      if (n) { keys.push_back(facts[i].level); values.push_back(sum / n); }
    }
    a.calibration = group_by_key(keys, values);
  } else {
    a.notes.push_back("no generated steps in this store (teacher-forced capture): IAF and heartbeats are undefined; "
                      "capture with --generate N to measure them");
  }

  // 2. Flow ---------------------------------------------------------------------------------------------
  const int K = layout.flow_size;
  if (K > 0 && S > 0) {
    std::vector<float> all;
    all.reserve(static_cast<std::size_t>(S) * heads * K * K);
    for (int i = 0; i < S; ++i) {
      const auto flow = reader.flow(i);
      all.insert(all.end(), flow.begin(), flow.end());
    }
    a.has_flow = true;
    a.flow_average = average_flow_matrices(all.data(), S, L, H, K);
    a.flow_scores = score_flow_run(a.flow_average.mean.data(), L, H, K);
    a.composite_ranking = rank_heads(a.flow_scores, FlowScoreKind::composite);
    a.phase_criteria = flow_phase_criteria(a.flow_scores, &a.flow_average);
    a.flow_checks = check_flow_matrices(all.data(), all.size() / S, L, H, K, K);
  } else {
    a.notes.push_back("no flow matrices in this store");
  }

  // 3. Boundaries ---------------------------------------------------------------------------------------
  if (reader.metric_index("windowed_jsd") >= 0) {
    std::vector<double> f1_sum(heads, 0.0);
    std::vector<int> f1_count(heads, 0);
    for (int i = 0; i < S; ++i) {
      if (facts[i].boundaries.size() < 2) continue;
      ++a.boundary_samples;
      std::vector<int> recorded(facts[i].boundaries.begin() + 1, facts[i].boundaries.end());  // the first step has no boundary before it
      for (int layer = 0; layer < L; ++layer) {
        const auto slice = reader.layer_slice("windowed_jsd", i, layer);
        const int n = static_cast<int>(slice.size()) / H;
        for (int head = 0; head < H; ++head) {
          std::vector<double> trace(n);
          for (int t = 0; t < n; ++t) trace[t] = slice[static_cast<std::size_t>(t) * H + head];
          const auto score = score_boundaries(pick_jsd_peaks(trace, options.peaks), recorded, options.boundary_tolerance);
          if (std::isfinite(score.f1)) { f1_sum[layer * H + head] += score.f1; ++f1_count[layer * H + head]; }
        }
      }
    }
    if (a.boundary_samples > 0) {
      a.has_boundaries = true;
      a.boundary_f1.resize(heads);
      for (int index = 0; index < heads; ++index)
        a.boundary_f1[index] = f1_count[index] ? f1_sum[index] / f1_count[index] : std::nan("");
      a.boundary_ranking = rank_heads(a.boundary_f1, L, H);
      // Pooled precision/recall of the best head.
      const auto best = a.boundary_ranking.front();
      BoundaryScore pooled;
      for (int i = 0; i < S; ++i) {
        if (facts[i].boundaries.size() < 2) continue;
        std::vector<int> recorded(facts[i].boundaries.begin() + 1, facts[i].boundaries.end());
        const auto trace_f = reader.head_trace("windowed_jsd", i, {best.layer, best.head});
        const std::vector<double> trace(trace_f.begin(), trace_f.end());
        const auto score = score_boundaries(pick_jsd_peaks(trace, options.peaks), recorded, options.boundary_tolerance);
        pooled.true_positives += score.true_positives;
        pooled.predicted_count += score.predicted_count;
        pooled.recorded_count += score.recorded_count;
      }
      pooled.precision = pooled.predicted_count ? double(pooled.true_positives) / pooled.predicted_count : std::nan("");
      pooled.recall = pooled.recorded_count ? double(pooled.true_positives) / pooled.recorded_count : std::nan("");
      pooled.f1 = pooled.precision + pooled.recall > 0 ? 2 * pooled.precision * pooled.recall / (pooled.precision + pooled.recall) : 0;
      a.best_head_boundaries = pooled;
    }
  }
  if (!a.has_boundaries) a.notes.push_back("no recorded step spans in the samples' metadata: boundary precision/recall not computed");
  return a;
}

// 4. Writing ---------------------------------------------------------------------------------------------
void write_store_analysis(const std::string& path, const StoreAnalysis& a, const StoreAnalysisOptions& options) {
  store::AnalysisGroup g;
  g.sample_count = a.sample_count;
  g.layer_count = a.layer_count;
  g.head_count = a.head_count;
  if (a.has_generation) {
    auto& h = g.heartbeats;
    h.present = true;
    h.definition = heartbeat_definition_name(options.heartbeat.definition);
    h.threshold = options.heartbeat.threshold;
    h.min_run = options.heartbeat.min_run;
    h.telegraph_heads = options.telegraph_heads;
    h.counts.assign(a.heartbeat_counts.begin(), a.heartbeat_counts.end());
    for (const auto& head : a.telegraph_ranking) {
      h.telegraph_ranking.push_back({head.layer, head.head});
      h.telegraph_score.push_back(head.telegraph_score);
    }
    for (const auto& row : a.calibration) {
      h.calibration_level.push_back(row.key);
      h.calibration_mean.push_back(row.mean);
      h.calibration_std.push_back(row.std);
      h.calibration_samples.push_back(row.count);
    }
  }
  if (a.has_flow) {
    auto& f = g.flow;
    f.present = true;
    f.k = a.flow_average.k;
    f.mean = a.flow_average.mean;
    f.std = a.flow_average.std;
    for (const auto& s : a.flow_scores.heads) {
      f.flow.push_back(s.flow);
      f.hub_score.push_back(s.hub_score);
      f.skip.push_back(s.skip);
      f.composite.push_back(s.composite);
      f.hub_position.push_back(s.hub_position);
    }
    const auto& n = a.flow_scores.normalization;
    f.normalization = std::string(FlowNormalization::kDescription) + "; hub range [" + std::to_string(n.hub_min) + ", " +
                      std::to_string(n.hub_max) + "], skip range [" + std::to_string(n.skip_min) + ", " +
                      std::to_string(n.skip_max) + "]";
  }
  if (a.has_boundaries) {
    auto& b = g.boundaries;
    b.present = true;
    b.tolerance_tokens = options.boundary_tolerance;
    b.peak_rule = std::string("local maxima of windowed JSD >= mean + z*std, min separation; z=") + std::to_string(options.peaks.z) +
                  ", separation=" + std::to_string(options.peaks.min_separation);
    b.f1 = a.boundary_f1;
  }
  store::write_analysis_group(path, g);
}

// 5. Tables ----------------------------------------------------------------------------------------------
std::string format_store_analysis(const StoreAnalysis& a, int top) {
  std::ostringstream out;
  char line[256];
  out << a.sample_count << " samples, " << a.layer_count << " layers x " << a.head_count << " heads\n";
  if (a.has_generation) {
    out << "\ncalibration: mean heartbeats per sample by level (top " << std::min<int>(10, a.telegraph_ranking.size())
        << " telegraph heads, "
        << (a.heartbeat_options.definition == HeartbeatDefinition::debounced ? "debounced" : "short runs dropped")
        << ", threshold " << a.heartbeat_options.threshold << ", min run " << a.heartbeat_options.min_run
        << ")\n  level  mean_heartbeats    std  samples\n";
    for (const auto& g : a.calibration) {
      std::snprintf(line, sizeof line, "  %5d  %15.2f  %5.2f  %7d\n", g.key, g.mean, g.std, g.count);
      out << line;
    }
    out << "\nmost telegraph-like IAF heads\n  head     telegraph  heartbeats/sample  samples_with_pulses\n";
    for (int r = 0; r < std::min<int>(top, a.telegraph_ranking.size()); ++r) {
      const auto& h = a.telegraph_ranking[r];
      std::snprintf(line, sizeof line, "  L%dH%-4d  %9.3f  %17.2f  %19.2f\n", h.layer, h.head, h.telegraph_score, h.mean_count, h.pulse_coverage);
      out << line;
    }
  }
  if (a.has_flow) {
    out << "\ntop heads by flow composite (" << a.flow_average.k << "x" << a.flow_average.k << ", averaged over samples)\n"
        << "  rank  head     composite   flow    hub  hub_pos   skip\n";
    for (int r = 0; r < std::min<int>(top, a.composite_ranking.size()); ++r) {
      const auto& h = a.composite_ranking[r];
      const auto& s = a.flow_scores.heads[h.layer * a.head_count + h.head];
      std::snprintf(line, sizeof line, "  %4d  L%dH%-4d  %9.3f  %5.3f  %5.3f  %7d  %5.3f\n", h.rank, h.layer, h.head, s.composite, s.flow,
                    s.hub_score, s.hub_position, s.skip);
      out << line;
    }
    out << "phase criteria (earlier pipeline):\n";
    for (const auto& c : a.phase_criteria) {
      std::snprintf(line, sizeof line, "  [%s] %s: %.3f (threshold %.3f)\n", c.passed ? "pass" : "fail", c.name.c_str(), c.value, c.threshold);
      out << line;
    }
  }
  if (a.has_boundaries) {
    const auto& best = a.boundary_ranking.front();
    std::snprintf(line, sizeof line,
                  "\nstep boundaries (%d samples with recorded spans): best head L%dH%d, precision %.2f, recall %.2f, F1 %.2f\n",
                  a.boundary_samples, best.layer, best.head, a.best_head_boundaries.precision, a.best_head_boundaries.recall,
                  a.best_head_boundaries.f1);
    out << line << "  rank  head     mean_F1\n";
    for (int r = 0; r < std::min<int>(5, a.boundary_ranking.size()); ++r) {
      std::snprintf(line, sizeof line, "  %4d  L%dH%-4d  %7.3f\n", a.boundary_ranking[r].rank, a.boundary_ranking[r].layer,
                    a.boundary_ranking[r].head, a.boundary_ranking[r].value);
      out << line;
    }
  }
  for (const auto& note : a.notes) out << "note: " << note << "\n";
  return out.str();
}

}  // namespace headscope::analysis
