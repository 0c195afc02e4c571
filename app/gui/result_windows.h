// Result files in the workbench: a sweep or ib file given to `headscope view` opens in a window of its
// own (tabs sweep | sweep-gains, or ib with its cluster table), with PDF/SVG/PNG export of the figure as
// seen, instead of going to the capture-store runs (which cannot read them). A file still being written
// (a sweep started from the workbench) is watched and redrawn as it fills in.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "views/figure_panel.h"

namespace headscope::app {

// A result file another process is still writing (a sweep started from the workbench): asked each frame
// for a newer version of the file, and to draw a header above the tabs (progress, Stop, errors).
class ResultWatch {
 public:
  virtual ~ResultWatch() = default;
  // Replaces `file` and returns true when a newer version could be read; cheap when nothing changed.
  virtual bool refresh(views::ResultFile& file) = 0;
  virtual void draw_header(const views::ResultFile& file) = 0;
};

class ResultWindows {
 public:
  ResultWindows(plot::TextureProvider* textures, std::vector<ImFont*> figure_fonts);
  // Reads the file now (result files are small); a file that cannot be read shows its error.
  void open(const std::string& path);
  // Opens a window on a file that may not exist yet; `watch` refreshes it and draws its header.
  void open_watched(const std::string& path, std::unique_ptr<ResultWatch> watch);
  // Draws every open result window for this frame (after the workbench, so they sit on top).
  void draw();
  bool empty() const { return results_.empty(); }

 private:
  struct Open {
    std::string path, error, status;
    std::string select_tab;  // a tab to bring to the front on the next frame (a clicked cluster: ib-cluster)
    std::unique_ptr<ResultWatch> watch;  // null: read once
    views::ResultFile file;
    views::ResultViewStates states;
  };
  void draw_figure(Open& result, const views::ResultView& view);

  views::FigurePanelLook look_;  // buttons after the controls, then the status; figures on a white page
  std::vector<std::unique_ptr<Open>> results_;
};

}  // namespace headscope::app
