// ImGuiCanvas: the plotting layer on ImGui's draw list (see canvas_imgui.h). Rotated text is drawn
// upright and its vertices are then rotated about the anchor (ImGui has no rotated-text call).
#include "views/plot/canvas_imgui.h"

#include <cmath>

namespace headscope::plot {

namespace {

ImU32 to_imgui(Color c) { return pack_rgba(c); }
ImVec2 to_imgui(Vec2 v) { return {v.x, v.y}; }

}  // namespace

ImTextureID RecordingTextureProvider::texture(const ImageSource& image) {
  ++requests;
  std::size_t index = 0;
  while (index < slots.size() && slots[index].key != image.key) ++index;
  if (index == slots.size()) slots.push_back({image.key, image.version + 1, 0, 0, {}});
  Slot& slot = slots[index];
  if (slot.version != image.version || slot.width != image.width || slot.height != image.height) {
    slot.version = image.version;
    slot.width = image.width;
    slot.height = image.height;
    slot.pixels.assign(std::size_t(image.width) * std::size_t(image.height), 0);
    if (image.fill) image.fill(slot.pixels.data());
    ++uploads;
  }
  return reinterpret_cast<ImTextureID>(static_cast<std::uintptr_t>(index + 1));
}

ImGuiCanvas::ImGuiCanvas(ImDrawList* draw_list, TextureProvider* textures, std::vector<ImFont*> fonts)
    : draw_list_(draw_list), textures_(textures), fonts_(std::move(fonts)) {
  if (fonts_.empty()) fonts_.push_back(ImGui::GetFont());
}

ImFont* ImGuiCanvas::font_for(float size) const {
  ImFont* best = fonts_.front();
  for (ImFont* font : fonts_)
    if (std::abs(font->FontSize - size) < std::abs(best->FontSize - size)) best = font;
  return best;
}

void ImGuiCanvas::line(Vec2 a, Vec2 b, Color color, float width) {
  draw_list_->AddLine(to_imgui(a), to_imgui(b), to_imgui(color), width);
}

void ImGuiCanvas::polyline(const Vec2* points, int count, Color color, float width) {
  scratch_.resize(static_cast<std::size_t>(count));
  for (int i = 0; i < count; ++i) scratch_[i] = to_imgui(points[i]);
  draw_list_->AddPolyline(scratch_.data(), count, to_imgui(color), ImDrawFlags_None, width);
}

void ImGuiCanvas::fill_rect(Rect rect, Color color) {
  draw_list_->AddRectFilled(to_imgui(rect.min), to_imgui(rect.max), to_imgui(color));
}

void ImGuiCanvas::stroke_rect(Rect rect, Color color, float width) {
  draw_list_->AddRect(to_imgui(rect.min), to_imgui(rect.max), to_imgui(color), 0, ImDrawFlags_None, width);
}

void ImGuiCanvas::fill_circle(Vec2 center, float radius, Color color) {
  draw_list_->AddCircleFilled(to_imgui(center), radius, to_imgui(color), 12);
}

void ImGuiCanvas::text(Vec2 anchor, const std::string& text, Color color, float size, TextAlign align, float angle) {
  if (text.empty()) return;
  const Vec2 extent = measure_text(text, size);
  const ImVec2 origin{anchor.x - extent.x * align.x, anchor.y - extent.y * align.y};
  if (angle == 0) {
    draw_list_->AddText(font_for(size), size, origin, to_imgui(color), text.data(), text.data() + text.size());
    return;
  }
  // ImGui culls glyphs against the clip rectangle before we rotate them: lay the text out under a clip
  // rectangle around the anchor big enough for it, then rotate it into place.
  const float reach = extent.x + extent.y;
  draw_list_->PushClipRect({anchor.x - reach, anchor.y - reach}, {anchor.x + reach, anchor.y + reach}, false);
  const int first_vertex = draw_list_->VtxBuffer.Size;
  draw_list_->AddText(font_for(size), size, origin, to_imgui(color), text.data(), text.data() + text.size());
  draw_list_->PopClipRect();

  // Rotate counter-clockwise on screen (y points down) about the anchor.
  const float c = std::cos(angle), s = std::sin(angle);
  for (int i = first_vertex; i < draw_list_->VtxBuffer.Size; ++i) {
    ImVec2& p = draw_list_->VtxBuffer[i].pos;
    const float dx = p.x - anchor.x, dy = p.y - anchor.y;
    p = {anchor.x + dx * c + dy * s, anchor.y - dx * s + dy * c};
  }
}

Vec2 ImGuiCanvas::measure_text(const std::string& text, float size) {
  const ImVec2 extent = font_for(size)->CalcTextSizeA(size, 1e9f, 0, text.data(), text.data() + text.size());
  return {extent.x, size};
}

void ImGuiCanvas::image(const ImageSource& image, Rect rect, Vec2 uv_min, Vec2 uv_max) {
  if (!textures_ || image.width <= 0 || image.height <= 0) return;
  const ImTextureID texture = textures_->texture(image);
  if (!texture) return;
  draw_list_->AddImage(texture, to_imgui(rect.min), to_imgui(rect.max), to_imgui(uv_min), to_imgui(uv_max));
}

void ImGuiCanvas::push_clip(Rect rect) { draw_list_->PushClipRect(to_imgui(rect.min), to_imgui(rect.max), true); }
void ImGuiCanvas::pop_clip() { draw_list_->PopClipRect(); }

bool ImGuiCanvas::pointer(const std::string& id, Rect area, PointerState* state) {
  if (area.width() < 1 || area.height() < 1) return false;
  const ImVec2 saved_cursor = ImGui::GetCursorScreenPos();
  ImGui::SetCursorScreenPos(to_imgui(area.min));
  ImGui::InvisibleButton(id.c_str(), {area.width(), area.height()});
  ImGui::SetItemAllowOverlap();
  const ImGuiIO& io = ImGui::GetIO();
  state->hovered = ImGui::IsItemHovered();
  state->mouse = {io.MousePos.x, io.MousePos.y};
  state->dragging = ImGui::IsItemActive() && ImGui::IsMouseDragging(ImGuiMouseButton_Left, 2.0f);
  state->drag_delta = state->dragging ? Vec2{io.MouseDelta.x, io.MouseDelta.y} : Vec2{};
  state->clicked = state->hovered && ImGui::IsMouseReleased(ImGuiMouseButton_Left) &&
                   io.MouseDragMaxDistanceSqr[ImGuiMouseButton_Left] < 16.0f;
  state->double_clicked = state->hovered && ImGui::IsMouseDoubleClicked(ImGuiMouseButton_Left);
  state->wheel = state->hovered ? io.MouseWheel : 0;
  ImGui::SetCursorScreenPos(saved_cursor);
  return true;
}

void ImGuiCanvas::tooltip(const std::string& text) {
  ImGui::BeginTooltip();
  ImGui::TextUnformatted(text.c_str());
  ImGui::EndTooltip();
}

}  // namespace headscope::plot
