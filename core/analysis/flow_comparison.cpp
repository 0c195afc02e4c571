// Model comparison on flow scores (see flow_comparison.h). Sections: 1. pairing the prompts  2. one
// model's summary  3. the comparison and the store-level entry point  4. the printed tables.
#include "core/analysis/flow_comparison.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <map>
#include <set>
#include <sstream>

#include "core/analysis/aggregate.h"
#include "core/store/reader.h"

namespace headscope::analysis {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// 1. Pairing the prompts --------------------------------------------------------------------------------

// The prompt's text as the prompt set gave it ("text", else "question"); empty when not recorded.
std::string prompt_text(const store::SampleInfo& sample) { return sample.facts.text; }

// Up to 40 characters of `text` from a little before `at` (where two texts part), newlines shown as \n.
std::string excerpt(const std::string& text, std::size_t at) {
  const std::size_t from = at > 12 ? at - 12 : 0;
  std::string shown = from > 0 ? "..." : "";
  for (char ch : text.substr(from, 40)) shown += ch == '\n' ? std::string("\\n") : std::string(1, ch);
  return shown + (from + 40 < text.size() ? "..." : "");
}

bool all_ids_empty(const std::vector<store::SampleInfo>& samples) {
  return std::all_of(samples.begin(), samples.end(), [](const auto& s) { return s.id.empty(); });
}

}  // namespace

FlowComparisonPlan plan_flow_comparison(const ComparedRun& a, const ComparedRun& b) {
  FlowComparisonPlan plan;
  for (const ComparedRun* run : {&a, &b}) {
    if (run->flow_size <= 0) {
      plan.error = run->label + " has no flow matrices (capture with --flow-size K to record them)";
      return plan;
    }
    if (run->samples.empty()) {
      plan.error = run->label + " has no samples yet";
      return plan;
    }
  }
  if (a.flow_size != b.flow_size) {
    plan.error = "the flow matrices differ in size: " + a.label + " has " + std::to_string(a.flow_size) + "x" +
                 std::to_string(a.flow_size) + ", " + b.label + " " + std::to_string(b.flow_size) + "x" +
                 std::to_string(b.flow_size) + "; capture both with the same --flow-size";
    return plan;
  }
  if (all_ids_empty(a.samples) && all_ids_empty(b.samples)) {
    plan.paired_by_index = true;
    const std::size_t n = std::min(a.samples.size(), b.samples.size());
    for (std::size_t i = 0; i < n; ++i) {
      plan.samples_a.push_back(static_cast<std::int64_t>(i));
      plan.samples_b.push_back(static_cast<std::int64_t>(i));
    }
    plan.notes.push_back("the samples carry no ids: paired by index");
  } else {
    std::map<std::string, std::size_t> b_position;  // id -> position in b.samples
    int duplicates = 0;
    for (std::size_t i = 0; i < b.samples.size(); ++i) duplicates += b_position.emplace(b.samples[i].id, i).second ? 0 : 1;
    std::set<std::string> seen_a;
    int text_differs = 0;
    std::string first_difference;
    for (const auto& s : a.samples) {
      if (!seen_a.insert(s.id).second) { ++duplicates; continue; }
      const auto found = b_position.find(s.id);
      if (found == b_position.end()) continue;
      const store::SampleInfo& match = b.samples[found->second];
      const std::string text_a = prompt_text(s);
      const std::string text_b = prompt_text(match);
      if (!text_a.empty() && !text_b.empty() && text_a != text_b) {
        if (text_differs++ == 0) {
          const std::size_t at = static_cast<std::size_t>(
              std::mismatch(text_a.begin(), text_a.begin() + static_cast<std::ptrdiff_t>(std::min(text_a.size(), text_b.size())), text_b.begin())
                  .first - text_a.begin());
          first_difference = "sample '" + s.id + "' reads \"" + excerpt(text_a, at) + "\" in " + a.label + " but \"" +
                             excerpt(text_b, at) + "\" in " + b.label;
        }
        continue;
      }
      plan.samples_a.push_back(s.index);
      plan.samples_b.push_back(match.index);
    }
    if (text_differs > 0) {
      plan.error = "the runs were captured on different prompt sets: " + first_difference + " (" +
                   std::to_string(text_differs) + " of the shared ids differ)";
      return plan;
    }
    if (duplicates > 0) plan.notes.push_back(std::to_string(duplicates) + " repeated sample ids: the first of each is used");
    plan.only_a = static_cast<int>(seen_a.size()) - static_cast<int>(plan.samples_a.size());
    plan.only_b = static_cast<int>(b_position.size()) - static_cast<int>(plan.samples_b.size());
  }
  if (plan.samples_a.empty()) {
    plan.error = "the runs share no prompt: " + a.label + " starts with sample '" + a.samples.front().id + "', " + b.label +
                 " with '" + b.samples.front().id + "'; capture both on the same prompt set";
    return plan;
  }
  if (plan.only_a > 0 || plan.only_b > 0)
    plan.notes.push_back("compared on the " + std::to_string(plan.samples_a.size()) + " prompts both runs have (" + a.label +
                         " has " + std::to_string(plan.only_a) + " more, " + b.label + " " + std::to_string(plan.only_b) + ")");
  const std::string select_a = a.settings.flow_select, select_b = b.settings.flow_select;
  if (select_a != select_b)
    plan.notes.push_back("the flow positions were chosen differently (" + a.label + ": " + (select_a.empty() ? "?" : select_a) +
                         ", " + b.label + ": " + (select_b.empty() ? "?" : select_b) + "): position k is not the same token");
  const std::string mode_a = a.settings.mode, mode_b = b.settings.mode;
  if (mode_a != mode_b)
    plan.notes.push_back("the capture modes differ (" + a.label + ": " + (mode_a.empty() ? "?" : mode_a) + ", " + b.label +
                         ": " + (mode_b.empty() ? "?" : mode_b) + ")");
  return plan;
}

