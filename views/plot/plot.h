// The plotting layer, shaped like ImPlot: begin_plot / setup_* / plot_* / end_plot. Data is borrowed
// (pointer, count, byte stride) and must stay alive until end_plot(); nothing is copied. Items are
// recorded, then end_plot() fits the axes, lays out ticks, labels, colorbar and legend, handles zoom,
// pan and hover (on screen), and draws everything through the Canvas — the same calls on screen and on
// export, so an exported figure is the figure you saw.
//
//   if (plot::begin_plot(canvas, "grid", rect, &state)) {
//     plot::setup_axis(plot::Axis::x, "head");
//     plot::plot_heatmap("entropy", values.data(), rows, cols, plot::Colormap::get(...), lo, hi, version);
//     plot::PlotResult result = plot::end_plot();
//   }
#pragma once
#include <cstdint>
#include <functional>
#include <string>

#include "views/plot/canvas.h"
#include "views/plot/colormap.h"

namespace headscope::plot {

enum class Axis { x, y };

struct Range {
  double min = 0, max = 1;
  double size() const { return max - min; }
};

// Zoom and pan, kept by a view between frames (part of its UI state). Sharing one PlotState between
// plots links their axes (the drill-down's stacked plots share x).
struct PlotState {
  bool x_zoomed = false, y_zoomed = false;  // false: the axis fits the data (or the setup limits)
  Range x, y;
};

enum PlotFlags : int {
  plot_flags_none = 0,
  plot_no_legend = 1 << 0,
  plot_no_interaction = 1 << 1,
  plot_no_frame_background = 1 << 2,
};

enum AxisFlags : int {
  axis_flags_none = 0,
  axis_invert = 1 << 0,     // values grow downwards (y) or leftwards (x); rows of a matrix read top-down
  axis_no_grid = 1 << 1,
  axis_lock = 1 << 2,       // zoom and pan leave this axis alone (it keeps fitting the data)
  axis_no_tick_labels = 1 << 3,
  // A log axis: the caller passes log10 of the quantity (β, a scale); ticks sit on 1, 2, 5 × 10^k (or on
  // nice steps of the quantity when the range spans less than a decade) and labels and read-outs show the
  // quantity itself, 10^value.
  axis_log10 = 1 << 4,
};

// Sizes in logical pixels (points on paper) and colours of every figure.
struct PlotStyle {
  float tick_font_size = 13;
  float label_font_size = 14;
  float title_font_size = 15;
  float padding = 6;
  float tick_length = 4;
  float colorbar_width = 14;
  // Paint each figure's frame with `background`. The window turns this off and clears to white instead
  // (under a software renderer every full-screen layer of fill costs a frame's worth of time); export
  // paints the page itself, so figures look the same either way.
  bool fill_frame_background = true;
  Color background{1, 1, 1, 1};
  Color plot_background{1, 1, 1, 1};
  Color frame{0.15f, 0.15f, 0.15f, 1};
  Color grid{0.86f, 0.86f, 0.86f, 1};
  Color text{0.08f, 0.08f, 0.08f, 1};
  Color muted_text{0.35f, 0.35f, 0.35f, 1};
  Color highlight{0.95f, 0.15f, 0.1f, 1};
};
const PlotStyle& style();
void set_style(const PlotStyle& style);

// The n-th colour of the default qualitative cycle (Okabe & Ito's colour-blind-safe palette).
Color cycle_color(int index);

// Applies to the next plot_* call only.
struct ItemStyle {
  Color color{0, 0, 0, 0};  // alpha 0 = next colour of the cycle
  float line_width = 1.5f;
  float marker_radius = 0;  // > 0 draws a marker at every point
  float fill_alpha = 0.25f; // shaded regions and bars
};
void set_next_item_style(const ItemStyle& item_style);

struct PlotResult {
  bool hovered = false;   // pointer over the plot area
  bool clicked = false;   // a click (not a drag) in the plot area
  double x = 0, y = 0;    // the pointer in data coordinates (valid when hovered)
  Rect area;              // the plot area on the canvas
  Range x_range, y_range; // the limits drawn
};

// Starts a plot filling `frame` on the canvas; `state` (may be null) keeps zoom and pan. Always returns
// true today; written as a condition to keep ImPlot's shape (a future clip test may skip hidden plots).
bool begin_plot(Canvas& canvas, const std::string& id, Rect frame, PlotState* state = nullptr,
                int flags = plot_flags_none);
void setup_title(const std::string& title);
void setup_axis(Axis axis, const std::string& label, int flags = axis_flags_none);
void setup_axis_limits(Axis axis, double min, double max);
// An axis of `count` integer categories (layers, heads, tokens), each labelled by `label(i)`; ticks go on
// integers and thin out (1, 2, 5, 10 … apart) so labels never overlap. Hover read-outs use the labels.
// `hover_label` (optional) names a category in read-outs (e.g. "token 12 'the'"); default: `label`.
void setup_axis_categories(Axis axis, std::int64_t count, std::function<std::string(std::int64_t)> label,
                           std::function<std::string(std::int64_t)> hover_label = nullptr);
// Reserve at least this much left of the plot area (aligns stacked plots).
void setup_min_left_margin(float pixels);
void setup_colorbar(const Colormap& colormap, double vmin, double vmax, const std::string& label);
// Cells to outline (e.g. the selected head); drawn over the items. Cell (x, y) spans ±0.5 around it.
void setup_highlight_cell(double x, double y);

// y[i] against x = i.
void plot_line(const std::string& label, const float* ys, int count, int stride = sizeof(float));
void plot_line(const std::string& label, const float* xs, const float* ys, int count, int stride = sizeof(float));
void plot_scatter(const std::string& label, const float* xs, const float* ys, int count, int stride = sizeof(float));
// Bars of `ys` at x = i + x_offset, `bar_width` wide in data units (grouped bars: two series of width 0.4
// at offsets -0.2 and +0.2).
void plot_bars(const std::string& label, const float* ys, int count, double bar_width = 0.8,
               int stride = sizeof(float), double x_offset = 0);
// Vertical error bars ± errors[i] at (xs[i], ys[i]).
void plot_error_bars(const std::string& label, const float* xs, const float* ys, const float* errors, int count,
                     int stride = sizeof(float));
// Shaded vertical bands over the x-ranges [starts[i], ends[i]].
void plot_shaded_x_ranges(const std::string& label, const float* starts, const float* ends, int count,
                          int stride = sizeof(float));
// A horizontal (axis = y) or vertical (axis = x) line across the plot at `value`.
void plot_reference_line(const std::string& label, Axis axis, double value);
// A [rows, cols] matrix drawn as one texture: cell (r, c) is centred on (x = c, y = r). `content_version`
// must change whenever the values change (the screen canvas re-uploads the texture only then).
void plot_heatmap(const std::string& label, const float* values, int rows, int cols, const Colormap& colormap,
                  double vmin, double vmax, std::uint64_t content_version);

// The same matrix filling the data rectangle x × y (a tile of a larger matrix: cell (r, c) spans
// x.min + c·w .. x.min + (c+1)·w with w = x.size() / cols). Drawn as given: no level-of-detail reduction.
void plot_heatmap_in(const std::string& label, const float* values, int rows, int cols, const Colormap& colormap,
                     double vmin, double vmax, std::uint64_t content_version, Range x, Range y);

PlotResult end_plot();

// A centred message in place of a figure ("no samples yet", "loading …").
void draw_placeholder(Canvas& canvas, Rect frame, const std::string& title, const std::string& message);

}  // namespace headscope::plot
