// The plotting layer's implementation (see plot.h): one PlotContext per begin_plot/end_plot pair holds the
// recorded items (borrowed data + draw/fit/hover closures); end_plot() fits, lays out and draws.
//
// Sections:
//   1. style, colour cycle, context
//   2. setup
//   3. items (line, scatter, bars, error bars, shaded ranges, reference lines, heatmap)
//   4. layout: limits, ticks, margins
//   5. interaction: zoom, pan, click, hover
//   6. drawing: grid, items, axes, colorbar, legend
#include "views/plot/plot.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <optional>
#include <stdexcept>
#include <vector>

#include "views/plot/lod.h"
#include "views/plot/ticks.h"

namespace headscope::plot {

// ---------------------------------------------------------------------------------------------------
// 1. style, colour cycle, context
// ---------------------------------------------------------------------------------------------------

namespace {

PlotStyle& mutable_style() {
  static PlotStyle current;
  return current;
}

// Maps data to canvas coordinates for one plot area.
struct Transform {
  Rect area;
  Range x, y;
  bool invert_x = false, invert_y = false;

  float to_x(double value) const {
    double t = (value - x.min) / (x.size() == 0 ? 1 : x.size());
    if (invert_x) t = 1 - t;
    return static_cast<float>(area.min.x + t * area.width());
  }
  float to_y(double value) const {
    double t = (value - y.min) / (y.size() == 0 ? 1 : y.size());
    if (!invert_y) t = 1 - t;  // y up by default
    return static_cast<float>(area.min.y + t * area.height());
  }
  Vec2 to_canvas(double data_x, double data_y) const { return {to_x(data_x), to_y(data_y)}; }
  double from_x(float px) const {
    double t = (px - area.min.x) / std::max(area.width(), 1.0f);
    if (invert_x) t = 1 - t;
    return x.min + t * x.size();
  }
  double from_y(float py) const {
    double t = (py - area.min.y) / std::max(area.height(), 1.0f);
    if (!invert_y) t = 1 - t;
    return y.min + t * y.size();
  }
};

// Bounds an item covers, accumulated by the fit pass.
struct Bounds {
  double x_min = std::numeric_limits<double>::infinity(), x_max = -std::numeric_limits<double>::infinity();
  double y_min = std::numeric_limits<double>::infinity(), y_max = -std::numeric_limits<double>::infinity();
  void add_x(double v) {
    if (std::isfinite(v)) x_min = std::min(x_min, v), x_max = std::max(x_max, v);
  }
  void add_y(double v) {
    if (std::isfinite(v)) y_min = std::min(y_min, v), y_max = std::max(y_max, v);
  }
};

struct HoverHit {
  float distance = 0;  // pixels from the pointer
  double x = 0, y = 0; // data position of the hit
  std::string text;
};

enum class LegendKind { line, patch, none };

struct Item {
  std::string label;
  Color color;
  LegendKind legend = LegendKind::line;
  bool exact_fit = false;  // heatmaps: fit the extent without padding
  std::function<void(Bounds&)> fit;
  std::function<void(Canvas&, const Transform&)> draw;
  std::function<std::optional<HoverHit>(const Transform&, Vec2)> hover;
};

struct AxisSetup {
  std::string label;
  int flags = axis_flags_none;
  std::optional<Range> limits;
  std::int64_t category_count = -1;  // >= 0: a categorical axis
  std::function<std::string(std::int64_t)> category_label;
  std::function<std::string(std::int64_t)> category_hover_label;

