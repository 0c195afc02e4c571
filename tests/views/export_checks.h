// Checks of exported figure files shared by the views tests: read a file whole; a PNG of the asked size
// that is not blank and carries the figure's provenance.
#pragma once
#include <cairo.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include "views/plot/figure_export.h"

namespace headscope::test {

inline std::string read_all(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// `provenance_key` is a JSON key the PNG's "Comment" text must hold besides "file" (e.g. "model" for a
// capture's figure, "run_kind" for a result file's).
inline void check_png(const std::filesystem::path& path, int width, int height, const std::string& provenance_key) {
  cairo_surface_t* image = cairo_image_surface_create_from_png(path.c_str());
  ASSERT_EQ(cairo_surface_status(image), CAIRO_STATUS_SUCCESS) << path;
  EXPECT_EQ(cairo_image_surface_get_width(image), width);
  EXPECT_EQ(cairo_image_surface_get_height(image), height);
  std::set<std::uint32_t> colours;
  const unsigned char* data = cairo_image_surface_get_data(image);
  const int stride = cairo_image_surface_get_stride(image);
  for (int y = 0; y < cairo_image_surface_get_height(image); y += 2)
    for (int x = 0; x < cairo_image_surface_get_width(image); x += 2)
      colours.insert(reinterpret_cast<const std::uint32_t*>(data + std::size_t(y) * stride)[x]);
  cairo_surface_destroy(image);
  EXPECT_GT(colours.size(), 20u) << path << " looks blank";
  bool has_provenance = false;
  for (const auto& [key, value] : plot::png_text_chunks(read_all(path)))
    if (key == "Comment" && value.find("\"file\"") != std::string::npos &&
        value.find("\"" + provenance_key + "\"") != std::string::npos)
      has_provenance = true;
  EXPECT_TRUE(has_provenance) << path;
}

}  // namespace headscope::test
