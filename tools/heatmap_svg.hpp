#pragma once
// Attention matrices drawn as an SVG heatmap: queries down, keys across, one panel per
// head (a grid when there are several), one colour scale shared by every panel and
// stated in the legend, and labels from token indices or given tokens.
//
// Colour: by default a log scale over the three decades below the largest weight, so a
// row spread over a thousand keys shows its structure as well as a row of four; or
// linear from 0 to the largest weight. A weight of exactly 0 (a masked key) is drawn in
// a separate colour, never as "small". Small panels are vector cells with a tooltip
// each; larger ones are an embedded palette PNG, so the file stays small.
#include <string>
#include <vector>

namespace vkattn::cli {

enum class HeatmapScale { log, linear };

struct HeatmapPanel {
  std::string title;            // "head 3"
  std::vector<double> weights;  // rows x columns, row-major, each in [0, 1]
};

struct Heatmap {
  std::string title;
  std::size_t rows = 0, columns = 0;
  std::vector<HeatmapPanel> panels;
  std::vector<std::string> row_labels, column_labels;  // empty: indices
  HeatmapScale scale = HeatmapScale::log;
};

// Panels with more cells than this are drawn as a raster.
inline constexpr std::size_t heatmap_vector_cells = 64 * 64;

std::string heatmap_svg(const Heatmap& map);

}  // namespace vkattn::cli
