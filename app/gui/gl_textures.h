// OpenGL textures for the plotting layer's images (heatmaps, colorbars): one texture per image key,
// re-uploaded only when the image's version changes, sampled nearest so cells stay crisp. Textures not
// used for a few seconds are deleted at the start of a frame.
#pragma once
#include <cstdint>
#include <unordered_map>
#include <vector>

#include "views/plot/canvas_imgui.h"

namespace headscope::app {

class GlTextureProvider : public plot::TextureProvider {
 public:
  ~GlTextureProvider() override;
  ImTextureID texture(const plot::ImageSource& image) override;
  // Deletes textures not used in the last `max_idle_frames` frames; call once a frame.
  void end_frame(int max_idle_frames = 300);
  int uploads() const { return uploads_; }

 private:
  struct Slot {
    unsigned int texture = 0;
    std::uint64_t version = 0;
    int width = 0, height = 0;
    std::uint64_t last_used = 0;
  };
  std::unordered_map<std::uint64_t, Slot> slots_;
  std::vector<std::uint32_t> pixels_;
  std::uint64_t frame_ = 0;
  int uploads_ = 0;
};

}  // namespace headscope::app
