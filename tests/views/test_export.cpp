// Every view exported to PDF, SVG and PNG through the Cairo back end, and the files checked: a PDF with
// a page and the provenance in its info dictionary, an SVG that is well-formed XML with an <svg> root and
// a <metadata> element, a PNG of the requested size that is not blank and carries provenance text chunks.
// Also `headscope export` end to end, including --help listing the views.
#include <gtest/gtest.h>
#include <cairo.h>

#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>

#include "export_checks.h"
#include "view_test_support.h"
#include "views/plot/figure_export.h"
#include "views/view_registry.h"

using namespace headscope;

namespace {

using test::read_all;

// A small well-formedness check: tags nest and close, attributes are quoted; returns the root's name.
std::string xml_root_if_well_formed(const std::string& xml, std::string* error) {
  std::vector<std::string> open;
  std::string root;
  std::size_t at = 0;
  while ((at = xml.find('<', at)) != std::string::npos) {
    if (xml.compare(at, 4, "<!--") == 0) {
      at = xml.find("-->", at);
      if (at == std::string::npos) return *error = "unclosed comment", "";
      continue;
    }
    if (xml.compare(at, 2, "<?") == 0 || xml.compare(at, 2, "<!") == 0) {
      at = xml.find('>', at);
      continue;
    }
    std::size_t end = at + 1;
    char quote = 0;
    for (; end < xml.size(); ++end) {
      if (quote) {
        if (xml[end] == quote) quote = 0;
      } else if (xml[end] == '"' || xml[end] == '\'') {
        quote = xml[end];
      } else if (xml[end] == '>') {
        break;
      }
    }
    if (end >= xml.size()) return *error = "unclosed tag", "";
    std::string tag = xml.substr(at + 1, end - at - 1);
    if (tag.empty()) return *error = "empty tag", "";
    if (tag[0] == '/') {
      const std::string name = tag.substr(1, tag.find_first_of(" \t\n") - 1);
      if (open.empty() || open.back() != name) return *error = "mismatched </" + name + ">", "";
      open.pop_back();
    } else {
      const std::string name = tag.substr(0, tag.find_first_of(" \t\n/"));
      if (root.empty()) root = name;
      else if (open.empty()) return *error = "content after the root element", "";
      if (tag.back() != '/') open.push_back(name);
    }
    at = end + 1;
  }
  if (!open.empty()) return *error = "unclosed <" + open.back() + ">", "";
  return root;
}

void check_png(const std::filesystem::path& path, int width, int height) {
  test::check_png(path, width, height, "model");
}

}  // namespace

TEST(Export, EveryViewToPdfSvgAndPng) {
  const auto dir = test::temp_dir();
  views::DirectRunData run(test::small_demo_store());
  views::Selection selection{{2, 1}, 0};
  views::NoModelAttentionSource attention;
  views::ViewContext context{&run, &selection, &attention};
  views::ViewStates states;
  for (const auto& view : views::figure_views()) {
    for (const std::string extension : {"pdf", "svg", "png"}) {
      SCOPED_TRACE(view.name + "." + extension);
      const auto path = dir / (view.name + "." + extension);
      views::export_view(context, states, view, path.string(), {640, 420, 1.5});
      const std::string bytes = read_all(path);
      ASSERT_FALSE(bytes.empty());
      if (extension == "pdf") {
        EXPECT_EQ(bytes.rfind("%PDF-", 0), 0u);
        EXPECT_NE(bytes.find("/Type /Page"), std::string::npos);
        EXPECT_NE(bytes.find("%%EOF"), std::string::npos);
        EXPECT_NE(bytes.find("/Subject"), std::string::npos);
        EXPECT_NE(bytes.find("/Title"), std::string::npos);
      } else if (extension == "svg") {
        std::string error;
        EXPECT_EQ(xml_root_if_well_formed(bytes, &error), "svg") << error;
        EXPECT_NE(bytes.find("<metadata id=\"headscope-provenance\">"), std::string::npos);
      } else {
        check_png(path, 960, 630);
      }
    }
  }
}

TEST(Export, CommandLineWritesEachFormatAndListsTheViews) {
  const auto dir = test::temp_dir();
  const std::string exe = test::headscope_exe().string();
  const std::string help_file = (dir / "help.txt").string();
  ASSERT_EQ(std::system((exe + " export --help > " + help_file).c_str()), 0);
  const std::string help = read_all(help_file);
  for (const char* name : {"head-grid", "token-heatmap", "attention-matrix", "head"})
    EXPECT_NE(help.find(name), std::string::npos) << name;
  for (const std::string extension : {"pdf", "svg", "png"}) {
    const auto out = dir / ("grid." + extension);
    const std::string command = exe + " export --run " + test::small_demo_store() + " --view token-heatmap --head L2H1 --sample 1 --out " +
                                out.string() + " --width 500 --height 300 > /dev/null";
    ASSERT_EQ(std::system(command.c_str()), 0) << command;
    EXPECT_GT(std::filesystem::file_size(out), 500u);
  }
  check_png(dir / "grid.png", 500, 300);
  const std::string bad = exe + " export --run " + test::small_demo_store() + " --view head --out x.jpg 2> /dev/null";
  EXPECT_NE(std::system(bad.c_str()), 0);
}
