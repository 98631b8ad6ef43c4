#pragma once
// A palette PNG written without a compression library: 8-bit palette indices in
// stored (uncompressed) deflate blocks, one byte per pixel, so a 300 x 300 heatmap is
// about 90 KB. Used to embed large heatmaps in SVG as a raster.
#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace vkattn::cli {

using Rgb = std::array<std::uint8_t, 3>;

// `indices` holds width x height palette indices, row-major; at most 256 colours.
std::string palette_png(std::size_t width, std::size_t height, const std::vector<std::uint8_t>& indices,
                        const std::vector<Rgb>& palette);

std::string base64(const std::string& bytes);

}  // namespace vkattn::cli
