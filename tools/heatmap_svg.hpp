#pragma once
// An attention matrix drawn as an SVG heatmap: queries down, keys across, one cell
// per weight, a colour bar, and labels from token indices or given tokens.
#include <string>
#include <vector>

namespace vkattn::cli {

struct Heatmap {
  std::string title;
  std::size_t rows = 0, columns = 0;
  std::vector<double> weights;  // rows x columns, row-major, each in [0, 1]
  std::vector<std::string> row_labels, column_labels;  // empty: indices
};

std::string heatmap_svg(const Heatmap& map);

}  // namespace vkattn::cli