  std::string value_label(double value) const {
    if (category_count >= 0 && category_label) {
      const auto index = static_cast<std::int64_t>(std::llround(value));
      if (index >= 0 && index < category_count)
        return category_hover_label ? category_hover_label(index) : category_label(index);
    }
    if (flags & axis_log10) return format_number(std::pow(10.0, value));
    return format_number(value);
  }
};

struct ColorbarSetup {
  const Colormap* colormap = nullptr;
  double vmin = 0, vmax = 1;
  std::string label;
};

struct PlotContext {
  Canvas* canvas = nullptr;
  std::string id;
  Rect frame;
  PlotState* state = nullptr;
  int flags = 0;
  std::string title;
  AxisSetup x_axis, y_axis;
  ColorbarSetup colorbar;
  std::vector<Vec2> highlight_cells;
  float min_left_margin = 0;
  std::vector<Item> items;
  std::optional<ItemStyle> next_style;
  int color_index = 0;
};

std::unique_ptr<PlotContext>& current_plot() {
  static thread_local std::unique_ptr<PlotContext> plot;
  return plot;
}

PlotContext& require_plot(const char* call) {
  auto& plot = current_plot();
  if (!plot) throw std::logic_error(std::string("plot::") + call + " outside begin_plot/end_plot");
  return *plot;
}

AxisSetup& axis_setup(PlotContext& plot, Axis axis) { return axis == Axis::x ? plot.x_axis : plot.y_axis; }

// Reads element i of a strided float array.
inline float at(const float* base, int index, int stride) {
  return *reinterpret_cast<const float*>(reinterpret_cast<const unsigned char*>(base) + std::size_t(index) * stride);
}

ItemStyle take_item_style(PlotContext& plot) {
  ItemStyle item_style = plot.next_style.value_or(ItemStyle{});
  plot.next_style.reset();
  if (item_style.color.a == 0) item_style.color = cycle_color(plot.color_index++);
  return item_style;
}

bool visible_label(const std::string& label) { return !label.empty() && label.rfind("##", 0) != 0; }

std::string hover_text(const PlotContext& plot, const std::string& label, double x, double y) {
  std::string text;
  if (visible_label(label)) text = label + "\n";
  text += (plot.x_axis.label.empty() ? "x" : plot.x_axis.label) + ": " + plot.x_axis.value_label(x) + "\n";
  text += (plot.y_axis.label.empty() ? "y" : plot.y_axis.label) + ": " + format_number(y);
  return text;
}

}  // namespace

const PlotStyle& style() { return mutable_style(); }
void set_style(const PlotStyle& new_style) { mutable_style() = new_style; }

Color cycle_color(int index) {
  static const Color palette[] = {
      {0.000f, 0.447f, 0.698f, 1},  // blue
      {0.835f, 0.369f, 0.000f, 1},  // vermillion
      {0.000f, 0.620f, 0.451f, 1},  // bluish green
      {0.800f, 0.475f, 0.655f, 1},  // reddish purple
      {0.902f, 0.624f, 0.000f, 1},  // orange
      {0.337f, 0.706f, 0.914f, 1},  // sky blue
      {0.941f, 0.894f, 0.259f, 1},  // yellow
      {0.000f, 0.000f, 0.000f, 1},  // black
  };
  const int count = static_cast<int>(sizeof palette / sizeof palette[0]);
  return palette[((index % count) + count) % count];
}

void set_next_item_style(const ItemStyle& item_style) { require_plot("set_next_item_style").next_style = item_style; }

// ---------------------------------------------------------------------------------------------------
// 2. setup
// ---------------------------------------------------------------------------------------------------

bool begin_plot(Canvas& canvas, const std::string& id, Rect frame, PlotState* state, int flags) {
  auto& plot = current_plot();
  if (plot) throw std::logic_error("plot::begin_plot: the previous plot was not ended");
  plot = std::make_unique<PlotContext>();
  plot->canvas = &canvas;
  plot->id = id;
  plot->frame = frame;
  plot->state = state;
  plot->flags = flags;
  return true;
}

void setup_title(const std::string& title) { require_plot("setup_title").title = title; }

void setup_axis(Axis axis, const std::string& label, int flags) {
  AxisSetup& setup = axis_setup(require_plot("setup_axis"), axis);
  setup.label = label;
  setup.flags = flags;
}

void setup_axis_limits(Axis axis, double min, double max) {
  axis_setup(require_plot("setup_axis_limits"), axis).limits = Range{min, max};
}

void setup_axis_categories(Axis axis, std::int64_t count, std::function<std::string(std::int64_t)> label,
                           std::function<std::string(std::int64_t)> hover_label) {
  AxisSetup& setup = axis_setup(require_plot("setup_axis_categories"), axis);
  setup.category_count = count;
  setup.category_label = std::move(label);
  setup.category_hover_label = std::move(hover_label);
}

void setup_colorbar(const Colormap& colormap, double vmin, double vmax, const std::string& label) {
  require_plot("setup_colorbar").colorbar = {&colormap, vmin, vmax, label};
}

void setup_min_left_margin(float pixels) { require_plot("setup_min_left_margin").min_left_margin = pixels; }

void setup_highlight_cell(double x, double y) {
  require_plot("setup_highlight_cell").highlight_cells.push_back({static_cast<float>(x), static_cast<float>(y)});
}

// ---------------------------------------------------------------------------------------------------
// 3. items
// ---------------------------------------------------------------------------------------------------

namespace {

// A series of points: x either borrowed or the index.
struct Series {
  const float* xs = nullptr;  // null: x = i
  const float* ys = nullptr;
  int count = 0;
  int stride = sizeof(float);
  double x(int i) const { return xs ? at(xs, i, stride) : i; }
  double y(int i) const { return at(ys, i, stride); }
};

void fit_series(const Series& series, Bounds& bounds) {
  for (int i = 0; i < series.count; ++i) {
    const double y = series.y(i);
    if (!std::isfinite(y)) continue;
    bounds.add_x(series.x(i));
    bounds.add_y(y);
  }
}

std::optional<HoverHit> nearest_point(const PlotContext& plot, const std::string& label, const Series& series,
                                      const Transform& transform, Vec2 mouse) {
  std::optional<HoverHit> best;
  for (int i = 0; i < series.count; ++i) {
    const double x = series.x(i), y = series.y(i);
    if (!std::isfinite(y)) continue;
    const Vec2 p = transform.to_canvas(x, y);
    const float dx = p.x - mouse.x, dy = p.y - mouse.y;
    // Lines are read by x: weigh horizontal distance more so the read-out follows the pointer's column.
    const float distance = std::sqrt(dx * dx + 0.25f * dy * dy);
    if (!best || distance < best->distance) best = HoverHit{distance, x, y, {}};
  }
  if (best) best->text = hover_text(plot, label, best->x, best->y);
  return best;
}

void add_series_item(const std::string& label, Series series, bool draw_line) {
  PlotContext& plot = require_plot("plot_line");
  const ItemStyle item_style = take_item_style(plot);
  Item item;
  item.label = label;
  item.color = item_style.color;
  item.fit = [series](Bounds& b) { fit_series(series, b); };
  item.draw = [series, item_style, draw_line](Canvas& canvas, const Transform& transform) {
    std::vector<Vec2> run;
    auto flush = [&] {
      if (draw_line && run.size() >= 2) canvas.polyline(run.data(), static_cast<int>(run.size()), item_style.color, item_style.line_width);
      run.clear();
    };
    // x = index: only the visible indices (and one either side) are drawn, and when they outnumber the
    // pixel columns, one min-max stroke per column (lod.h) instead of one segment per value.
    IndexRange drawn{0, series.count};
    if (!series.xs) {
      drawn = visible_indices(std::min(transform.x.min, transform.x.max) - 1, std::max(transform.x.min, transform.x.max) + 1,
                              series.count);
      const int columns = std::max(1, static_cast<int>(std::ceil(std::abs(transform.area.width()))));
      if (draw_line && item_style.marker_radius <= 0 && series.stride % sizeof(float) == 0 && drawn.count > 2 * columns) {
        std::vector<float> mins(static_cast<std::size_t>(columns)), maxs(static_cast<std::size_t>(columns));
        min_max_per_bin(series.ys, series.stride / static_cast<int>(sizeof(float)), drawn.first, drawn.count, columns,
                        mins.data(), maxs.data());
        run.reserve(2 * static_cast<std::size_t>(columns));
        for (int p = 0; p < columns; ++p) {
          if (std::isnan(mins[static_cast<std::size_t>(p)])) {
            flush();
            continue;
          }
          const double x = drawn.first + 0.5 * (bin_begin(p, drawn.count, columns) + bin_begin(p + 1, drawn.count, columns) - 1);
          const float lo = mins[static_cast<std::size_t>(p)], hi = maxs[static_cast<std::size_t>(p)];
          run.push_back(transform.to_canvas(x, p % 2 ? lo : hi));  // zig-zag: each column a vertical stroke
          run.push_back(transform.to_canvas(x, p % 2 ? hi : lo));
        }
        flush();
        return;
      }
    }
    run.reserve(static_cast<std::size_t>(drawn.count));
    for (int i = static_cast<int>(drawn.first); i < drawn.first + drawn.count; ++i) {
      const double y = series.y(i);
      if (!std::isfinite(y)) {  // NaN breaks the line (e.g. IAF over prompt tokens)
        flush();
        continue;
      }
      const Vec2 p = transform.to_canvas(series.x(i), y);
      run.push_back(p);
      if (item_style.marker_radius > 0) canvas.fill_circle(p, item_style.marker_radius, item_style.color);
    }
    flush();
  };
  const PlotContext* owner = &plot;
  item.hover = [owner, label, series](const Transform& transform, Vec2 mouse) {
    return nearest_point(*owner, label, series, transform, mouse);
  };
  if (!draw_line && item_style.marker_radius <= 0) {
    ItemStyle marker_style = item_style;
    marker_style.marker_radius = 2.5f;
    item.draw = [series, marker_style](Canvas& canvas, const Transform& transform) {
      for (int i = 0; i < series.count; ++i)
        if (std::isfinite(series.y(i)))
          canvas.fill_circle(transform.to_canvas(series.x(i), series.y(i)), marker_style.marker_radius, marker_style.color);
    };
  }
  plot.items.push_back(std::move(item));
}

}  // namespace

void plot_line(const std::string& label, const float* ys, int count, int stride) {
  add_series_item(label, Series{nullptr, ys, count, stride}, true);
}

void plot_line(const std::string& label, const float* xs, const float* ys, int count, int stride) {
  add_series_item(label, Series{xs, ys, count, stride}, true);
}

void plot_scatter(const std::string& label, const float* xs, const float* ys, int count, int stride) {
  add_series_item(label, Series{xs, ys, count, stride}, false);
}

void plot_bars(const std::string& label, const float* ys, int count, double bar_width, int stride, double x_offset) {
  PlotContext& plot = require_plot("plot_bars");
  const ItemStyle item_style = take_item_style(plot);
  const Series series{nullptr, ys, count, stride};
  Item item;
  item.label = label;
  item.color = item_style.color;
  item.legend = LegendKind::patch;
  const double left = x_offset - bar_width / 2, right = x_offset + bar_width / 2;
  item.fit = [series, left, right](Bounds& b) {
    fit_series(series, b);
    if (series.count > 0) b.add_x(left), b.add_x(series.count - 1 + right), b.add_y(0);
  };
  item.draw = [series, item_style, left, right](Canvas& canvas, const Transform& t) {
    for (int i = 0; i < series.count; ++i) {
      const double y = series.y(i);
      if (!std::isfinite(y)) continue;
      const Vec2 a = t.to_canvas(i + left, 0), b = t.to_canvas(i + right, y);
      const Rect rect{{std::min(a.x, b.x), std::min(a.y, b.y)}, {std::max(a.x, b.x), std::max(a.y, b.y)}};
      canvas.fill_rect(rect, item_style.color.with_alpha(std::max(item_style.fill_alpha, 0.6f)));
    }
  };
  const PlotContext* owner = &plot;
  item.hover = [owner, label, series, x_offset](const Transform& t, Vec2 mouse) {
    std::optional<HoverHit> hit;
    const double x = std::round(t.from_x(mouse.x) - x_offset);
    if (x >= 0 && x < series.count && std::isfinite(series.y(static_cast<int>(x))))
      hit = HoverHit{std::abs(t.to_x(x + x_offset) - mouse.x), x, series.y(static_cast<int>(x)),
                     hover_text(*owner, label, x, series.y(static_cast<int>(x)))};
    return hit;
  };
  plot.items.push_back(std::move(item));
}

void plot_error_bars(const std::string& label, const float* xs, const float* ys, const float* errors, int count,
                     int stride) {
  PlotContext& plot = require_plot("plot_error_bars");
  const ItemStyle item_style = take_item_style(plot);
  const Series series{xs, ys, count, stride};
  Item item;
  item.label = label;
  item.color = item_style.color;
  item.fit = [series, errors, stride](Bounds& b) {
    for (int i = 0; i < series.count; ++i) {
      const double y = series.y(i), e = at(errors, i, stride);
      if (!std::isfinite(y)) continue;
      b.add_x(series.x(i));
      b.add_y(y - (std::isfinite(e) ? e : 0));
      b.add_y(y + (std::isfinite(e) ? e : 0));
    }
  };
  item.draw = [series, errors, stride, item_style](Canvas& canvas, const Transform& t) {
    for (int i = 0; i < series.count; ++i) {
      const double x = series.x(i), y = series.y(i), e = at(errors, i, stride);
      if (!std::isfinite(y) || !std::isfinite(e)) continue;
      const float px = t.to_x(x), top = t.to_y(y + e), bottom = t.to_y(y - e);
      canvas.line({px, top}, {px, bottom}, item_style.color, item_style.line_width);
      canvas.line({px - 3, top}, {px + 3, top}, item_style.color, item_style.line_width);
      canvas.line({px - 3, bottom}, {px + 3, bottom}, item_style.color, item_style.line_width);
    }
  };
  const PlotContext* owner = &plot;
  item.hover = [owner, label, series, errors, stride](const Transform& t, Vec2 mouse) {
    auto hit = nearest_point(*owner, label, series, t, mouse);
    if (hit) {
      for (int i = 0; i < series.count; ++i)
        if (series.x(i) == hit->x && series.y(i) == hit->y) {
          hit->text += " ± " + format_number(at(errors, i, stride));
          break;
        }
    }
    return hit;
  };
  plot.items.push_back(std::move(item));
}

void plot_shaded_x_ranges(const std::string& label, const float* starts, const float* ends, int count, int stride) {
  PlotContext& plot = require_plot("plot_shaded_x_ranges");
  ItemStyle item_style = take_item_style(plot);
  Item item;
  item.label = label;
  item.color = item_style.color.with_alpha(item_style.fill_alpha);
  item.legend = LegendKind::patch;
  item.fit = [starts, ends, count, stride](Bounds& b) {
    for (int i = 0; i < count; ++i) b.add_x(at(starts, i, stride)), b.add_x(at(ends, i, stride));
  };
  item.draw = [starts, ends, count, stride, item_style](Canvas& canvas, const Transform& t) {
    for (int i = 0; i < count; ++i) {
      float a = t.to_x(at(starts, i, stride)), b = t.to_x(at(ends, i, stride));
      if (a > b) std::swap(a, b);
      canvas.fill_rect({{a, t.area.min.y}, {std::max(b, a + 1), t.area.max.y}},
                       item_style.color.with_alpha(item_style.fill_alpha));
    }
  };
  plot.items.push_back(std::move(item));
}

void plot_reference_line(const std::string& label, Axis axis, double value) {
  PlotContext& plot = require_plot("plot_reference_line");
  ItemStyle item_style = take_item_style(plot);
  Item item;
  item.label = label;
  item.color = item_style.color;
  item.fit = [axis, value](Bounds& b) { axis == Axis::y ? b.add_y(value) : b.add_x(value); };
  item.draw = [axis, value, item_style](Canvas& canvas, const Transform& t) {
    if (axis == Axis::y) {
      const float y = t.to_y(value);
      canvas.line({t.area.min.x, y}, {t.area.max.x, y}, item_style.color, item_style.line_width);
    } else {
      const float x = t.to_x(value);
      canvas.line({x, t.area.min.y}, {x, t.area.max.y}, item_style.color, item_style.line_width);
    }
  };
  plot.items.push_back(std::move(item));
}

void plot_heatmap(const std::string& label, const float* values, int rows, int cols, const Colormap& colormap,
                  double vmin, double vmax, std::uint64_t content_version) {
  PlotContext& plot = require_plot("plot_heatmap");
  Item item;
  item.label = label;
  item.legend = LegendKind::none;
  item.exact_fit = true;
  item.fit = [rows, cols](Bounds& b) {
    b.add_x(-0.5), b.add_x(cols - 0.5), b.add_y(-0.5), b.add_y(rows - 0.5);
  };
  // The texture slot is this plot and item; its version covers everything that changes the pixels.
  std::uint64_t key = std::hash<std::string>{}(plot.id + "\x1f" + label);
  std::uint64_t version = content_version;
  for (std::uint64_t part : {static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(values)),
                             static_cast<std::uint64_t>(rows), static_cast<std::uint64_t>(cols),
                             static_cast<std::uint64_t>(colormap.id()), std::hash<double>{}(vmin), std::hash<double>{}(vmax)})
    version = version * 1099511628211ull ^ part;
  ImageSource image;
  image.key = key;
  image.version = version;
  image.width = cols;
  image.height = rows;
  const Colormap* map = &colormap;
  // The texture holds the visible columns only; when they outnumber the pixel columns, one texel per
  // pixel column holding each row's max over the column's cells (lod.h), so a 32k-token row stays within
  // texture limits and costs what a 1k-token one does. Export reduces the same way at its resolution.
  item.draw = [image, values, rows, cols, map, vmin, vmax](Canvas& canvas, const Transform& t) {
    const IndexRange visible = visible_indices(t.x.min, t.x.max, cols);
    if (visible.count == 0 || rows <= 0) return;
    const int pixels = std::max(1, static_cast<int>(std::ceil(std::abs(t.area.width()))));
    const int bins = static_cast<int>(std::min<std::int64_t>(visible.count, pixels));
    ImageSource shown = image;
    shown.width = bins;
    for (std::int64_t part : {visible.first, visible.count, static_cast<std::int64_t>(bins)})
      shown.version = shown.version * 1099511628211ull ^ static_cast<std::uint64_t>(part);
    const int first = static_cast<int>(visible.first), count = static_cast<int>(visible.count);
    shown.fill = [values, rows, cols, map, vmin, vmax, first, count, bins](std::uint32_t* rgba) {
      std::vector<float> reduced(std::size_t(rows) * bins);
      max_per_column_bin(values, rows, cols, first, count, bins, reduced.data());
      for (std::size_t i = 0; i < reduced.size(); ++i) rgba[i] = map->rgba(reduced[i], vmin, vmax);
    };
    // Row 0 is the image's top row; where the y axis grows upwards it belongs at the bottom.
    const Vec2 a = t.to_canvas(visible.first - 0.5, -0.5), b = t.to_canvas(visible.first + visible.count - 0.5, rows - 0.5);
    const Rect rect{{std::min(a.x, b.x), std::min(a.y, b.y)}, {std::max(a.x, b.x), std::max(a.y, b.y)}};
    const bool row0_at_top = a.y < b.y;
    const bool col0_at_left = a.x < b.x;
    canvas.image(shown, rect, {col0_at_left ? 0.0f : 1.0f, row0_at_top ? 0.0f : 1.0f},
                 {col0_at_left ? 1.0f : 0.0f, row0_at_top ? 1.0f : 0.0f});
  };
  const PlotContext* owner = &plot;
  item.hover = [owner, values, rows, cols, label](const Transform& t, Vec2 mouse) {
    std::optional<HoverHit> hit;
    const double x = std::round(t.from_x(mouse.x)), y = std::round(t.from_y(mouse.y));
    if (x < 0 || y < 0 || x >= cols || y >= rows) return hit;
    const float value = values[static_cast<std::size_t>(y) * cols + static_cast<std::size_t>(x)];
    std::string text;
    if (visible_label(label)) text = label + ": " + format_number(value) + "\n";
    text += (owner->x_axis.label.empty() ? "x" : owner->x_axis.label) + ": " + owner->x_axis.value_label(x) + "\n";
    text += (owner->y_axis.label.empty() ? "y" : owner->y_axis.label) + ": " + owner->y_axis.value_label(y);
    hit = HoverHit{0, x, y, text};
    return hit;
  };
  plot.items.push_back(std::move(item));
}

