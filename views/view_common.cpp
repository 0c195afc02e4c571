// Shared view helpers (see view_common.h).
#include "views/view_common.h"

#include <imgui.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/store/attention_mode.h"
#include "views/plot/plot.h"

namespace headscope::views {

std::string measured_attention_suffix(const RunInfo& info) {
  const bool pre_rope = info.provenance.settings.attention == store::attention_mode_name(store::AttentionMode::pre_rope);
  return pre_rope ? ", pre-RoPE attention" : "";
}

void clamp_selection(Selection& selection, const RunInfo& info) {
  if (!info.opened) return;  // the shape is not known yet: a selection given at start waits for it
  selection.head.layer = std::clamp(selection.head.layer, 0, std::max(info.layout.layer_count - 1, 0));
  selection.head.head = std::clamp(selection.head.head, 0, std::max(info.layout.head_count - 1, 0));
  selection.sample = std::clamp<std::int64_t>(selection.sample, 0, std::max<std::int64_t>(info.sample_count - 1, 0));
}

std::string choose_metric(const RunInfo& info, const std::string& wanted) {
  const auto& metrics = info.layout.metrics;
  auto has = [&](const std::string& name) {
    return std::any_of(metrics.begin(), metrics.end(), [&](const store::MetricSpec& m) { return m.name == name; });
  };
  if (!wanted.empty() && has(wanted)) return wanted;
  if (has("entropy")) return "entropy";
  return metrics.empty() ? std::string() : metrics.front().name;
}

std::string metric_label(const RunInfo& info, const std::string& metric) {
  for (const auto& spec : info.layout.metrics)
    if (spec.name == metric) return spec.units.empty() || spec.units == "1" ? metric : metric + " (" + spec.units + ")";
  return metric;
}

ValueRange finite_range(const float* values, std::size_t count) {
  ValueRange range{std::numeric_limits<double>::infinity(), -std::numeric_limits<double>::infinity(), false};
  for (std::size_t i = 0; i < count; ++i) {
    if (!std::isfinite(values[i])) continue;
    range.min = std::min<double>(range.min, values[i]);
    range.max = std::max<double>(range.max, values[i]);
    range.any = true;
  }
  if (!range.any) return {0, 1, false};
  if (range.max - range.min < 1e-12) range.max = range.min + 1e-6;
  return range;
}

std::string display_token(const std::string& text, std::size_t max_chars) {
  std::string out;
  std::size_t chars = 0;
  for (std::size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    std::size_t length = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 1;
    if (chars == max_chars) {
      out += "\xe2\x80\xa6";  // …
      break;
    }
    if (c == ' ') out += "\xc2\xb7";           // ·
    else if (c == '\n') out += "\\n";
    else if (c == '\t') out += "\\t";
    else if (c < 0x20 || c == 0x7f) out += '?';
    else out += text.substr(i, length);
    i += length;
    ++chars;
  }
  return out.empty() ? std::string("\xe2\x88\x85") : out;  // ∅ for an empty token
}

float draw_heading(plot::Canvas& canvas, plot::Rect frame, const std::string& title, const std::vector<HeadingLine>& lines) {
  const plot::PlotStyle& style = plot::style();
  const float center = (frame.min.x + frame.max.x) / 2;
  float y = frame.min.y + style.padding;
  canvas.text({center, y}, title, style.text, style.title_font_size, {0.5f, 0});
  y += style.title_font_size + 4;
  for (const auto& line : lines) {
    canvas.text({center, y}, line.text, line.color, style.tick_font_size, {0.5f, 0});
    y += style.tick_font_size + 3;
  }
  return y + style.padding - frame.min.y;
}

void setup_layer_head_axes(int layers, int heads) {
  plot::setup_axis(plot::Axis::x, "head");
  plot::setup_axis(plot::Axis::y, "layer", plot::axis_invert);
  plot::setup_axis_categories(plot::Axis::x, heads, [](std::int64_t i) { return std::to_string(i); },
                              [](std::int64_t i) { return "H" + std::to_string(i); });
  plot::setup_axis_categories(plot::Axis::y, layers, [](std::int64_t i) { return std::to_string(i); },
                              [](std::int64_t i) { return "L" + std::to_string(i); });
}

plot::Color pass_color() { return {0.0f, 0.45f, 0.2f, 1}; }
plot::Color fail_color() { return {0.8f, 0.1f, 0.05f, 1}; }

bool metric_combo(const char* label, const RunInfo& info, std::string& metric) {
  bool changed = false;
  ImGui::SetNextItemWidth(ImGui::GetFontSize() * 10);
  if (ImGui::BeginCombo(label, metric.c_str())) {
    for (const auto& spec : info.layout.metrics) {
      if (ImGui::Selectable(spec.name.c_str(), spec.name == metric)) {
        metric = spec.name;
        changed = true;
      }
      if (ImGui::IsItemHovered() && !spec.description.empty()) ImGui::SetTooltip("%s", spec.description.c_str());
    }
    ImGui::EndCombo();
  }
  return changed;
}

bool colormap_combo(const char* label, plot::ColormapId& colormap) {
  bool changed = false;
  ImGui::SetNextItemWidth(ImGui::GetFontSize() * 7);
  if (ImGui::BeginCombo(label, plot::Colormap::get(colormap).name().c_str())) {
    for (auto id : {plot::ColormapId::viridis, plot::ColormapId::magma, plot::ColormapId::cool_warm}) {
      if (ImGui::Selectable(plot::Colormap::get(id).name().c_str(), id == colormap)) {
        colormap = id;
        changed = true;
      }
    }
    ImGui::EndCombo();
  }
  return changed;
}

std::string empty_run_message(const RunInfo& info) {
  if (!info.opened) return "opening …";
  if (info.sample_count == 0) return "no samples yet";
  if (!info.layout.metrics.empty()) return "nothing to show";
  // Short enough for one centred line; `headscope inspect` lists everything the source lacked.
  return std::string("this ") + store::run_kind_name(info.layout.kind) + " run has no per-token metrics" +
         (info.layout.flow_size > 0 ? " (its flow matrices are in the flow tab)" : "");
}

}  // namespace headscope::views