const char* comparison_normalization_name(ComparisonNormalization normalization) {
  return normalization == ComparisonNormalization::joint ? "joint" : "per run";
}

// 2. One model's summary --------------------------------------------------------------------------------

double gini_coefficient(std::vector<double> values) {
  values.erase(std::remove_if(values.begin(), values.end(), [](double v) { return std::isnan(v); }), values.end());
  std::sort(values.begin(), values.end());
  double sum = 0, weighted = 0;
  const double n = static_cast<double>(values.size());
  for (std::size_t i = 0; i < values.size(); ++i) {
    sum += values[i];
    weighted += (2.0 * static_cast<double>(i + 1) - n - 1.0) * values[i];
  }
  return sum > 0 ? weighted / (n * sum) : kNaN;
}

namespace {

// Everything but the composites, which wait for the normalisation.
ModelFlowSummary score_side(const ComparedRun& run, const std::vector<float>& mean, int sample_count) {
  ModelFlowSummary side;
  side.label = run.label;
  side.sample_count = sample_count;
  side.layer_count = run.layer_count;
  side.head_count = run.head_count;
  side.k = run.flow_size;
  const std::size_t block = static_cast<std::size_t>(side.k) * side.k;
  if (mean.size() != static_cast<std::size_t>(side.total_heads()) * block)
    throw ComparisonError(run.label + ": expected " + std::to_string(side.total_heads() * block) + " averaged flow values, got " +
                          std::to_string(mean.size()));
  side.scores = score_flow_run(mean.data(), side.layer_count, side.head_count, side.k);
  side.matrices = mean;
  side.mean_matrix.resize(block);
  for (std::size_t c = 0; c < block; ++c)
    side.mean_matrix[c] = static_cast<float>(
        nan_stats(mean.data() + c, static_cast<std::size_t>(side.total_heads()), static_cast<std::ptrdiff_t>(block)).mean);
  return side;
}

// The statistics of the composites, once they are normalised; `std`: [layer, head, K, K] or null.
void summarize_side(ModelFlowSummary& side, const FlowComparisonOptions& options, const std::vector<float>* std) {
  const double threshold = options.composite_threshold;
  side.ranking = rank_heads(side.scores, FlowScoreKind::composite);
  side.sorted_composites.clear();
  for (const auto& r : side.ranking)
    if (!std::isnan(r.value)) side.sorted_composites.push_back(r.value);
  side.hub_counts.assign(static_cast<std::size_t>(side.k), 0);
  side.hub_counts_over_threshold.assign(static_cast<std::size_t>(side.k), 0);
  side.heads_over_threshold = 0;
  side.layers.clear();
  for (int layer = 0; layer < side.layer_count; ++layer) {
    LayerFlowSummary row;
    row.layer = layer;
    std::vector<double> composites;
    for (int head = 0; head < side.head_count; ++head) {
      const FlowHeadScores& s = side.scores.at(layer, head);
      const bool over = s.composite > threshold;
      if (!std::isnan(s.hub_score) && s.hub_position >= 0 && s.hub_position < side.k) {
        side.hub_counts[static_cast<std::size_t>(s.hub_position)] += 1;
        side.hub_counts_over_threshold[static_cast<std::size_t>(s.hub_position)] += over ? 1 : 0;
      }
      side.heads_over_threshold += over ? 1 : 0;
      row.heads_over_threshold += over ? 1 : 0;
      composites.push_back(s.composite);
    }
    row.mean_composite = nan_stats(composites).mean;
    row.max_composite = kNaN;
    for (double c : composites)
      if (!std::isnan(c) && !(c <= row.max_composite)) row.max_composite = c;
    side.layers.push_back(row);
  }
  const auto& sorted = side.sorted_composites;
  const double wanted = options.top_fraction * static_cast<double>(sorted.size());
  side.top_count = std::min<int>(static_cast<int>(sorted.size()), std::max(1, static_cast<int>(std::ceil(wanted - 1e-9))));
  double total = 0, top = 0;
  for (std::size_t i = 0; i < sorted.size(); ++i) {
    total += sorted[i];
    if (static_cast<int>(i) < side.top_count) top += sorted[i];
  }
  side.top_share = total > 0 ? top / total : kNaN;
  side.gini = gini_coefficient(sorted);
  side.top_bottom = composite_top_bottom(sorted);
  side.groups = top_bottom_counts(static_cast<int>(sorted.size()));
  side.group_means = composite_top_bottom(sorted, side.groups);
  std::vector<double> sequential;
  side.type_counts.assign(kFunctionalTypeCount, 0);
  for (const auto& s : side.scores.heads) {
    sequential.push_back(s.sequential);
    side.type_counts[static_cast<std::size_t>(s.functional_type)] += 1;
  }
  side.mean_sequential = nan_stats(sequential).mean;
  const auto by_sequential = rank_heads(side.scores, FlowScoreKind::sequential);
  side.top_sequential = by_sequential.empty() ? RankedHead{0, 0, kNaN, 0} : by_sequential.front();
  side.top_type_counts = top_functional_types(side.scores, side.groups.top);
  FlowAverage spread;
  if (std) spread.std = *std;
  side.criteria = seed_phase_criteria(side.scores, std ? &spread : nullptr);
}

std::vector<double> hub_shares(const ModelFlowSummary& side) {
  double total = 0;
  for (int c : side.hub_counts) total += c;
  std::vector<double> shares;
  for (int c : side.hub_counts) shares.push_back(total > 0 ? c / total : 0.0);
  return shares;
}

}  // namespace