void plot_heatmap_in(const std::string& label, const float* values, int rows, int cols, const Colormap& colormap,
                     double vmin, double vmax, std::uint64_t content_version, Range x, Range y) {
  PlotContext& plot = require_plot("plot_heatmap_in");
  Item item;
  item.label = label;
  item.legend = LegendKind::none;
  item.exact_fit = true;
  item.fit = [x, y](Bounds& b) { b.add_x(x.min), b.add_x(x.max), b.add_y(y.min), b.add_y(y.max); };
  ImageSource image;
  image.key = std::hash<std::string>{}(plot.id + "\x1f" + label);
  image.version = content_version;
  for (std::uint64_t part : {static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(values)),
                             static_cast<std::uint64_t>(rows), static_cast<std::uint64_t>(cols),
                             static_cast<std::uint64_t>(colormap.id()), std::hash<double>{}(vmin), std::hash<double>{}(vmax)})
    image.version = image.version * 1099511628211ull ^ part;
  image.width = cols;
  image.height = rows;
  const Colormap* map = &colormap;
  image.fill = [values, rows, cols, map, vmin, vmax](std::uint32_t* rgba) {
    for (std::size_t i = 0; i < std::size_t(rows) * std::size_t(cols); ++i) rgba[i] = map->rgba(values[i], vmin, vmax);
  };
  item.draw = [image, x, y](Canvas& canvas, const Transform& t) {
    const Vec2 a = t.to_canvas(x.min, y.min), b = t.to_canvas(x.max, y.max);
    const Rect rect{{std::min(a.x, b.x), std::min(a.y, b.y)}, {std::max(a.x, b.x), std::max(a.y, b.y)}};
    canvas.image(image, rect, {a.x < b.x ? 0.0f : 1.0f, a.y < b.y ? 0.0f : 1.0f}, {a.x < b.x ? 1.0f : 0.0f, a.y < b.y ? 1.0f : 0.0f});
  };
  const PlotContext* owner = &plot;
  item.hover = [owner, values, rows, cols, label, x, y](const Transform& t, Vec2 mouse) {
    std::optional<HoverHit> hit;
    const double dx = t.from_x(mouse.x), dy = t.from_y(mouse.y);
    const int c = static_cast<int>(std::floor((dx - x.min) / x.size() * cols)), r = static_cast<int>(std::floor((dy - y.min) / y.size() * rows));
    if (c < 0 || r < 0 || c >= cols || r >= rows) return hit;
    std::string text = (visible_label(label) ? label + ": " : std::string()) + format_number(values[std::size_t(r) * cols + c]) + "\n";
    text += (owner->x_axis.label.empty() ? "x" : owner->x_axis.label) + ": " + owner->x_axis.value_label(std::round(dx)) + "\n";
    text += (owner->y_axis.label.empty() ? "y" : owner->y_axis.label) + ": " + owner->y_axis.value_label(std::round(dy));
    hit = HoverHit{0, std::round(dx), std::round(dy), text};
    return hit;
  };
  plot.items.push_back(std::move(item));
}

