#include "heatmap_svg.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "png_image.hpp"

namespace vkattn::cli {

namespace {

constexpr double decades = 3;         // the log scale's range below the largest weight
const Rgb masked_colour{214, 96, 77};  // exactly 0: outside the blue ramp, so never read as "small"
constexpr int ramp_size = 255;         // palette entries of the ramp; entry 255 is the masked colour

// A sequential ramp from near-white through blue to near-black; monotone in
// lightness, so the picture reads the same in grey.
Rgb ramp(double t) {
  static const std::array<std::array<double, 3>, 5> stops{
      {{247, 251, 255}, {158, 202, 225}, {66, 146, 198}, {8, 69, 148}, {8, 24, 60}}};
  t = std::clamp(t, 0.0, 1.0) * double(stops.size() - 1);
  std::size_t i = std::min(std::size_t(t), stops.size() - 2);
  double f = t - double(i);
  Rgb c{};
  for (std::size_t k = 0; k < 3; ++k)
    c[k] = std::uint8_t(std::lround(stops[i][k] + f * (stops[i + 1][k] - stops[i][k])));
  return c;
}

std::string hex(const Rgb& c) {
  char text[8];
  std::snprintf(text, sizeof text, "#%02x%02x%02x", c[0], c[1], c[2]);
  return text;
}

std::string number(double v) {
  char text[32];
  std::snprintf(text, sizeof text, "%.3g", v);
  return text;
}

// Where a weight falls on the scale, 0..1; negative for exactly 0 (masked).
struct Scale {
  HeatmapScale kind;
  double largest;
  double position(double w) const {
    if (w <= 0) return -1;
    if (kind == HeatmapScale::linear) return w / largest;
    return std::clamp((std::log10(w / largest) + decades) / decades, 0.0, 1.0);
  }
  std::string legend() const {
    return kind == HeatmapScale::log ? "log scale: " + number(largest / std::pow(10.0, decades)) + " (and below) to " +
                                           number(largest) + ", the largest weight"
                                     : "linear scale: 0 to " + number(largest) + ", the largest weight";
  }
};

std::string escaped(const std::string& text) {
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

std::string label(const std::vector<std::string>& labels, std::size_t i) {
  return i < labels.size() ? labels[i] : std::to_string(i);
}

void draw_cells(std::ostringstream& svg, const Heatmap& map, const HeatmapPanel& panel, const Scale& scale, double x,
                double y, double cell) {
  if (map.rows * map.columns > heatmap_vector_cells) {
    std::vector<Rgb> palette;
    for (int i = 0; i < ramp_size; ++i) palette.push_back(ramp(double(i) / (ramp_size - 1)));
    palette.push_back(masked_colour);
    std::vector<std::uint8_t> indices(panel.weights.size());
    for (std::size_t i = 0; i < indices.size(); ++i) {
      const double t = scale.position(panel.weights[i]);
      indices[i] = t < 0 ? std::uint8_t(ramp_size) : std::uint8_t(std::lround(t * (ramp_size - 1)));
    }
    svg << "<image x=\"" << x << "\" y=\"" << y << "\" width=\"" << cell * double(map.columns) << "\" height=\""
        << cell * double(map.rows) << "\" preserveAspectRatio=\"none\" style=\"image-rendering:pixelated\" "
        << "href=\"data:image/png;base64," << base64(palette_png(map.columns, map.rows, indices, palette))
        << "\"/>\n";
    return;
  }
  svg << "<g shape-rendering=\"crispEdges\">\n";
  for (std::size_t r = 0; r < map.rows; ++r)
    for (std::size_t c = 0; c < map.columns; ++c) {
      const double w = panel.weights[r * map.columns + c];
      const double t = scale.position(w);
      svg << "<rect x=\"" << x + cell * double(c) << "\" y=\"" << y + cell * double(r) << "\" width=\"" << cell
          << "\" height=\"" << cell << "\" fill=\"" << hex(t < 0 ? masked_colour : ramp(t)) << "\"><title>"
          << escaped(label(map.row_labels, r)) << " \xE2\x86\x92 " << escaped(label(map.column_labels, c)) << ": "
          << (t < 0 ? std::string("0 (masked)") : number(w)) << "</title></rect>\n";
    }
  svg << "</g>\n";
}

}  // namespace

std::string heatmap_svg(const Heatmap& map) {
  double largest = 0;
  for (const HeatmapPanel& panel : map.panels)
    for (double w : panel.weights) largest = std::max(largest, w);
  const Scale scale{map.scale, largest > 0 ? largest : 1.0};

  // Panels in a near-square grid, the whole drawing about 640 px across.
  const std::size_t count = std::max<std::size_t>(map.panels.size(), 1);
  const std::size_t grid_columns = std::size_t(std::ceil(std::sqrt(double(count))));
  const std::size_t grid_rows = (count + grid_columns - 1) / grid_columns;
  const double longest = double(std::max({map.rows, map.columns, std::size_t(1)}));
  const double budget = 640.0 / double(grid_columns);
  const double cell = std::clamp(budget / longest, 0.25, 32.0);
  const bool whole_pixels = cell >= 1;
  const double drawn_cell = whole_pixels ? std::floor(cell) : cell;
  // Label every k-th row and column so labels never overlap (11 px text).
  const std::size_t every = std::size_t(std::ceil(12.0 / drawn_cell));
  std::size_t longest_label = 1;
  for (std::size_t i = 0; i < std::max(map.rows, map.columns); ++i)
    longest_label = std::max({longest_label, label(map.row_labels, i).size(), label(map.column_labels, i).size()});
  const double margin = 24 + 6.5 * double(std::min<std::size_t>(longest_label, 16));
  const double width = drawn_cell * double(map.columns), height = drawn_cell * double(map.rows);
  const double panel_width = margin + 18 + width + 16, panel_height = 20 + margin + height + 16;
  const double top = 56;
  const double bar_x = panel_width * double(grid_columns) + 8;
  const double bar_height = std::max(std::min(height, 400.0), 160.0);

  std::ostringstream svg;
  svg << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << bar_x + 300 << "\" height=\""
      << top + std::max(panel_height * double(grid_rows), bar_height + 80) + 8
      << "\" font-family=\"Helvetica, Arial, sans-serif\" font-size=\"11\">\n"
      << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
      << "<text x=\"12\" y=\"20\" font-size=\"14\">" << escaped(map.title) << "</text>\n"
      << "<text x=\"12\" y=\"38\">rows: queries; columns: keys; " << escaped(scale.legend()) << "</text>\n";
  for (std::size_t p = 0; p < map.panels.size(); ++p) {
    const double px = panel_width * double(p % grid_columns), py = top + panel_height * double(p / grid_columns);
    const double left = px + margin + 18, cells_top = py + 20 + margin;
    svg << "<text x=\"" << left << "\" y=\"" << py + 14 << "\" font-size=\"12\">" << escaped(map.panels[p].title)
        << "</text>\n";
    draw_cells(svg, map, map.panels[p], scale, left, cells_top, drawn_cell);
    for (std::size_t c = 0; c < map.columns; c += every)
      svg << "<text transform=\"translate(" << left + drawn_cell * (double(c) + 0.5) + 4 << "," << cells_top - 4
          << ") rotate(-90)\">" << escaped(label(map.column_labels, c)) << "</text>\n";
    for (std::size_t r = 0; r < map.rows; r += every)
      svg << "<text x=\"" << left - 4 << "\" y=\"" << cells_top + drawn_cell * (double(r) + 0.5) + 4
          << "\" text-anchor=\"end\">" << escaped(label(map.row_labels, r)) << "</text>\n";
  }
  // The colour bar, bottom to top along the scale, with ticks; then the masked swatch.
  const double bar_top = top + 20;
  for (int i = 0; i < 64; ++i)
    svg << "<rect x=\"" << bar_x << "\" y=\"" << bar_top + bar_height * (63 - i) / 64.0 << "\" width=\"14\" height=\""
        << bar_height / 64.0 + 0.5 << "\" fill=\"" << hex(ramp(i / 63.0)) << "\"/>\n";
  const int ticks = map.scale == HeatmapScale::log ? int(decades) : 4;
  for (int k = 0; k <= ticks; ++k) {
    const double at = double(k) / ticks;  // position on the bar
    const double value = map.scale == HeatmapScale::log ? scale.largest * std::pow(10.0, (at - 1.0) * decades)
                                                        : scale.largest * at;
    svg << "<text x=\"" << bar_x + 18 << "\" y=\"" << bar_top + bar_height * (1 - at) + 4 << "\">"
        << (map.scale == HeatmapScale::log && k == 0 ? "\xE2\x89\xA4 " : "") << number(value) << "</text>\n";
  }
  svg << "<text x=\"" << bar_x << "\" y=\"" << bar_top - 8 << "\">"
      << (map.scale == HeatmapScale::log ? "weight (log)" : "weight") << "</text>\n"
      << "<rect x=\"" << bar_x << "\" y=\"" << bar_top + bar_height + 16 << "\" width=\"14\" height=\"14\" fill=\""
      << hex(masked_colour) << "\"/>\n"
      << "<text x=\"" << bar_x + 18 << "\" y=\"" << bar_top + bar_height + 27 << "\">exactly 0 (masked)</text>\n"
      << "</svg>\n";
  return svg.str();
}

}  // namespace vkattn::cli
