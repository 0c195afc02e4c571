// Tile geometry and key reduction of the attention-matrix view (see attention_tiles.h).
#include "views/data/attention_tiles.h"

#include <algorithm>
#include <cmath>

namespace headscope::views {

std::vector<int> AttentionTileSpec::rows() const {
  std::vector<int> out;
  for (int i = 0; i < row_count; ++i) out.push_back(row_begin + i * stride);
  return out;
}

AttentionTileSpec attention_tile(int tokens, int level, int tile_row, int tile_col) {
  AttentionTileSpec spec;
  spec.level = level;
  spec.tile_row = tile_row;
  spec.tile_col = tile_col;
  spec.stride = 1 << level;
  const std::int64_t span = std::int64_t(kTileCells) * spec.stride;
  spec.row_begin = static_cast<int>(std::min<std::int64_t>(tokens, tile_row * span));
  spec.row_count = static_cast<int>((std::min<std::int64_t>(tokens, spec.row_begin + span) - spec.row_begin + spec.stride - 1) / spec.stride);
  spec.key_begin = static_cast<int>(std::min<std::int64_t>(tokens, tile_col * span));
  spec.key_end = static_cast<int>(std::min<std::int64_t>(tokens, spec.key_begin + span));
  return spec;
}

int attention_zoom_level(double visible_keys, double visible_rows, double pixels_x, double pixels_y) {
  const double cells_per_pixel = std::max(visible_keys / std::max(pixels_x, 1.0), visible_rows / std::max(pixels_y, 1.0));
  int level = 0;
  while ((1 << level) < cells_per_pixel && level < 24) ++level;
  return level;
}

std::vector<AttentionTileSpec> visible_attention_tiles(int tokens, int level, double key_lo, double key_hi, double row_lo,
                                                       double row_hi) {
  std::vector<AttentionTileSpec> tiles;
  if (tokens <= 0) return tiles;
  const double span = double(kTileCells) * (1 << level);
  auto tile_range = [&](double lo, double hi, int* first, int* last) {
    if (lo > hi) std::swap(lo, hi);
    const double a = std::max(0.0, lo + 0.5), b = std::min(tokens - 1.0, hi - 0.5);
    if (b < a) return false;
    *first = static_cast<int>(std::floor(a / span));
    *last = static_cast<int>(std::floor(b / span));
    return true;
  };
  int col_first = 0, col_last = -1, row_first = 0, row_last = -1;
  if (!tile_range(key_lo, key_hi, &col_first, &col_last) || !tile_range(row_lo, row_hi, &row_first, &row_last)) return tiles;
  for (int r = row_first; r <= row_last; ++r)
    for (int c = col_first; c <= col_last; ++c) {
      const AttentionTileSpec spec = attention_tile(tokens, level, r, c);
      const int last_row = spec.row_begin + (spec.row_count - 1) * spec.stride;
      if (spec.row_count <= 0 || spec.key_end <= spec.key_begin || spec.key_begin > last_row) continue;
      tiles.push_back(spec);
    }
  return tiles;
}

std::vector<float> reduce_tile_keys(const AttentionTileSpec& spec, const std::vector<float>& block) {
  const int width = spec.key_end - spec.key_begin, bins = spec.key_bins();
  std::vector<float> out(std::size_t(spec.row_count) * bins, 0.0f);
  for (int r = 0; r < spec.row_count; ++r)
    for (int b = 0; b < bins; ++b) {
      float best = 0;
      for (int k = b * spec.stride; k < std::min(width, (b + 1) * spec.stride); ++k)
        best = std::max(best, block[std::size_t(r) * width + k]);
      out[std::size_t(r) * bins + b] = best;
    }
  return out;
}

}  // namespace headscope::views