// 3. The comparison ---------------------------------------------------------------------------------------

FlowComparison compare_flow(const FlowComparisonPlan& plan, const ComparedRun& a, const std::vector<float>& mean_a,
                            const ComparedRun& b, const std::vector<float>& mean_b, const FlowComparisonOptions& options,
                            const std::vector<float>* std_a, const std::vector<float>* std_b) {
  if (!plan.error.empty()) throw ComparisonError(plan.error);
  FlowComparison result;
  result.options = options;
  result.plan = plan;
  result.a = score_side(a, mean_a, static_cast<int>(plan.samples_a.size()));
  result.b = score_side(b, mean_b, static_cast<int>(plan.samples_b.size()));
  if (options.normalization == ComparisonNormalization::joint) {
    const FlowNormalization joint = merge_flow_normalizations(result.a.scores.normalization, result.b.scores.normalization);
    for (ModelFlowSummary* side : {&result.a, &result.b}) {
      side->scores.normalization = joint;
      apply_flow_normalization(side->scores.heads, joint);
    }
  }
  summarize_side(result.a, options, std_a);
  summarize_side(result.b, options, std_b);
  const auto shares_a = hub_shares(result.a), shares_b = hub_shares(result.b);
  result.hub_distance = 0;
  for (std::size_t k = 0; k < shares_a.size() && k < shares_b.size(); ++k)
    result.hub_distance += 0.5 * std::fabs(shares_a[k] - shares_b[k]);
  return result;
}

FlowAverage average_store_flow(const store::StoreReader& reader, const std::vector<std::int64_t>& samples) {
  const auto& layout = reader.layout();
  std::vector<float> all;
  all.reserve(samples.size() * static_cast<std::size_t>(layout.layer_count * layout.head_count * layout.flow_size * layout.flow_size));
  for (std::int64_t i : samples) {
    const auto flow = reader.flow(i);
    all.insert(all.end(), flow.begin(), flow.end());
  }
  return average_flow_matrices(all.data(), static_cast<int>(samples.size()), layout.layer_count, layout.head_count,
                               layout.flow_size);
}

