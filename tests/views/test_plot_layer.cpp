// The plotting layer without a screen: colormaps against matplotlib's published anchor colours, nice
// ticks, PNG text chunks, and the begin/setup/plot/end API drawing through a recording canvas (heatmaps
// arrive as one image, never one rectangle per cell; hover and click map to data coordinates).
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "views/plot/colormap.h"
#include "views/plot/figure_export.h"
#include "views/plot/lod.h"
#include "views/plot/plot.h"
#include "views/plot/ticks.h"

namespace plot = headscope::plot;

namespace {

// Counts what the plotting layer asks of a canvas.
class CountingCanvas : public plot::Canvas {
 public:
  void line(plot::Vec2, plot::Vec2, plot::Color, float) override { ++lines; }
  void polyline(const plot::Vec2*, int count, plot::Color, float) override { polyline_points += count; }
  void fill_rect(plot::Rect, plot::Color) override { ++rects; }
  void stroke_rect(plot::Rect, plot::Color, float) override {}
  void fill_circle(plot::Vec2, float, plot::Color) override { ++circles; }
  void text(plot::Vec2, const std::string& text, plot::Color, float, plot::TextAlign, float) override { texts.push_back(text); }
  plot::Vec2 measure_text(const std::string& text, float size) override { return {0.6f * size * text.size(), size}; }
  void image(const plot::ImageSource& image, plot::Rect rect, plot::Vec2, plot::Vec2) override {
    ++images;
    last_image_rect = rect;
    pixels.assign(std::size_t(image.width) * image.height, 0);
    image.fill(pixels.data());
  }
  void push_clip(plot::Rect) override {}
  void pop_clip() override {}
  bool pointer(const std::string&, plot::Rect area, plot::PointerState* state) override {
    if (!pointer_enabled) return false;
    state->hovered = area.contains(mouse);
    state->mouse = mouse;
    state->clicked = click;
    return true;
  }
  void tooltip(const std::string& text) override { tooltips.push_back(text); }

  int lines = 0, rects = 0, circles = 0, images = 0, polyline_points = 0;
  std::vector<std::string> texts, tooltips;
  std::vector<std::uint32_t> pixels;
  plot::Rect last_image_rect;
  bool pointer_enabled = false, click = false;
  plot::Vec2 mouse;
};

double channel_distance(plot::Color a, float r, float g, float b) {
  return std::max({std::abs(a.r - r), std::abs(a.g - g), std::abs(a.b - b)});
}

}  // namespace

TEST(Colormap, MatchesMatplotlibAnchorsWithinTwoPercent) {
  // matplotlib's _cm_listed tables at entries 0, 128 and 255.
  const auto& viridis = plot::Colormap::get(plot::ColormapId::viridis);
  EXPECT_LT(channel_distance(viridis.color(0), 0.267004f, 0.004874f, 0.329415f), 0.02);
  EXPECT_LT(channel_distance(viridis.color(128 / 255.0), 0.127568f, 0.566949f, 0.550556f), 0.02);
  EXPECT_LT(channel_distance(viridis.color(1), 0.993248f, 0.906157f, 0.143936f), 0.02);
  const auto& magma = plot::Colormap::get(plot::ColormapId::magma);
  EXPECT_LT(channel_distance(magma.color(0), 0.001462f, 0.000466f, 0.013866f), 0.02);
  EXPECT_LT(channel_distance(magma.color(1), 0.987053f, 0.991438f, 0.749504f), 0.02);
}

