// Figure export: draws a figure (the same drawing function the screen uses) onto a Cairo PDF, SVG or PNG
// surface and embeds the run's provenance. PDF: the document info dictionary (title, subject, keywords,
// creator) via cairo_pdf_surface_set_metadata. SVG: cairo 1.16 has no metadata API, so a <metadata>
// element and a comment are inserted after the root element. PNG: tEXt/iTXt chunks inserted after IHDR.
#pragma once
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "views/plot/canvas.h"

namespace headscope::plot {

enum class FigureFormat { pdf, svg, png };

// From the file name's extension (.pdf, .svg, .png; case-insensitive); nullopt for anything else.
std::optional<FigureFormat> figure_format_for_path(const std::string& path);

struct FigureMetadata {
  std::string title;                                        // e.g. "head grid: entropy (mean over samples)"
  std::vector<std::pair<std::string, std::string>> fields;  // provenance: file, model, settings, view, ...
  // The fields as one JSON object (what goes into every format).
  std::string json() const;
};

struct FigureSize {
  double width = 900;   // logical units: points in PDF/SVG; PNG pixels = width × scale
  double height = 600;
  double scale = 1;     // PNG only: device pixels per logical unit (2 = "retina")
};

using FigureDrawer = std::function<void(Canvas& canvas, Rect frame)>;

// Writes the figure; throws std::runtime_error naming the file on failure.
void export_figure(const std::string& path, FigureFormat format, FigureSize size, const FigureMetadata& metadata,
                   const FigureDrawer& draw);

// PNG helpers (exposed for tests): insert text chunks after IHDR; read them back.
std::string png_with_text_chunks(const std::string& png, const std::vector<std::pair<std::string, std::string>>& text);
std::vector<std::pair<std::string, std::string>> png_text_chunks(const std::string& png);

}  // namespace headscope::plot