ComparedRun compared_run(const std::string& path, const store::StoreLayout& layout, const store::Provenance& provenance,
                         std::vector<store::SampleInfo> samples) {
  ComparedRun run;
  run.path = path;
  run.label = provenance.model_name.empty() ? std::filesystem::path(path).filename().string() : provenance.model_name;
  run.settings = provenance.settings;
  run.layer_count = layout.layer_count;
  run.head_count = layout.head_count;
  run.flow_size = layout.flow_size;
  run.samples = std::move(samples);
  return run;
}

ComparedRun compared_run(const store::StoreReader& reader) {
  std::vector<store::SampleInfo> samples;
  for (std::int64_t i = 0; i < reader.sample_count(); ++i) samples.push_back(reader.sample(i));
  return compared_run(reader.path(), reader.layout(), reader.provenance(), std::move(samples));
}

void distinguish_labels(ComparedRun& a, ComparedRun& b) {
  if (a.label != b.label) return;
  a.label = std::filesystem::path(a.path).filename().string();
  b.label = std::filesystem::path(b.path).filename().string();
  if (a.label == b.label) a.label = "A " + a.label, b.label = "B " + b.label;
}

FlowComparison compare_stores(const store::StoreReader& reader_a, const store::StoreReader& reader_b,
                              const FlowComparisonOptions& options) {
  ComparedRun a = compared_run(reader_a), b = compared_run(reader_b);
  distinguish_labels(a, b);
  const FlowComparisonPlan plan = plan_flow_comparison(a, b);
  if (!plan.error.empty()) throw ComparisonError(plan.error);
  const FlowAverage average_a = average_store_flow(reader_a, plan.samples_a);
  const FlowAverage average_b = average_store_flow(reader_b, plan.samples_b);
  return compare_flow(plan, a, average_a.mean, b, average_b.mean, options, &average_a.std, &average_b.std);
}

// 4. Tables -----------------------------------------------------------------------------------------------

namespace {

std::string number(double value, int digits = 3) {
  if (std::isnan(value)) return "nan";
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.*f", digits, value);
  return buffer;
}

std::string count_share(int count, int total) {
  return std::to_string(count) + " (" + (total > 0 ? number(100.0 * count / total, 0) : std::string("nan")) + "%)";
}

}  // namespace