TEST(Colormap, SequentialMapsGrowInLightnessAndDivergingIsWhiteInTheMiddle) {
  auto luminance = [](plot::Color c) { return 0.2126 * c.r + 0.7152 * c.g + 0.0722 * c.b; };
  for (auto id : {plot::ColormapId::viridis, plot::ColormapId::magma}) {
    const auto& map = plot::Colormap::get(id);
    for (int i = 1; i < 16; ++i) EXPECT_GT(luminance(map.color(i / 15.0)), luminance(map.color((i - 1) / 15.0)) - 1e-3);
  }
  const auto& cool_warm = plot::Colormap::get(plot::ColormapId::cool_warm);
  // Moreland's end points and a light, nearly neutral middle.
  EXPECT_LT(channel_distance(cool_warm.color(0), 59 / 255.f, 76 / 255.f, 192 / 255.f), 0.02);
  EXPECT_LT(channel_distance(cool_warm.color(1), 180 / 255.f, 4 / 255.f, 38 / 255.f), 0.02);
  const plot::Color middle = cool_warm.color(0.5);
  EXPECT_GT(luminance(middle), 0.75);
  EXPECT_LT(std::max({middle.r, middle.g, middle.b}) - std::min({middle.r, middle.g, middle.b}), 0.08);
  EXPECT_EQ(cool_warm.rgba(std::nan("")), plot::Colormap::kMissingRgba);
}

TEST(Ticks, NiceStepsAndLabels) {
  const auto ticks = plot::nice_ticks(0, 1, 5);
  ASSERT_EQ(ticks.size(), 6u);
  EXPECT_EQ(ticks[1].label, "0.2");
  EXPECT_EQ(ticks.back().label, "1.0");
  EXPECT_DOUBLE_EQ(plot::nice_step_at_least(3.2), 5);
  EXPECT_DOUBLE_EQ(plot::nice_step_at_least(0.011), 0.02);
  const auto negative = plot::nice_ticks(-3.7, 12.2, 4);
  EXPECT_EQ(negative.front().label, "0");  // step 5: 0, 5, 10
  EXPECT_EQ(plot::format_number(0.5), "0.5");
}

TEST(PngText, ChunksRoundTripIncludingUtf8) {
  // The smallest valid PNG header + IHDR (CRC not checked by our reader) + IEND.
  std::string png = std::string("\x89PNG\r\n\x1a\n", 8) + std::string("\0\0\0\x0dIHDR", 8) + std::string(13, '\0') +
                    std::string(4, '\0') + std::string("\0\0\0\0IEND\xae\x42\x60\x82", 12);
  const auto with_text = plot::png_with_text_chunks(png, {{"Title", "head grid"}, {"Comment", "file: r\xc3\xa9sum\xc3\xa9.h5"}});
  const auto chunks = plot::png_text_chunks(with_text);
  ASSERT_EQ(chunks.size(), 2u);
  EXPECT_EQ(chunks[0].second, "head grid");
  EXPECT_EQ(chunks[1].second, "file: r\xc3\xa9sum\xc3\xa9.h5");
}

TEST(Plot, HeatmapIsOneImageWithTheColormapsColours) {
  CountingCanvas canvas;
  std::vector<float> values(300 * 200);
  for (std::size_t i = 0; i < values.size(); ++i) values[i] = static_cast<float>(i % 200) / 199.0f;
  const auto& map = plot::Colormap::get(plot::ColormapId::viridis);
  ASSERT_TRUE(plot::begin_plot(canvas, "grid", {{0, 0}, {800, 600}}));
  plot::setup_axis(plot::Axis::x, "head");
  plot::setup_axis(plot::Axis::y, "layer", plot::axis_invert);
  plot::setup_colorbar(map, 0, 1, "value");
  plot::plot_heatmap("v", values.data(), 300, 200, map, 0, 1, 1);
  plot::end_plot();
  EXPECT_EQ(canvas.images, 2);  // the matrix and the colorbar's gradient
  EXPECT_LT(canvas.rects, 10);  // backgrounds only: never one rectangle per cell
  // The colorbar (drawn last) is a vertical gradient: top = the high end.
  EXPECT_EQ(canvas.pixels.front(), map.rgba(1.0));
  EXPECT_EQ(canvas.pixels.back(), map.rgba(0.0));
}

