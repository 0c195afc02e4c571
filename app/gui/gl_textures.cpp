// GlTextureProvider (see gl_textures.h). Uses only OpenGL 1.1 entry points, which libGL exports directly.
#include "app/gui/gl_textures.h"

#include <GL/gl.h>

#include <cstdint>

namespace headscope::app {

GlTextureProvider::~GlTextureProvider() {
  for (auto& [key, slot] : slots_) glDeleteTextures(1, &slot.texture);
}

ImTextureID GlTextureProvider::texture(const plot::ImageSource& image) {
  Slot& slot = slots_[image.key];
  slot.last_used = frame_;
  if (slot.texture == 0) {
    glGenTextures(1, &slot.texture);
    slot.version = image.version + 1;
  }
  if (slot.version != image.version || slot.width != image.width || slot.height != image.height) {
    pixels_.assign(std::size_t(image.width) * std::size_t(image.height), 0);
    if (image.fill) image.fill(pixels_.data());
    glBindTexture(GL_TEXTURE_2D, slot.texture);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MIN_FILTER, GL_NEAREST);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MAG_FILTER, GL_NEAREST);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_S, GL_CLAMP_TO_EDGE);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_T, GL_CLAMP_TO_EDGE);
    glPixelStorei(GL_UNPACK_ALIGNMENT, 4);
    glPixelStorei(GL_UNPACK_ROW_LENGTH, 0);
    glTexImage2D(GL_TEXTURE_2D, 0, GL_RGBA, image.width, image.height, 0, GL_RGBA, GL_UNSIGNED_BYTE, pixels_.data());
    slot.version = image.version;
    slot.width = image.width;
    slot.height = image.height;
    ++uploads_;
  }
  return reinterpret_cast<ImTextureID>(static_cast<std::uintptr_t>(slot.texture));
}

void GlTextureProvider::end_frame(int max_idle_frames) {
  ++frame_;
  for (auto it = slots_.begin(); it != slots_.end();) {
    if (frame_ - it->second.last_used > static_cast<std::uint64_t>(max_idle_frames)) {
      glDeleteTextures(1, &it->second.texture);
      it = slots_.erase(it);
    } else {
      ++it;
    }
  }
}

}  // namespace headscope::app
