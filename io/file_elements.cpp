#include "file_elements.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

namespace vkattn {

std::string_view file_element_name(FileElement type) {
  switch (type) {
    case FileElement::f16: return "f16";
    case FileElement::bf16: return "bf16";
    case FileElement::f32: return "f32";
    case FileElement::f64: return "f64";
    case FileElement::i32: return "i32";
    case FileElement::i64: return "i64";
  }
  return "?";
}

float half_to_float(std::uint16_t bits) {
  const std::uint32_t sign = std::uint32_t(bits & 0x8000u) << 16;
  const std::uint32_t exponent = (bits >> 10) & 0x1Fu;
  const std::uint32_t mantissa = bits & 0x3FFu;
  if (exponent == 0) {  // zero or subnormal: mantissa · 2⁻²⁴
    float magnitude = std::ldexp(float(mantissa), -24);
    return sign ? -magnitude : magnitude;
  }
  std::uint32_t out = exponent == 0x1F ? sign | 0x7F800000u | (mantissa << 13)  // inf, NaN
                                       : sign | ((exponent + 112u) << 23) | (mantissa << 13);
  return std::bit_cast<float>(out);
}

std::uint16_t double_to_half(double value) {
  const std::uint16_t sign = std::signbit(value) ? 0x8000u : 0u;
  const double a = std::fabs(value);
  if (std::isnan(value)) return std::uint16_t(sign | 0x7E00u);
  if (a >= 65520.0) return std::uint16_t(sign | 0x7C00u);  // rounds to infinity
  if (a < 6.103515625e-05) {  // below the smallest normal half: a multiple of 2⁻²⁴, rounded to even
    return std::uint16_t(sign | std::uint16_t(std::nearbyint(std::ldexp(a, 24))));
  }
  int exponent = 0;
  std::frexp(a, &exponent);  // a = m · 2^exponent, m in [0.5, 1)
  double significand = std::nearbyint(std::ldexp(a, 11 - exponent));  // in [1024, 2048]
  if (significand == 2048.0) {
    significand = 1024.0;
    ++exponent;
  }
  if (exponent + 14 > 30) return std::uint16_t(sign | 0x7C00u);
  return std::uint16_t(sign | std::uint16_t((exponent + 14) << 10) | std::uint16_t(significand - 1024.0));
}

std::uint16_t float_to_half(float value) {
  const std::uint32_t bits = std::bit_cast<std::uint32_t>(value);
  const std::uint16_t sign = std::uint16_t((bits >> 16) & 0x8000u);
  const std::uint32_t magnitude = bits & 0x7FFFFFFFu;
  if (magnitude > 0x7F800000u) return std::uint16_t(sign | 0x7E00u);  // NaN
  if (magnitude >= 0x477FF000u) return std::uint16_t(sign | 0x7C00u);  // rounds to infinity
  if (magnitude < 0x38800000u) {  // below the smallest normal half: subnormal or zero
    // Scaling by 2²⁴ makes the half subnormal's mantissa an integer; nearbyint rounds
    // to nearest even.
    float scaled = std::bit_cast<float>(magnitude) * 16777216.0f;
    return std::uint16_t(sign | std::uint16_t(std::nearbyint(scaled)));
  }
  // Normal: rebias the exponent and round the 13 dropped mantissa bits to nearest even.
  std::uint32_t rebased = magnitude - (112u << 23);
  std::uint32_t rounded = rebased + 0x0FFFu + ((rebased >> 13) & 1u);
  return std::uint16_t(sign | std::uint16_t(rounded >> 13));
}

namespace file_io {

std::vector<char> read_file(const std::string& path) {
  std::error_code error;
  if (std::filesystem::is_directory(path, error)) throw TensorFileError(path + ": is a directory, not a tensor file");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw TensorFileError(path + ": cannot open the file for reading");
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) throw TensorFileError(path + ": read error");
  return bytes;
}

namespace {

void write_stream(std::ofstream& out, const std::string& header, const std::vector<char>& data) {
  out.write(header.data(), std::streamsize(header.size()));
  out.write(data.data(), std::streamsize(data.size()));
  out.close();
}

}  // namespace

// A regular file is written to a temporary file beside `path`, closed and checked, then
// renamed over it: a failure leaves neither a partial file nor a changed one. A path
// that exists and is not a regular file (a device, a pipe) is written in place, and its
// close is checked.
void write_file(const std::string& path, const std::string& header, const std::vector<char>& data) {
  std::error_code error;
  const auto status = std::filesystem::status(path, error);
  if (std::filesystem::exists(status) && std::filesystem::is_directory(status))
    throw TensorFileError(path + ": is a directory; name a file to write");
  if (std::filesystem::exists(status) && !std::filesystem::is_regular_file(status)) {
    std::ofstream out(path, std::ios::binary);
    if (!out) throw TensorFileError(path + ": cannot open it for writing (" + std::strerror(errno) + ")");
    write_stream(out, header, data);
    if (!out) throw TensorFileError(path + ": write error (device full?)");
    return;
  }
  const std::string temporary = path + ".vkattn-partial";
  std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
  if (!out) throw TensorFileError(path + ": cannot create " + temporary + " to write it (" + std::strerror(errno) + ")");
  write_stream(out, header, data);
  if (!out) {
    std::remove(temporary.c_str());
    throw TensorFileError(path + ": write error (disk full?); nothing was written");
  }
  if (std::rename(temporary.c_str(), path.c_str()) != 0) {
    const std::string why = std::strerror(errno);
    std::remove(temporary.c_str());
    throw TensorFileError(path + ": cannot replace the file (" + why + "); nothing was written");
  }
}

std::int64_t element_bytes(FileElement type) {
  switch (type) {
    case FileElement::f16:
    case FileElement::bf16: return 2;
    case FileElement::f32:
    case FileElement::i32: return 4;
    case FileElement::f64:
    case FileElement::i64: return 8;
  }
  return 1;
}

namespace {

template <typename T>
T load(const char* p) {
  T value;
  std::memcpy(&value, p, sizeof(T));
  if constexpr (std::endian::native == std::endian::big) {
    auto raw = std::bit_cast<std::array<char, sizeof(T)>>(value);
    std::reverse(raw.begin(), raw.end());
    value = std::bit_cast<T>(raw);
  }
  return value;
}

template <typename T>
void store(T value, std::vector<char>& out) {
  char raw[sizeof(T)];
  std::memcpy(raw, &value, sizeof(T));
  if constexpr (std::endian::native == std::endian::big) std::reverse(raw, raw + sizeof(T));
  out.insert(out.end(), raw, raw + sizeof(T));
}

}  // namespace

void decode(const char* bytes, FileElement type, std::int64_t count, double* out) {
  const std::int64_t size = element_bytes(type);
  for (std::int64_t i = 0; i < count; ++i) {
    const char* p = bytes + i * size;
    switch (type) {
      case FileElement::f16: out[i] = half_to_float(load<std::uint16_t>(p)); break;
      case FileElement::bf16: out[i] = std::bit_cast<float>(std::uint32_t(load<std::uint16_t>(p)) << 16); break;
      case FileElement::f32: out[i] = load<float>(p); break;
      case FileElement::f64: out[i] = load<double>(p); break;
      case FileElement::i32: out[i] = load<std::int32_t>(p); break;
      case FileElement::i64: out[i] = double(load<std::int64_t>(p)); break;
    }
  }
}

void encode(const std::vector<double>& values, FileElement type, std::vector<char>& out) {
  out.reserve(out.size() + values.size() * std::size_t(element_bytes(type)));
  for (double v : values) {
    switch (type) {
      case FileElement::f16: store(float_to_half(float(v)), out); break;
      case FileElement::bf16: {  // round to nearest even on the dropped 16 bits
        std::uint32_t bits = std::bit_cast<std::uint32_t>(float(v));
        store(std::uint16_t((bits + 0x7FFFu + ((bits >> 16) & 1u)) >> 16), out);
        break;
      }
      case FileElement::f32: store(float(v), out); break;
      case FileElement::f64: store(v, out); break;
      case FileElement::i32: store(std::int32_t(v), out); break;
      case FileElement::i64: store(std::int64_t(v), out); break;
    }
  }
}

}  // namespace file_io
}  // namespace vkattn
