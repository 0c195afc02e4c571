// analyze_store and friends (see store_analysis.h). Sections: 1. heartbeats  2. flow  3. boundaries
// 4. writing /analysis (through core/store/analysis_group.h)  5. the printed tables.
#include "core/analysis/store_analysis.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "core/analysis/attention_metrics.h"
#include "core/analysis/boundary_chance.h"
#include "core/analysis/flow_report.h"
#include "core/store/analysis_group.h"
#include "core/store/reader.h"

namespace headscope::analysis {

namespace {

struct SampleFacts {
  int level = -1;
  std::vector<int> step_starts;  // token positions where a step starts (facts.h boundary_step_starts)
};

SampleFacts read_facts(const store::SampleInfo& info) {
  return {info.facts.level.value_or(-1), info.facts.boundary_step_starts()};
}

// The boundaries a sample records: its step starts but the first, which has no boundary before it.
std::vector<int> recorded_boundaries(const SampleFacts& facts) {
  if (facts.step_starts.size() < 2) return {};
  return {facts.step_starts.begin() + 1, facts.step_starts.end()};
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

  // 1. Heartbeats on IAF over generated steps (heartbeat_run.h) ------------------------------------------
  std::vector<SampleFacts> facts(S);
  for (int i = 0; i < S; ++i) {
    facts[i] = read_facts(reader.sample(i));
    a.sample_levels.push_back(facts[i].level);
  }
  a.heartbeats = compute_heartbeat_run(reader, options.heartbeat, options.telegraph_heads);
  const HeartbeatRun& run = a.heartbeats;
  a.has_generation = run.has_generation();
  a.heartbeat_counts = run.counts;
  if (a.has_generation) {
    a.telegraph_ranking = run.ranking;
    a.sample_heartbeats = run.sample_top_mean;
    a.calibration = run.calibration();
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
    a.phase_criteria = seed_phase_criteria(a.flow_scores, &a.flow_average);
    a.flow_checks = check_flow_matrices(all.data(), all.size() / S, L, H, K, K);
  } else {
    a.notes.push_back("no flow matrices in this store");
  }

  // 3. Boundaries: per head and for the model-level trace (the mean over heads), windowed-JSD peaks
  // against the recorded step starts, with the chance baseline (boundary_chance.h); and the top telegraph
  // head's heartbeat pulse starts against the same starts.
  if (reader.metric_index("windowed_jsd") >= 0) {
    std::vector<double> f1_sum(heads, 0.0);
    std::vector<int> f1_count(heads, 0);
    std::vector<std::vector<BoundaryCase>> cases(heads);
    std::vector<BoundaryCase> model_cases, pulse_cases;
    for (int i = 0; i < S; ++i) {
      const std::vector<int> recorded = recorded_boundaries(facts[i]);
      if (recorded.empty()) continue;
      ++a.boundary_samples;
      std::vector<double> model_trace;
      for (int layer = 0; layer < L; ++layer) {
        const auto slice = reader.layer_slice("windowed_jsd", i, layer);  // [token, head]
        const int n = static_cast<int>(slice.size()) / H;
        model_trace.resize(static_cast<std::size_t>(n), 0.0);
        for (int head = 0; head < H; ++head) {
          std::vector<double> trace(n);
          for (int t = 0; t < n; ++t) trace[t] = slice[static_cast<std::size_t>(t) * H + head];
          for (int t = 0; t < n; ++t) model_trace[static_cast<std::size_t>(t)] += trace[t] / heads;
          BoundaryCase c{pick_jsd_peaks(trace, options.peaks), recorded, finite_positions(trace)};
          const auto score = score_boundaries(c.predicted, recorded, options.boundary_tolerance);
          if (std::isfinite(score.f1)) { f1_sum[layer * H + head] += score.f1; ++f1_count[layer * H + head]; }
          cases[static_cast<std::size_t>(layer * H + head)].push_back(std::move(c));
        }
      }
      model_cases.push_back({pick_jsd_peaks(model_trace, options.peaks), recorded, finite_positions(model_trace)});
      if (a.has_generation && a.heartbeats.steps[static_cast<std::size_t>(i)] > 0) {
        const auto& top = a.heartbeats.ranking.front();
        const auto info = reader.sample(i);
        const int steps = a.heartbeats.steps[static_cast<std::size_t>(i)];
        const auto iaf = reader.head_trace("iaf", i, {top.layer, top.head});
        BoundaryCase c;
        c.recorded = recorded;
        for (const auto& pulse : sample_head_heartbeats(iaf.data(), info.prompt_length, steps, options.heartbeat).pulses)
          c.predicted.push_back(info.prompt_length + pulse.begin);
        for (int t = 0; t < steps; ++t) c.eligible.push_back(info.prompt_length + t);
        pulse_cases.push_back(std::move(c));
      }
    }
    if (a.boundary_samples > 0) {
      a.has_boundaries = true;
      a.boundary_f1.resize(heads);
      for (int index = 0; index < heads; ++index) {
        a.boundary_f1[index] = f1_count[index] ? f1_sum[index] / f1_count[index] : std::nan("");
        a.boundary_chance.push_back(chance_baseline(cases[static_cast<std::size_t>(index)], options.boundary_tolerance, options.chance));
      }
      a.boundary_ranking = rank_heads(a.boundary_f1, L, H);
      // Pooled precision/recall of the best head.
      const auto best = a.boundary_ranking.front();
      const auto& best_cases = cases[static_cast<std::size_t>(best.layer * H + best.head)];
      for (const auto& c : best_cases) {
        const auto score = score_boundaries(c.predicted, c.recorded, options.boundary_tolerance);
        a.best_head_boundaries.true_positives += score.true_positives;
        a.best_head_boundaries.predicted_count += score.predicted_count;
        a.best_head_boundaries.recorded_count += score.recorded_count;
      }
      const PrfTriple pooled = pooled_score(best_cases, options.boundary_tolerance);
      a.best_head_boundaries.precision = pooled.precision;
      a.best_head_boundaries.recall = pooled.recall;
      a.best_head_boundaries.f1 = pooled.f1;
      a.model_boundary_chance = chance_baseline(model_cases, options.boundary_tolerance, options.chance);
      if (!pulse_cases.empty()) {
        a.has_pulse_boundaries = true;
        a.pulse_boundary_chance = chance_baseline(pulse_cases, options.boundary_tolerance, options.chance);
      }
    }
  }
  if (!a.has_boundaries) a.notes.push_back("no recorded step spans in the samples' metadata: boundary precision/recall not computed");
  a.phase0 = phase0_correlations(reader);
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
      f.sequential.push_back(s.sequential);
      f.functional_type.push_back(s.functional_type);
    }
    f.row_max = a.flow_scores.row_max;
    f.functional_types = functional_type_codes();
    f.top_bottom = top_bottom_counts(static_cast<int>(a.flow_scores.heads.size())).describe();
    for (const auto& c : a.phase_criteria) {
      f.criteria.push_back(c.name);
      f.criterion_phase.push_back(c.phase);
      f.criterion_value.push_back(c.value);
      f.criterion_threshold.push_back(c.threshold);
      f.criterion_passed.push_back(c.passed ? 1 : 0);
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
    b.chance_draws = options.chance.draws;
    b.chance_seed = static_cast<std::int64_t>(options.chance.seed);
    const auto add = [](std::vector<double>& out, const PrfTriple& t) { out.insert(out.end(), {t.precision, t.recall, t.f1}); };
    for (const auto& c : a.boundary_chance) {
      add(b.observed, c.observed);
      add(b.chance_mean, c.chance_mean);
      add(b.chance_at_least, c.at_least_observed);
    }
    std::vector<std::pair<std::string, const ChanceBaseline*>> detectors{{"model windowed JSD", &a.model_boundary_chance}};
    if (a.has_pulse_boundaries)
      detectors.push_back({"pulse starts " + store::head_name({a.heartbeats.ranking.front().layer, a.heartbeats.ranking.front().head}),
                           &a.pulse_boundary_chance});
    for (const auto& [name, c] : detectors) {
      b.detectors.push_back(name);
      add(b.detector_observed, c->observed);
      add(b.detector_chance_mean, c->chance_mean);
      add(b.detector_chance_at_least, c->at_least_observed);
    }
  }
  g.phase0 = a.phase0;
  store::write_analysis_group(path, g);
}

// 5. Tables ----------------------------------------------------------------------------------------------
std::string format_store_analysis(const StoreAnalysis& a, int top) {
  std::ostringstream out;
  char line[256];
  out << a.sample_count << " samples, " << a.layer_count << " layers x " << a.head_count << " heads\n";
  if (a.has_generation) {
    out << "\n" << format_heartbeat_run(a.heartbeats, top);
  }
  if (a.has_flow) {
    out << "\n" << format_flow_ranking(a.flow_scores, a.composite_ranking, top);
    out << format_phase_criteria(a.phase_criteria, top_bottom_counts(static_cast<int>(a.flow_scores.heads.size())));
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
    out << "against chance (" << a.model_boundary_chance.draws
        << " draws of as many peaks at random eligible positions; pooled over samples; p = fraction of draws >= observed)\n"
        << "  detector            P obs  chance  p      R obs  chance  p      F1 obs  chance  p\n";
    const auto row = [&](const std::string& name, const ChanceBaseline& c) {
      std::snprintf(line, sizeof line, "  %-18s  %5.2f  %6.2f  %5.3f  %5.2f  %6.2f  %5.3f  %6.2f  %6.2f  %5.3f\n", name.c_str(),
                    c.observed.precision, c.chance_mean.precision, c.at_least_observed.precision, c.observed.recall,
                    c.chance_mean.recall, c.at_least_observed.recall, c.observed.f1, c.chance_mean.f1, c.at_least_observed.f1);
      out << line;
    };
    for (int r = 0; r < std::min<int>(5, a.boundary_ranking.size()); ++r) {
      const auto& h = a.boundary_ranking[r];
      row("L" + std::to_string(h.layer) + "H" + std::to_string(h.head) + " JSD peaks",
          a.boundary_chance[static_cast<std::size_t>(h.layer * a.head_count + h.head)]);
    }
    row("model JSD peaks", a.model_boundary_chance);
    if (a.has_pulse_boundaries) {
      const auto& pulse_head = a.heartbeats.ranking.front();
      row("L" + std::to_string(pulse_head.layer) + "H" + std::to_string(pulse_head.head) + " pulse starts", a.pulse_boundary_chance);
    }
  }
  if (a.phase0.present) out << "\n" << format_phase0(a.phase0, a.head_count, top);
  for (const auto& note : a.notes) out << "note: " << note << "\n";
  return out.str();
}

}  // namespace headscope::analysis