TEST(Plot, LinesBreakAtNanAndLabelsAppearInTheLegend) {
  CountingCanvas canvas;
  const float ys[] = {1, 2, NAN, 3, 4, 5};
  plot::begin_plot(canvas, "lines", {{0, 0}, {400, 300}});
  plot::plot_line("trace", ys, 6);
  plot::end_plot();
  EXPECT_EQ(canvas.polyline_points, 5);  // two runs: 2 + 3 points
  EXPECT_NE(std::find(canvas.texts.begin(), canvas.texts.end(), "trace"), canvas.texts.end());
}

TEST(Plot, ClickAndHoverReportDataCoordinatesAndCategoryLabels) {
  CountingCanvas canvas;
  canvas.pointer_enabled = true;
  canvas.click = true;
  std::vector<float> values(4 * 8, 0.5f);
  const auto& map = plot::Colormap::get(plot::ColormapId::magma);
  // First pass to learn the plot area, then point at the centre of cell (x = 6, y = 1).
  plot::begin_plot(canvas, "probe", {{0, 0}, {640, 400}});
  plot::plot_heatmap("v", values.data(), 4, 8, map, 0, 1, 1);
  const plot::Rect area = plot::end_plot().area;
  canvas.mouse = {area.min.x + area.width() * (6.5f / 8), area.min.y + area.height() * (1.5f / 4)};
  plot::PlotState state;
  plot::begin_plot(canvas, "probe", {{0, 0}, {640, 400}}, &state);
  plot::setup_axis(plot::Axis::x, "head");
  plot::setup_axis(plot::Axis::y, "layer", plot::axis_invert);
  plot::setup_axis_categories(plot::Axis::y, 4, [](std::int64_t i) { return "L" + std::to_string(i); });
  plot::plot_heatmap("v", values.data(), 4, 8, map, 0, 1, 1);
  const plot::PlotResult result = plot::end_plot();
  EXPECT_TRUE(result.hovered);
  EXPECT_TRUE(result.clicked);
  EXPECT_EQ(std::lround(result.x), 6);
  EXPECT_EQ(std::lround(result.y), 1);
  ASSERT_FALSE(canvas.tooltips.empty());
  EXPECT_NE(canvas.tooltips.back().find("layer: L1"), std::string::npos) << canvas.tooltips.back();
}

