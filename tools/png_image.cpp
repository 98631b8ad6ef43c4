#include "png_image.hpp"

#include <stdexcept>

namespace vkattn::cli {

namespace {

std::uint32_t crc32(const std::string& bytes) {
  static const std::array<std::uint32_t, 256> table = [] {
    std::array<std::uint32_t, 256> t{};
    for (std::uint32_t n = 0; n < 256; ++n) {
      std::uint32_t c = n;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[n] = c;
    }
    return t;
  }();
  std::uint32_t c = 0xFFFFFFFFu;
  for (unsigned char b : bytes) c = table[(c ^ b) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

void put32(std::string& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out += char((v >> shift) & 0xFF);
}

// A chunk: length, type, data, CRC of type and data.
void chunk(std::string& png, const char* type, const std::string& data) {
  put32(png, std::uint32_t(data.size()));
  const std::string typed = std::string(type, 4) + data;
  png += typed;
  put32(png, crc32(typed));
}

// zlib stream of stored deflate blocks (at most 65535 bytes each) and its Adler-32.
std::string stored_zlib(const std::string& raw) {
  std::string z{"\x78\x01", 2};
  std::size_t at = 0;
  do {
    const std::size_t n = std::min<std::size_t>(65535, raw.size() - at);
    const bool last = at + n == raw.size();
    z += char(last ? 1 : 0);
    z += char(n & 0xFF);
    z += char(n >> 8);
    z += char(~n & 0xFF);
    z += char((~n >> 8) & 0xFF);
    z.append(raw, at, n);
    at += n;
  } while (at < raw.size());
  std::uint32_t a = 1, b = 0;
  for (unsigned char c : raw) {
    a = (a + c) % 65521;
    b = (b + a) % 65521;
  }
  put32(z, b << 16 | a);
  return z;
}

}  // namespace

std::string palette_png(std::size_t width, std::size_t height, const std::vector<std::uint8_t>& indices,
                        const std::vector<Rgb>& palette) {
  if (indices.size() != width * height || palette.empty() || palette.size() > 256)
    throw std::invalid_argument("palette_png: indices do not match the size, or the palette is not 1..256 colours");
  std::string png("\x89PNG\r\n\x1a\n", 8);
  std::string header;
  put32(header, std::uint32_t(width));
  put32(header, std::uint32_t(height));
  header += std::string("\x08\x03\x00\x00\x00", 5);  // 8 bits, palette, deflate, no filter, no interlace
  chunk(png, "IHDR", header);
  std::string colours;
  for (const Rgb& c : palette) colours.append({char(c[0]), char(c[1]), char(c[2])});
  chunk(png, "PLTE", colours);
  std::string raw;
  raw.reserve(height * (width + 1));
  for (std::size_t r = 0; r < height; ++r) {
    raw += '\0';  // filter: none
    raw.append(reinterpret_cast<const char*>(indices.data() + r * width), width);
  }
  chunk(png, "IDAT", stored_zlib(raw));
  chunk(png, "IEND", "");
  return png;
}

std::string base64(const std::string& bytes) {
  static const char digits[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  for (std::size_t i = 0; i < bytes.size(); i += 3) {
    std::uint32_t v = std::uint32_t(static_cast<unsigned char>(bytes[i])) << 16;
    if (i + 1 < bytes.size()) v |= std::uint32_t(static_cast<unsigned char>(bytes[i + 1])) << 8;
    if (i + 2 < bytes.size()) v |= std::uint32_t(static_cast<unsigned char>(bytes[i + 2]));
    out += digits[(v >> 18) & 63];
    out += digits[(v >> 12) & 63];
    out += i + 1 < bytes.size() ? digits[(v >> 6) & 63] : '=';
    out += i + 2 < bytes.size() ? digits[v & 63] : '=';
  }
  return out;
}

}  // namespace vkattn::cli
