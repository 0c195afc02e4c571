// Figure export to PDF, SVG and PNG through CairoCanvas, with provenance metadata (see figure_export.h).
#include "views/plot/figure_export.h"

#include <cairo-pdf.h>
#include <cairo-svg.h>
#include <cairo.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "core/store/file_replace.h"
#include "core/version.h"
#include "views/plot/canvas_cairo.h"
#include "views/plot/plot.h"

namespace headscope::plot {

namespace {

cairo_status_t append_to_string(void* closure, const unsigned char* data, unsigned int length) {
  static_cast<std::string*>(closure)->append(reinterpret_cast<const char*>(data), length);
  return CAIRO_STATUS_SUCCESS;
}

// Through a temporary sibling renamed over `path`: a full disk leaves the old figure (or none), never a
// truncated one.
void write_file(const std::string& path, const std::string& bytes) {
  try {
    headscope::store::write_file_replacing(path, bytes);
  } catch (const headscope::store::StoreError& e) {
    throw std::runtime_error(std::string("figure export: ") + e.what());
  }
}

std::string xml_escape(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

// A comment must not contain "--".
std::string comment_safe(std::string text) {
  for (std::size_t at = text.find("--"); at != std::string::npos; at = text.find("--")) text.replace(at, 2, "- -");
  return text;
}

std::string with_svg_metadata(const std::string& svg, const FigureMetadata& metadata) {
  const std::size_t root = svg.find("<svg");
  if (root == std::string::npos) return svg;
  const std::size_t after_root = svg.find('>', root);
  if (after_root == std::string::npos) return svg;
  std::string block = "\n<!-- HeadScope figure: " + comment_safe(metadata.title) + "\n" + comment_safe(metadata.json()) + " -->\n";
  block += "<title>" + xml_escape(metadata.title) + "</title>\n";
  block += "<metadata id=\"headscope-provenance\">" + xml_escape(metadata.json()) + "</metadata>\n";
  return svg.substr(0, after_root + 1) + block + svg.substr(after_root + 1);
}

std::array<std::uint32_t, 256> crc_table() {
  std::array<std::uint32_t, 256> table{};
  for (std::uint32_t n = 0; n < 256; ++n) {
    std::uint32_t c = n;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
    table[n] = c;
  }
  return table;
}

std::uint32_t png_crc(const std::string& bytes) {
  static const auto table = crc_table();
  std::uint32_t c = 0xffffffffu;
  for (unsigned char b : bytes) c = table[(c ^ b) & 0xff] ^ (c >> 8);
  return c ^ 0xffffffffu;
}

void put_be32(std::string& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out += static_cast<char>((v >> shift) & 0xff);
}

std::uint32_t get_be32(const std::string& in, std::size_t at) {
  std::uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(in[at + i]);
  return v;
}

bool is_latin1_printable(const std::string& text) {
  return std::all_of(text.begin(), text.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u == '\n' || (u >= 32 && u < 127);
  });
}

}  // namespace

std::optional<FigureFormat> figure_format_for_path(const std::string& path) {
  const std::size_t dot = path.rfind('.');
  if (dot == std::string::npos) return std::nullopt;
  std::string ext = path.substr(dot + 1);
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (ext == "pdf") return FigureFormat::pdf;
  if (ext == "svg") return FigureFormat::svg;
  if (ext == "png") return FigureFormat::png;
  return std::nullopt;
}

std::string FigureMetadata::json() const {
  nlohmann::ordered_json object;
  object["title"] = title;
  for (const auto& [key, value] : fields) object[key] = value;
  object["software"] = std::string("HeadScope ") + HEADSCOPE_VERSION;
  return object.dump();
}

std::string png_with_text_chunks(const std::string& png, const std::vector<std::pair<std::string, std::string>>& text) {
  // Signature (8 bytes), then IHDR: length (4) + type (4) + 13 data + CRC (4).
  const std::size_t after_header = 8 + 4 + 4 + 13 + 4;
  if (png.size() < after_header || png.compare(12, 4, "IHDR") != 0)
    throw std::runtime_error("figure export: not a PNG stream");
  std::string chunks;
  for (const auto& [keyword, value] : text) {
    std::string body;
    if (is_latin1_printable(value)) {
      body = "tEXt" + keyword + std::string(1, '\0') + value;
    } else {  // UTF-8: iTXt, uncompressed, no language tag
      body = "iTXt" + keyword + std::string(1, '\0') + std::string(1, '\0') + std::string(1, '\0') +
             std::string(1, '\0') + std::string(1, '\0') + value;
    }
    put_be32(chunks, static_cast<std::uint32_t>(body.size() - 4));
    chunks += body;
    put_be32(chunks, png_crc(body));
  }
  return png.substr(0, after_header) + chunks + png.substr(after_header);
}

std::vector<std::pair<std::string, std::string>> png_text_chunks(const std::string& png) {
  std::vector<std::pair<std::string, std::string>> out;
  std::size_t at = 8;
  while (at + 12 <= png.size()) {
    const std::uint32_t length = get_be32(png, at);
    const std::string type = png.substr(at + 4, 4);
    if (at + 12 + length > png.size()) break;
    const std::string data = png.substr(at + 8, length);
    const std::size_t zero = data.find('\0');
    if (type == "tEXt" && zero != std::string::npos) {
      out.emplace_back(data.substr(0, zero), data.substr(zero + 1));
    } else if (type == "iTXt" && zero != std::string::npos) {
      // keyword \0 flag method language \0 translated \0 text
      std::size_t p = zero + 3;
      p = data.find('\0', p);
      if (p != std::string::npos) p = data.find('\0', p + 1);
      if (p != std::string::npos) out.emplace_back(data.substr(0, zero), data.substr(p + 1));
    }
    at += 12 + length;
  }
  return out;
}

void export_figure(const std::string& path, FigureFormat format, FigureSize size, const FigureMetadata& metadata,
                   const FigureDrawer& draw) {
  if (!(size.width >= 16 && size.height >= 16)) throw std::runtime_error("figure export: figure too small for " + path);
  const Rect frame{{0, 0}, {static_cast<float>(size.width), static_cast<float>(size.height)}};
  std::string bytes;
  cairo_surface_t* surface = nullptr;
  switch (format) {
    case FigureFormat::pdf:
      surface = cairo_pdf_surface_create_for_stream(append_to_string, &bytes, size.width, size.height);
      cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_TITLE, metadata.title.c_str());
      cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_SUBJECT, metadata.json().c_str());
      cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_KEYWORDS, "HeadScope, attention heads, provenance in Subject");
      cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_CREATOR, (std::string("HeadScope ") + HEADSCOPE_VERSION).c_str());
      break;
    case FigureFormat::svg:
      surface = cairo_svg_surface_create_for_stream(append_to_string, &bytes, size.width, size.height);
      cairo_svg_surface_set_document_unit(surface, CAIRO_SVG_UNIT_PT);
      break;
    case FigureFormat::png: {
      const int width = static_cast<int>(std::lround(size.width * size.scale));
      const int height = static_cast<int>(std::lround(size.height * size.scale));
      surface = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, width, height);
      break;
    }
  }
  if (cairo_surface_status(surface) != CAIRO_STATUS_SUCCESS) {
    cairo_surface_destroy(surface);
    throw std::runtime_error("figure export: cannot create a surface for " + path);
  }
  cairo_t* cr = cairo_create(surface);
  if (format == FigureFormat::png) cairo_scale(cr, size.scale, size.scale);
  try {
    CairoCanvas canvas(cr);
    canvas.fill_rect(frame, style().background);  // the page, whatever the figure paints
    draw(canvas, frame);
  } catch (...) {
    cairo_destroy(cr);
    cairo_surface_destroy(surface);
    throw;
  }
  cairo_destroy(cr);
  if (format == FigureFormat::png) {
    cairo_surface_flush(surface);
    const cairo_status_t status = cairo_surface_write_to_png_stream(surface, append_to_string, &bytes);
    cairo_surface_destroy(surface);
    if (status != CAIRO_STATUS_SUCCESS) throw std::runtime_error("figure export: cannot encode " + path);
    bytes = png_with_text_chunks(bytes, {{"Title", metadata.title},
                                         {"Software", std::string("HeadScope ") + HEADSCOPE_VERSION},
                                         {"Comment", metadata.json()}});
  } else {
    cairo_surface_finish(surface);
    const cairo_status_t status = cairo_surface_status(surface);
    cairo_surface_destroy(surface);
    if (status != CAIRO_STATUS_SUCCESS)
      throw std::runtime_error("figure export: cairo failed on " + path + ": " + cairo_status_to_string(status));
    if (format == FigureFormat::svg) bytes = with_svg_metadata(bytes, metadata);
  }
  write_file(path, bytes);
}

}  // namespace headscope::plot
