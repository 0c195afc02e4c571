// The attention-matrix view's tiles for long samples: at zoom level L (stride s = 2^L tokens a cell) a
// tile is kTileCells × kTileCells cells covering kTileCells·s queries × kTileCells·s keys; a cell holds
// query row_begin + i·s (a strided selection of rows) and the max over its s keys. Level 0 is exact.
// The view asks only for the tiles it sees, at the level whose cells are no smaller than a pixel, so a
// 32k-token sample never costs more cells than the plot has pixels (plus one tile's edge).
#pragma once
#include <cstdint>
#include <vector>

namespace headscope::views {

inline constexpr int kTileCells = 256;

struct AttentionTileSpec {
  int level = 0, tile_row = 0, tile_col = 0;
  int stride = 1;                    // 2^level tokens a cell
  int row_begin = 0, row_count = 0;  // query rows row_begin + i·stride, i < row_count
  int key_begin = 0, key_end = 0;    // keys reduced in bins of `stride`: key_bins() cells
  int key_bins() const { return (key_end - key_begin + stride - 1) / stride; }
  std::vector<int> rows() const;
};

// The tile at (level, tile_row, tile_col) of a tokens × tokens matrix (clipped to it).
AttentionTileSpec attention_tile(int tokens, int level, int tile_row, int tile_col);

// The level for `visible` tokens on `pixels` pixels: the smallest with 2^level ≥ visible / pixels.
int attention_zoom_level(double visible_keys, double visible_rows, double pixels_x, double pixels_y);

// The tiles at `level` that intersect keys [key_lo, key_hi] × queries [row_lo, row_hi] (data coordinates,
// cells centred on integers), skipping tiles wholly above the diagonal (every key after every query: 0).
std::vector<AttentionTileSpec> visible_attention_tiles(int tokens, int level, double key_lo, double key_hi, double row_lo,
                                                       double row_hi);

// out [spec.row_count, spec.key_bins()]: the max of each row's keys in each bin of `stride` keys of a
// [row_count, key_end - key_begin] block (the tile's exact probabilities).
std::vector<float> reduce_tile_keys(const AttentionTileSpec& spec, const std::vector<float>& block);

}  // namespace headscope::views