// ---------------------------------------------------------------------------------------------------
// 4. layout: limits, ticks, margins
// ---------------------------------------------------------------------------------------------------

namespace {

Range fitted_range(double lo, double hi, bool pad) {
  if (!std::isfinite(lo) || !std::isfinite(hi)) return {0, 1};
  if (hi - lo < 1e-12) return {lo - 0.5, hi + 0.5};
  if (!pad) return {lo, hi};
  const double margin = (hi - lo) * 0.04;
  return {lo - margin, hi + margin};
}

// Integer ticks of a categorical axis: a nice step whose spacing leaves room for the labels.
std::vector<Tick> category_ticks(const AxisSetup& axis, Range range, float pixels, float label_extent) {
  std::vector<Tick> ticks;
  if (axis.category_count <= 0 || pixels <= 0) return ticks;
  const double pixels_per_unit = pixels / std::max(range.size(), 1e-9);
  const double step = std::max(1.0, nice_step_at_least((label_extent + 6) / pixels_per_unit));
  const auto first = static_cast<std::int64_t>(std::max(0.0, std::ceil(std::min(range.min, range.max) / step) * step));
  const auto last = static_cast<std::int64_t>(std::min<double>(axis.category_count - 1, std::max(range.min, range.max)));
  const auto increment = static_cast<std::int64_t>(step);
  for (std::int64_t i = first; i <= last && ticks.size() < 2000; i += increment)
    ticks.push_back({static_cast<double>(i), axis.category_label ? axis.category_label(i) : std::to_string(i)});
  return ticks;
}

// The widest label among a sample of categories in the visible range (measuring all would be slow for
// tens of thousands of tokens; labels are similar in width).
float typical_category_width(Canvas& canvas, const AxisSetup& axis, Range range, float size) {
  if (axis.category_count <= 0) return 0;
  const auto lo = std::max<std::int64_t>(0, static_cast<std::int64_t>(std::min(range.min, range.max)));
  const auto hi = std::min<std::int64_t>(axis.category_count - 1, static_cast<std::int64_t>(std::max(range.min, range.max)) + 1);
  float widest = 0;
  const std::int64_t step = std::max<std::int64_t>(1, (hi - lo) / 24);
  for (std::int64_t i = lo; i <= hi; i += step)
    widest = std::max(widest, canvas.measure_text(axis.category_label ? axis.category_label(i) : std::to_string(i), size).x);
  return widest;
}

// Ticks of a log axis over [lo, hi] in log10 units, labelled with 10^value: 1, 2, 5 × 10^k (thinned to
// decades when crowded), or nice steps of the quantity itself when the range spans under a decade.
std::vector<Tick> log10_ticks(double lo, double hi, int target) {
  std::vector<Tick> ticks;
  if (hi - lo < 1) {
    for (const Tick& tick : nice_ticks(std::pow(10.0, lo), std::pow(10.0, hi), target))
      if (tick.value > 0) ticks.push_back({std::log10(tick.value), tick.label});
    return ticks;
  }
  const bool decades_only = (hi - lo) * 3 > target;
  for (int k = static_cast<int>(std::floor(lo)); k <= static_cast<int>(std::ceil(hi)); ++k)
    for (double m : {1.0, 2.0, 5.0}) {
      if (decades_only && m != 1.0) continue;
      const double v = k + std::log10(m);
      if (v >= lo - 1e-9 && v <= hi + 1e-9) ticks.push_back({v, format_number(m * std::pow(10.0, k))});
    }
  return ticks;
}

std::vector<Tick> axis_ticks(Canvas& canvas, const AxisSetup& axis, Range range, float pixels, bool horizontal) {
  if (axis.flags & axis_no_tick_labels) return {};
  const float size = style().tick_font_size;
  if (axis.category_count >= 0) {
    const float extent = horizontal ? typical_category_width(canvas, axis, range, size) : size;
    return category_ticks(axis, range, pixels, extent);
  }
  const int target = std::max(2, static_cast<int>(pixels / (horizontal ? 90.0f : 42.0f)));
  if (axis.flags & axis_log10) return log10_ticks(std::min(range.min, range.max), std::max(range.min, range.max), target);
  return nice_ticks(std::min(range.min, range.max), std::max(range.min, range.max), target);
}

}  // namespace