TEST(Plot, WheelZoomsAboutThePointerAndDoubleClickFitsAgain) {
  CountingCanvas canvas;
  canvas.pointer_enabled = true;
  const float ys[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
  plot::PlotState state;
  plot::begin_plot(canvas, "zoom", {{0, 0}, {500, 300}}, &state);
  plot::plot_line("y", ys, 10);
  const plot::Rect area = plot::end_plot().area;
  class WheelCanvas : public CountingCanvas {
   public:
    bool pointer(const std::string& id, plot::Rect a, plot::PointerState* s) override {
      CountingCanvas::pointer(id, a, s);
      s->wheel = 2;
      return true;
    }
  } wheel;
  wheel.pointer_enabled = true;
  wheel.mouse = {(area.min.x + area.max.x) / 2, (area.min.y + area.max.y) / 2};
  plot::begin_plot(wheel, "zoom", {{0, 0}, {500, 300}}, &state);
  plot::plot_line("y", ys, 10);
  plot::end_plot();
  EXPECT_TRUE(state.x_zoomed);
  EXPECT_LT(state.x.size(), 9.5 * 0.8);
}

// Issue 16: the per-pixel-column reductions equal a brute-force reduction, NaNs skipped, for bin counts
// that do and do not divide the value count.
TEST(PlotLod, MinMaxAndMaxPerColumnEqualBruteForce) {
  std::vector<float> ys(10007);
  for (std::size_t i = 0; i < ys.size(); ++i) ys[i] = i % 113 == 5 ? NAN : static_cast<float>(std::sin(0.37 * i) * (1 + i % 7));
  for (int i = 200; i < 260; ++i) ys[static_cast<std::size_t>(i)] = NAN;  // an all-NaN stretch
  for (int bins : {1, 7, 640, 1600, 5000}) {
    const std::int64_t first = 13, count = 9900;
    std::vector<float> mins(static_cast<std::size_t>(bins)), maxs(static_cast<std::size_t>(bins));
    plot::min_max_per_bin(ys.data(), 1, first, count, bins, mins.data(), maxs.data());
    std::int64_t covered = 0;
    for (int p = 0; p < bins; ++p) {
      float lo = INFINITY, hi = -INFINITY;
      const auto begin = p * count / bins, end = (p + 1) * count / bins;
      covered += end - begin;
      for (auto i = begin; i < end; ++i)
        if (!std::isnan(ys[static_cast<std::size_t>(first + i)])) lo = std::min(lo, ys[static_cast<std::size_t>(first + i)]), hi = std::max(hi, ys[static_cast<std::size_t>(first + i)]);
      if (std::isinf(lo)) {
        EXPECT_TRUE(std::isnan(mins[static_cast<std::size_t>(p)]) && std::isnan(maxs[static_cast<std::size_t>(p)]));
      } else {
        EXPECT_EQ(mins[static_cast<std::size_t>(p)], lo) << "bins " << bins << " bin " << p;
        EXPECT_EQ(maxs[static_cast<std::size_t>(p)], hi) << "bins " << bins << " bin " << p;
      }
    }
    EXPECT_EQ(covered, count);
  }
  const int rows = 3, cols = 1000;
  std::vector<float> matrix(std::size_t(rows) * cols);
  for (std::size_t i = 0; i < matrix.size(); ++i) matrix[i] = i % 17 == 0 ? NAN : static_cast<float>((i * 7919) % 1013);
  std::vector<float> reduced(std::size_t(rows) * 97);
  plot::max_per_column_bin(matrix.data(), rows, cols, 50, 900, 97, reduced.data());
  for (int r = 0; r < rows; ++r)
    for (int p = 0; p < 97; ++p) {
      float hi = -INFINITY;
      for (int c = 50 + p * 900 / 97; c < 50 + (p + 1) * 900 / 97; ++c)
        if (!std::isnan(matrix[std::size_t(r) * cols + c])) hi = std::max(hi, matrix[std::size_t(r) * cols + c]);
      EXPECT_EQ(reduced[std::size_t(r) * 97 + p], hi);
    }
}

// A 32k-value line over an 800-pixel plot draws about two points per pixel column, not one per value;
// zoomed in to 100 values it draws those values exactly.
TEST(PlotLod, LongLinesDrawPerPixelColumnAndZoomReachesValues) {
  std::vector<float> ys(32768);
  for (std::size_t i = 0; i < ys.size(); ++i) ys[i] = static_cast<float>(std::sin(0.01 * i));
  CountingCanvas canvas;
  plot::begin_plot(canvas, "long", {{0, 0}, {800, 300}}, nullptr, plot::plot_no_legend);
  plot::plot_line("trace", ys.data(), static_cast<int>(ys.size()));
  plot::end_plot();
  EXPECT_GT(canvas.polyline_points, 200);
  EXPECT_LE(canvas.polyline_points, 2 * 800);
  CountingCanvas zoomed;
  plot::PlotState state;
  state.x_zoomed = true;
  state.x = {1000 - 0.5, 1100 - 0.5};
  plot::begin_plot(zoomed, "long", {{0, 0}, {800, 300}}, &state, plot::plot_no_legend);
  plot::plot_line("trace", ys.data(), static_cast<int>(ys.size()));
  plot::end_plot();
  EXPECT_GE(zoomed.polyline_points, 100);
  EXPECT_LE(zoomed.polyline_points, 102);  // the visible values and one either side
  // A 14 × 32768 heatmap is one texture no wider than the plot.
  std::vector<float> cells(14 * 32768, 0.5f);
  CountingCanvas heat;
  plot::begin_plot(heat, "heat", {{0, 0}, {800, 300}});
  plot::plot_heatmap("v", cells.data(), 14, 32768, plot::Colormap::get(plot::ColormapId::viridis), 0, 1, 1);
  plot::end_plot();
  EXPECT_EQ(heat.images, 1);
  EXPECT_LE(heat.pixels.size(), std::size_t(14) * 800);
}
