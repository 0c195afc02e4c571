// The model-level trace panel of the compare view (see compare_traces.h).
#include "views/compare_traces.h"

#include <algorithm>
#include <vector>

#include "core/analysis/model_trace.h"
#include "views/analysis_common.h"

namespace headscope::views {

namespace {

bool has_jsd(const RunInfo& info) {
  return std::any_of(info.layout.metrics.begin(), info.layout.metrics.end(), [](const store::MetricSpec& m) { return m.name == "jsd"; });
}

// B's sample for A's sample `index`: the same id, else the same index; -1 when B has neither.
std::int64_t matching_sample(const RunInfo& a, std::int64_t index, const RunInfo& b) {
  const std::string& id = a.samples[static_cast<std::size_t>(index)].id;
  for (const auto& sample : b.samples)
    if (sample.id == id) return sample.index;
  return index < b.sample_count ? index : -1;
}

}  // namespace

bool compares_traces(const RunInfo& a, const RunInfo& b) {
  return has_jsd(a) && has_jsd(b) && (a.layout.flow_size == 0 || b.layout.flow_size == 0);
}

void draw_trace_comparison(plot::Canvas& canvas, plot::Rect frame, ViewContext& context, plot::PlotState* plot_state) {
  const RunInfo& a = context.run->info();
  const RunInfo& b = context.compare_run->info();
  const std::int64_t sample_a = context.selection->sample;
  const std::int64_t sample_b = sample_a < a.sample_count ? matching_sample(a, sample_a, b) : -1;
  if (sample_b < 0) {
    plot::draw_placeholder(canvas, frame, "model-level JSD", "the other run has no sample to pair with this one");
    return;
  }
  const SharedFloats trace_a = context.run->model_trace("jsd", sample_a);
  const SharedFloats trace_b = context.compare_run->model_trace("jsd", sample_b);
  if (!trace_a || !trace_b) {
    plot::draw_placeholder(canvas, frame, "model-level JSD", "reading …");
    return;
  }
  const auto row = analysis::compare_trace_pair(trace_a->values, trace_b->values);
  // x: A's token positions; B aligned at the last token.
  const int count_a = row.tokens_a, count_b = row.tokens_b, offset = count_a - count_b;
  std::vector<float> xs_a(static_cast<std::size_t>(count_a)), xs_b(static_cast<std::size_t>(count_b));
  for (int t = 0; t < count_a; ++t) xs_a[static_cast<std::size_t>(t)] = static_cast<float>(t);
  for (int t = 0; t < count_b; ++t) xs_b[static_cast<std::size_t>(t)] = static_cast<float>(t + offset);
  const std::string title = "model-level JSD, A sample '" + a.samples[static_cast<std::size_t>(sample_a)].id + "' vs B '" +
                            b.samples[static_cast<std::size_t>(sample_b)].id + "': " + std::to_string(row.compared) +
                            " steps, mean A " + format_value(row.mean_a, 3) + ", B " + format_value(row.mean_b, 3) + ", r " +
                            format_value(row.pearson) + ", mean |A-B| " + format_value(row.mean_abs_difference, 3);
  if (!plot::begin_plot(canvas, "compare-traces", frame, plot_state)) return;
  plot::setup_title(title);
  plot::setup_min_left_margin(56);
  plot::setup_axis(plot::Axis::x, "token of A (B aligned at the last token)");
  plot::setup_axis(plot::Axis::y, "nats");
  plot::set_next_item_style({plot::cycle_color(0), 1.5f, 0, 0});
  plot::plot_line("A " + a.path, xs_a.data(), trace_a->values.data(), count_a);
  plot::set_next_item_style({plot::cycle_color(1), 1.5f, 0, 0});
  plot::plot_line("B " + b.path, xs_b.data(), trace_b->values.data(), count_b);
  plot::end_plot();
}

}  // namespace headscope::views