std::string format_flow_comparison(const FlowComparison& c, int top) {
  std::ostringstream out;
  char line[320];
  const ModelFlowSummary& a = c.a;
  const ModelFlowSummary& b = c.b;
  out << "model comparison: " << a.k << "x" << a.k << " flow over " << c.plan.samples_a.size()
      << " common prompts; composite normalised " << comparison_normalization_name(c.options.normalization)
      << ", threshold " << number(c.options.composite_threshold, 2) << "\n\n";
  auto row = [&](const std::string& name, const std::string& va, const std::string& vb) {
    std::snprintf(line, sizeof line, "  %-36s %-18s %-18s\n", name.c_str(), va.c_str(), vb.c_str());
    out << line;
  };
  row("", a.label, b.label);
  row("samples compared", std::to_string(a.sample_count), std::to_string(b.sample_count));
  row("layers x heads", std::to_string(a.layer_count) + " x " + std::to_string(a.head_count),
      std::to_string(b.layer_count) + " x " + std::to_string(b.head_count));
  row("heads over composite " + number(c.options.composite_threshold, 2), count_share(a.heads_over_threshold, a.total_heads()),
      count_share(b.heads_over_threshold, b.total_heads()));
  auto best = [](const ModelFlowSummary& side) {
    if (side.ranking.empty() || std::isnan(side.ranking.front().value)) return std::string("nan");
    return number(side.ranking.front().value) + " " + store::head_name({side.ranking.front().layer, side.ranking.front().head});
  };
  row("top composite", best(a), best(b));
  row("mean composite", number(nan_stats(a.sorted_composites).mean), number(nan_stats(b.sorted_composites).mean));
  row("share of composite in top " + number(100 * c.options.top_fraction, 0) + "% heads",
      number(a.top_share) + " (" + std::to_string(a.top_count) + ")", number(b.top_share) + " (" + std::to_string(b.top_count) + ")");
  row("Gini of composites", number(a.gini), number(b.gini));
  row("top-10 / bottom-50 mean composite", number(a.top_bottom.top_mean / a.top_bottom.bottom_mean, 2),
      number(b.top_bottom.top_mean / b.top_bottom.bottom_mean, 2));
  auto groups = [](const ModelFlowSummary& side) {
    return "top " + std::to_string(side.groups.top) + " / bottom " + std::to_string(side.groups.bottom);
  };
  row("criterion top / bottom groups", groups(a), groups(b));
  row("top / bottom group mean composite", number(a.group_means.top_mean / a.group_means.bottom_mean, 2),
      number(b.group_means.top_mean / b.group_means.bottom_mean, 2));
  row("mean sequential flow", number(a.mean_sequential), number(b.mean_sequential));
  auto best_sequential = [](const ModelFlowSummary& side) {
    return number(side.top_sequential.value) + " " + store::head_name({side.top_sequential.layer, side.top_sequential.head});
  };
  row("top sequential flow", best_sequential(a), best_sequential(b));

  out << "\nfunctional types (largest normalised flow, hub, skip, sequential): all heads; the top group by composite\n";
  for (int t = 0; t < kFunctionalTypeCount; ++t) {
    auto cell = [&](const ModelFlowSummary& side) {
      return count_share(side.type_counts[static_cast<std::size_t>(t)], side.total_heads()) + " / " +
             std::to_string(side.top_type_counts[static_cast<std::size_t>(t)]);
    };
    row(functional_type_name(FunctionalType(t)), cell(a), cell(b));
  }

  out << "\nphase criteria (the CODI seed's; docs/workbench.md \"Flow analysis\")\n";
  for (std::size_t i = 0; i < a.criteria.size() && i < b.criteria.size(); ++i) {
    auto cell = [&](const ModelFlowSummary& side) {
      const PhaseCriterion& criterion = side.criteria[i];
      return std::string(criterion.passed ? "pass " : "fail ") + number(criterion.value);
    };
    const PhaseCriterion& criterion = a.criteria[i];
    row("phase " + std::to_string(criterion.phase) + " " + criterion.key + (criterion.key == "mean_std" ? " < " : " > ") +
            number(criterion.threshold, 2),
        cell(a), cell(b));
  }

  out << "\nhub position (argmax column sum): heads, and heads over the threshold\n";
  std::snprintf(line, sizeof line, "  %8s  %-18s %-18s\n", "position", a.label.c_str(), b.label.c_str());
  out << line;
  for (int k = 0; k < a.k; ++k) {
    const std::string va = count_share(a.hub_counts[k], a.total_heads()) + " / " + std::to_string(a.hub_counts_over_threshold[k]);
    const std::string vb = count_share(b.hub_counts[k], b.total_heads()) + " / " + std::to_string(b.hub_counts_over_threshold[k]);
    std::snprintf(line, sizeof line, "  %8d  %-18s %-18s\n", k, va.c_str(), vb.c_str());
    out << line;
  }
  out << "  total-variation distance between the hub distributions: " << number(c.hub_distance) << "\n";

  out << "\nper layer: mean composite, max, heads over the threshold\n";
  std::snprintf(line, sizeof line, "  %5s  %-24s %-24s\n", "layer", a.label.c_str(), b.label.c_str());
  out << line;
  for (int layer = 0; layer < std::max(a.layer_count, b.layer_count); ++layer) {
    auto cell = [&](const ModelFlowSummary& side) {
      if (layer >= side.layer_count) return std::string("-");
      const auto& l = side.layers[static_cast<std::size_t>(layer)];
      return number(l.mean_composite) + "  " + number(l.max_composite) + "  " + std::to_string(l.heads_over_threshold);
    };
    std::snprintf(line, sizeof line, "  %5d  %-24s %-24s\n", layer, cell(a).c_str(), cell(b).c_str());
    out << line;
  }

  out << "\ntop heads by composite (hub position)\n";
  const int rows = std::min<int>(top, static_cast<int>(std::max(a.ranking.size(), b.ranking.size())));
  for (int r = 0; r < rows; ++r) {
    auto cell = [&](const ModelFlowSummary& side) {
      if (r >= static_cast<int>(side.ranking.size())) return std::string("");
      const auto& h = side.ranking[static_cast<std::size_t>(r)];
      return store::head_name({h.layer, h.head}) + "  " + number(h.value) + "  @" +
             std::to_string(side.scores.at(h.layer, h.head).hub_position);
    };
    std::snprintf(line, sizeof line, "  %4d  %-22s %-22s\n", r + 1, cell(a).c_str(), cell(b).c_str());
    out << line;
  }
  for (const auto& note : c.plan.notes) out << "note: " << note << "\n";
  return out.str();
}

}  // namespace headscope::analysis