// ---------------------------------------------------------------------------------------------------
// 5 + 6. end_plot: interaction and drawing
// ---------------------------------------------------------------------------------------------------

namespace {

void zoom_range(Range& range, double center, double factor) {
  range.min = center + (range.min - center) * factor;
  range.max = center + (range.max - center) * factor;
}

// The same ticks for the margin measurement and the drawing, so the label never spills out of the frame.
std::vector<Tick> colorbar_ticks(const ColorbarSetup& colorbar) { return nice_ticks(colorbar.vmin, colorbar.vmax, 6); }

void draw_colorbar(Canvas& canvas, const ColorbarSetup& colorbar, Rect bar, const std::string& plot_id) {
  const PlotStyle& s = style();
  ImageSource gradient;
  gradient.key = std::hash<std::string>{}(plot_id + "\x1f" + "colorbar");
  gradient.version = static_cast<std::uint64_t>(colorbar.colormap->id()) + 1;
  gradient.width = 1;
  gradient.height = Colormap::kSize;
  const Colormap* map = colorbar.colormap;
  gradient.fill = [map](std::uint32_t* rgba) {
    for (int i = 0; i < Colormap::kSize; ++i) rgba[i] = map->rgba(1.0 - static_cast<double>(i) / (Colormap::kSize - 1));
  };
  canvas.image(gradient, bar);
  canvas.stroke_rect(bar, s.frame, 1);
  Transform t;
  t.area = bar;
  t.y = {colorbar.vmin, colorbar.vmax};
  float widest = 0;
  for (const Tick& tick : colorbar_ticks(colorbar)) {
    const float y = t.to_y(tick.value);
    canvas.line({bar.max.x, y}, {bar.max.x + s.tick_length, y}, s.frame, 1);
    canvas.text({bar.max.x + s.tick_length + 2, y}, tick.label, s.text, s.tick_font_size, {0, 0.5f});
    widest = std::max(widest, canvas.measure_text(tick.label, s.tick_font_size).x);
  }
  if (!colorbar.label.empty())
    canvas.text({bar.max.x + s.tick_length + 6 + widest + s.label_font_size * 0.5f, (bar.min.y + bar.max.y) / 2},
                colorbar.label, s.text, s.label_font_size, {0.5f, 0.5f}, static_cast<float>(M_PI / 2));
}

void draw_legend(Canvas& canvas, const std::vector<Item>& items, Rect area) {
  const PlotStyle& s = style();
  std::vector<const Item*> shown;
  float widest = 0;
  for (const Item& item : items)
    if (visible_label(item.label) && item.legend != LegendKind::none) {
      shown.push_back(&item);
      widest = std::max(widest, canvas.measure_text(item.label, s.tick_font_size).x);
    }
  if (shown.empty()) return;
  const float row = s.tick_font_size + 4, swatch = 18;
  const float width = swatch + 6 + widest + 2 * s.padding, height = row * shown.size() + s.padding;
  const Rect box{{area.max.x - width - s.padding, area.min.y + s.padding},
                 {area.max.x - s.padding, area.min.y + s.padding + height}};
  canvas.fill_rect(box, s.plot_background.with_alpha(0.85f));
  canvas.stroke_rect(box, s.grid, 1);
  for (std::size_t i = 0; i < shown.size(); ++i) {
    const float y = box.min.y + s.padding / 2 + row * (static_cast<float>(i) + 0.5f);
    const float x = box.min.x + s.padding;
    if (shown[i]->legend == LegendKind::patch)
      canvas.fill_rect({{x, y - 5}, {x + swatch, y + 5}}, shown[i]->color.with_alpha(std::max(shown[i]->color.a, 0.5f)));
    else
      canvas.line({x, y}, {x + swatch, y}, shown[i]->color, 2);
    canvas.text({x + swatch + 6, y}, shown[i]->label, s.text, s.tick_font_size, {0, 0.5f});
  }
}

}  // namespace

