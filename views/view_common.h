// What every view shares: the Selection (head and sample; selecting anywhere selects everywhere), the
// ViewContext a view draws from (read-only run data, the selection, the attention source), and small
// helpers for metric names, value ranges and token text on axes. A view is a function of
// (Canvas, frame, ViewContext, its own small state struct); its ImGui controls are a separate function, so
// the figure part draws identically on screen and on export.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/store/layout.h"
#include "views/data/attention_source.h"
#include "views/data/run_data.h"
#include "views/plot/colormap.h"

namespace headscope::views {

struct Selection {
  store::HeadRef head;       // the selected head (layer, head)
  std::int64_t sample = 0;   // the selected sample of the active run
};

struct ViewContext {
  RunData* run = nullptr;                 // never null while drawing
  Selection* selection = nullptr;         // never null while drawing
  AttentionSource* attention = nullptr;   // may be null: no recompute available
  RunData* compare_run = nullptr;         // may be null: the second run of the model comparison view
};

// Keeps the selection inside the run's shape (after a run change or before the first sample); leaves it
// alone while the run is still opening (its shape unknown), so a selection given at start survives.
void clamp_selection(Selection& selection, const RunInfo& info);

// The metric a view shows: `wanted` if the run stores it, else "entropy", else the first, else "".
std::string choose_metric(const RunInfo& info, const std::string& wanted);
// "entropy (nats)"; just the name when the units are 1.
std::string metric_label(const RunInfo& info, const std::string& metric);

struct ValueRange {
  double min = 0, max = 1;
  bool any = false;  // false: no finite value
};
// Why a view of per-token metrics has nothing to draw: "opening …", "no samples yet", or — for runs
// that hold no such metrics, such as flow-only imports — that they lack them, in plain words.
std::string empty_run_message(const RunInfo& info);

// ", pre-RoPE attention" for a run whose metrics measure it (`capture --attention pre-rope`), "" otherwise:
// the titles of the views of its attention append it, so a figure says what it shows.
std::string measured_attention_suffix(const RunInfo& info);

// Finite min and max of values (NaN/inf skipped).
ValueRange finite_range(const float* values, std::size_t count);

// A token's text fit for an axis: spaces as "·", newlines and tabs escaped, controls as "?", at most
// `max_chars` characters (UTF-8 aware) with "…" when cut.
std::string display_token(const std::string& text, std::size_t max_chars = 14);

// A figure's heading: the title centred at the top of `frame`, then each line (with its colour) centred
// below it in the tick font. Returns the height used.
struct HeadingLine {
  std::string text;
  plot::Color color;
};
float draw_heading(plot::Canvas& canvas, plot::Rect frame, const std::string& title, const std::vector<HeadingLine>& lines);
// Colours for verdict words: a pass / an effect (green), a failure / a null result (red).
plot::Color pass_color();
plot::Color fail_color();

// Inside begin_plot: the axes of a layers × heads grid — heads across (0, 1, …; "H3" in read-outs), layers
// down with layer 0 at the top ("L2").
void setup_layer_head_axes(int layers, int heads);

// ImGui controls shared by the views' control rows (screen only).
bool metric_combo(const char* label, const RunInfo& info, std::string& metric);
bool colormap_combo(const char* label, plot::ColormapId& colormap);

}  // namespace headscope::views
