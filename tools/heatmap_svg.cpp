#include "heatmap_svg.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <sstream>

namespace vkattn::cli {

namespace {

// A sequential ramp from near-white through blue to near-black; monotone in
// lightness, so the picture reads the same in grey.
std::string colour(double t) {
  static const std::array<std::array<double, 3>, 5> stops{
      {{247, 251, 255}, {158, 202, 225}, {66, 146, 198}, {8, 69, 148}, {8, 24, 60}}};
  t = std::clamp(t, 0.0, 1.0) * double(stops.size() - 1);
  std::size_t i = std::min(std::size_t(t), stops.size() - 2);
  double f = t - double(i);
  char text[8];
  std::snprintf(text, sizeof text, "#%02x%02x%02x", int(std::lround(stops[i][0] + f * (stops[i + 1][0] - stops[i][0]))),
                int(std::lround(stops[i][1] + f * (stops[i + 1][1] - stops[i][1]))),
                int(std::lround(stops[i][2] + f * (stops[i + 1][2] - stops[i][2]))));
  return text;
}

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

}  // namespace

std::string heatmap_svg(const Heatmap& map) {
  // Cells shrink with the matrix so the drawing stays about 640 px across.
  const double longest = double(std::max(map.rows, map.columns));
  const double cell = std::clamp(std::floor(640.0 / std::max(longest, 1.0)), 1.0, 32.0);
  // Label every k-th row and column so labels never overlap (11 px text).
  const std::size_t every = std::size_t(std::ceil(12.0 / cell));
  std::size_t longest_label = 1;
  for (std::size_t i = 0; i < std::max(map.rows, map.columns); ++i)
    longest_label = std::max({longest_label, label(map.row_labels, i).size(), label(map.column_labels, i).size()});
  const double margin = 24 + 6.5 * double(std::min<std::size_t>(longest_label, 16));
  const double left = margin + 18, top = 48 + margin;
  const double width = cell * double(map.columns), height = cell * double(map.rows);
  const double bar_x = left + width + 24;

  std::ostringstream svg;
  svg << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << bar_x + 70 << "\" height=\"" << top + std::max(height, 120.0) + 24
      << "\" font-family=\"Helvetica, Arial, sans-serif\" font-size=\"11\">\n"
      << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
      << "<text x=\"" << left << "\" y=\"20\" font-size=\"14\">" << escaped(map.title) << "</text>\n"
      << "<text x=\"" << left + width / 2 << "\" y=\"38\" text-anchor=\"middle\">key</text>\n"
      << "<text transform=\"translate(14," << top + height / 2 << ") rotate(-90)\" text-anchor=\"middle\">query</text>\n";
  svg << "<g shape-rendering=\"crispEdges\">\n";
  for (std::size_t r = 0; r < map.rows; ++r)
    for (std::size_t c = 0; c < map.columns; ++c) {
      double w = map.weights[r * map.columns + c];
      svg << "<rect x=\"" << left + cell * double(c) << "\" y=\"" << top + cell * double(r) << "\" width=\"" << cell
          << "\" height=\"" << cell << "\" fill=\"" << colour(w) << "\"><title>" << escaped(label(map.row_labels, r))
          << " \xE2\x86\x92 " << escaped(label(map.column_labels, c)) << ": " << w << "</title></rect>\n";
    }
  svg << "</g>\n";
  for (std::size_t c = 0; c < map.columns; c += every)
    svg << "<text transform=\"translate(" << left + cell * (double(c) + 0.5) + 4 << "," << top - 4
        << ") rotate(-90)\">" << escaped(label(map.column_labels, c)) << "</text>\n";
  for (std::size_t r = 0; r < map.rows; r += every)
    svg << "<text x=\"" << left - 4 << "\" y=\"" << top + cell * (double(r) + 0.5) + 4 << "\" text-anchor=\"end\">"
        << escaped(label(map.row_labels, r)) << "</text>\n";
  // The colour bar: 0 at the bottom, 1 at the top.
  const double bar_height = std::max(height, 120.0);
  for (int i = 0; i < 64; ++i)
    svg << "<rect x=\"" << bar_x << "\" y=\"" << top + bar_height * (63 - i) / 64.0 << "\" width=\"14\" height=\""
        << bar_height / 64.0 + 0.5 << "\" fill=\"" << colour(i / 63.0) << "\"/>\n";
  svg << "<text x=\"" << bar_x + 18 << "\" y=\"" << top + 8 << "\">1</text>\n"
      << "<text x=\"" << bar_x + 18 << "\" y=\"" << top + bar_height << "\">0</text>\n"
      << "</svg>\n";
  return svg.str();
}

}  // namespace vkattn::cli