PlotResult end_plot() {
  std::unique_ptr<PlotContext> owned = std::move(current_plot());
  if (!owned) throw std::logic_error("plot::end_plot without begin_plot");
  PlotContext& plot = *owned;
  Canvas& canvas = *plot.canvas;
  const PlotStyle& s = style();
  PlotResult result;

  // Limits: zoom state, else setup limits, else the data.
  Bounds bounds;
  bool exact = false;
  for (const Item& item : plot.items) {
    if (item.fit) item.fit(bounds);
    exact = exact || item.exact_fit;
  }
  Transform t;
  t.x = plot.x_axis.limits.value_or(fitted_range(bounds.x_min, bounds.x_max, !exact && plot.x_axis.category_count < 0));
  t.y = plot.y_axis.limits.value_or(fitted_range(bounds.y_min, bounds.y_max, !exact));
  if (plot.state) {
    if (plot.state->x_zoomed && !(plot.x_axis.flags & axis_lock)) t.x = plot.state->x;
    if (plot.state->y_zoomed && !(plot.y_axis.flags & axis_lock)) t.y = plot.state->y;
  }
  t.invert_x = plot.x_axis.flags & axis_invert;
  t.invert_y = plot.y_axis.flags & axis_invert;

  // Margins: title on top, x ticks and label below, y ticks and label left, colorbar right.
  const float top = s.padding + (plot.title.empty() ? 0 : s.title_font_size + s.padding);
  const bool x_labels = !(plot.x_axis.flags & axis_no_tick_labels);
  const float bottom = s.padding + (x_labels ? s.tick_font_size + s.tick_length + 2 : 0) +
                       (plot.x_axis.label.empty() ? 0 : s.label_font_size + 4);
  float right = s.padding + 4;
  if (plot.colorbar.colormap) {
    float widest = 0;
    for (const Tick& tick : colorbar_ticks(plot.colorbar))
      widest = std::max(widest, canvas.measure_text(tick.label, s.tick_font_size).x);
    right += 10 + s.colorbar_width + s.tick_length + 4 + widest + (plot.colorbar.label.empty() ? 0 : s.label_font_size + 6);
  }
  const float area_height = std::max(plot.frame.height() - top - bottom, 10.0f);
  std::vector<Tick> y_ticks = axis_ticks(canvas, plot.y_axis, t.y, area_height, false);
  float y_tick_width = 0;
  for (const Tick& tick : y_ticks) y_tick_width = std::max(y_tick_width, canvas.measure_text(tick.label, s.tick_font_size).x);
  const float left = std::max(plot.min_left_margin, s.padding + (plot.y_axis.label.empty() ? 0 : s.label_font_size + 4) +
                                                       y_tick_width + (y_ticks.empty() ? 0 : s.tick_length + 3));
  t.area = {{plot.frame.min.x + left, plot.frame.min.y + top}, {plot.frame.max.x - right, plot.frame.max.y - bottom}};
  if (t.area.width() < 10) t.area.max.x = t.area.min.x + 10;
  if (t.area.height() < 10) t.area.max.y = t.area.min.y + 10;
  result.area = t.area;

  // Interaction: wheel zooms about the pointer, drag pans, double-click fits again, click reports.
  PointerState pointer;
  if (!(plot.flags & plot_no_interaction) && canvas.pointer(plot.id, t.area, &pointer) && pointer.hovered) {
    result.hovered = true;
    PlotState* state = plot.state;
    const bool x_free = !(plot.x_axis.flags & axis_lock), y_free = !(plot.y_axis.flags & axis_lock);
    if (state && pointer.double_clicked) {
      state->x_zoomed = state->y_zoomed = false;
    } else if (state && pointer.wheel != 0) {
      const double factor = std::pow(0.85, pointer.wheel);
      if (x_free) zoom_range(t.x, t.from_x(pointer.mouse.x), factor), state->x = t.x, state->x_zoomed = true;
      if (y_free) zoom_range(t.y, t.from_y(pointer.mouse.y), factor), state->y = t.y, state->y_zoomed = true;
    } else if (state && pointer.dragging && (pointer.drag_delta.x != 0 || pointer.drag_delta.y != 0)) {
      const double dx = t.from_x(pointer.mouse.x - pointer.drag_delta.x) - t.from_x(pointer.mouse.x);
      const double dy = t.from_y(pointer.mouse.y - pointer.drag_delta.y) - t.from_y(pointer.mouse.y);
      if (x_free) t.x.min += dx, t.x.max += dx, state->x = t.x, state->x_zoomed = true;
      if (y_free) t.y.min += dy, t.y.max += dy, state->y = t.y, state->y_zoomed = true;
    }
    result.clicked = pointer.clicked;
    result.x = t.from_x(pointer.mouse.x);
    result.y = t.from_y(pointer.mouse.y);
    y_ticks = axis_ticks(canvas, plot.y_axis, t.y, t.area.height(), false);
  }
  result.x_range = t.x;
  result.y_range = t.y;
  const std::vector<Tick> x_ticks = axis_ticks(canvas, plot.x_axis, t.x, t.area.width(), true);

  // Background and grid.
  const bool same_background = s.plot_background.r == s.background.r && s.plot_background.g == s.background.g &&
                               s.plot_background.b == s.background.b && s.plot_background.a == s.background.a;
  const bool framed = !(plot.flags & plot_no_frame_background);
  if (framed && s.fill_frame_background) canvas.fill_rect(plot.frame, s.background);
  if (!same_background) canvas.fill_rect(t.area, s.plot_background);  // white on white is overdraw for nothing
  if (!(plot.x_axis.flags & axis_no_grid) && plot.x_axis.category_count < 0)
    for (const Tick& tick : x_ticks) canvas.line({t.to_x(tick.value), t.area.min.y}, {t.to_x(tick.value), t.area.max.y}, s.grid, 1);
  if (!(plot.y_axis.flags & axis_no_grid) && plot.y_axis.category_count < 0)
    for (const Tick& tick : y_ticks) canvas.line({t.area.min.x, t.to_y(tick.value)}, {t.area.max.x, t.to_y(tick.value)}, s.grid, 1);

  // Items, clipped to the plot area.
  canvas.push_clip(t.area);
  for (const Item& item : plot.items)
    if (item.draw) item.draw(canvas, t);
  for (Vec2 cell : plot.highlight_cells) {
    const Vec2 a = t.to_canvas(cell.x - 0.5, cell.y - 0.5), b = t.to_canvas(cell.x + 0.5, cell.y + 0.5);
    const Rect rect{{std::min(a.x, b.x), std::min(a.y, b.y)}, {std::max(a.x, b.x), std::max(a.y, b.y)}};
    canvas.stroke_rect(rect, {1, 1, 1, 1}, 3);
    canvas.stroke_rect(rect, s.highlight, 1.5f);
  }
  canvas.pop_clip();
  canvas.stroke_rect(t.area, s.frame, 1);

  // Ticks and labels.
  for (const Tick& tick : x_ticks) {
    const float x = t.to_x(tick.value);
    if (x < t.area.min.x - 0.5f || x > t.area.max.x + 0.5f) continue;
    canvas.line({x, t.area.max.y}, {x, t.area.max.y + s.tick_length}, s.frame, 1);
    canvas.text({x, t.area.max.y + s.tick_length + 2}, tick.label, s.text, s.tick_font_size, {0.5f, 0});
  }
  for (const Tick& tick : y_ticks) {
    const float y = t.to_y(tick.value);
    if (y < t.area.min.y - 0.5f || y > t.area.max.y + 0.5f) continue;
    canvas.line({t.area.min.x - s.tick_length, y}, {t.area.min.x, y}, s.frame, 1);
    canvas.text({t.area.min.x - s.tick_length - 3, y}, tick.label, s.text, s.tick_font_size, {1, 0.5f});
  }
  if (!plot.x_axis.label.empty())
    canvas.text({(t.area.min.x + t.area.max.x) / 2, plot.frame.max.y - s.padding}, plot.x_axis.label, s.text,
                s.label_font_size, {0.5f, 1});
  if (!plot.y_axis.label.empty())
    canvas.text({plot.frame.min.x + s.padding + s.label_font_size / 2, (t.area.min.y + t.area.max.y) / 2},
                plot.y_axis.label, s.text, s.label_font_size, {0.5f, 0.5f}, static_cast<float>(M_PI / 2));
  if (!plot.title.empty())
    canvas.text({(t.area.min.x + t.area.max.x) / 2, plot.frame.min.y + s.padding}, plot.title, s.text,
                s.title_font_size, {0.5f, 0});
  if (plot.colorbar.colormap) {
    const Rect bar{{t.area.max.x + 10, t.area.min.y}, {t.area.max.x + 10 + s.colorbar_width, t.area.max.y}};
    draw_colorbar(canvas, plot.colorbar, bar, plot.id);
  }
  if (!(plot.flags & plot_no_legend)) draw_legend(canvas, plot.items, t.area);

  // Hover read-out: the nearest item under the pointer.
  if (result.hovered && !pointer.dragging) {
    std::optional<HoverHit> best;
    for (const Item& item : plot.items) {
      if (!item.hover) continue;
      auto hit = item.hover(t, pointer.mouse);
      if (hit && (!best || hit->distance < best->distance)) best = hit;
    }
    if (best && best->distance < 40) {
      if (plot.x_axis.category_count < 0 || plot.y_axis.category_count < 0)
        canvas.fill_circle(t.to_canvas(best->x, best->y), 3.5f, s.highlight);
      canvas.tooltip(best->text);
    }
  }
  return result;
}

void draw_placeholder(Canvas& canvas, Rect frame, const std::string& title, const std::string& message) {
  const PlotStyle& s = style();
  if (s.fill_frame_background) canvas.fill_rect(frame, s.background);
  if (!title.empty())
    canvas.text({(frame.min.x + frame.max.x) / 2, frame.min.y + s.padding}, title, s.text, s.title_font_size, {0.5f, 0});
  canvas.text({(frame.min.x + frame.max.x) / 2, (frame.min.y + frame.max.y) / 2}, message, s.muted_text,
              s.label_font_size, {0.5f, 0.5f});
}

}  // namespace headscope::plot
