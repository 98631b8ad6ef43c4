#pragma once
// Static tensor shapes (rank 0..4) and element types.
#include <array>
#include <cstdint>
#include <initializer_list>
#include <string_view>

#include "vkattn/text.hpp"

namespace vkattn {

inline constexpr int max_rank = 4;

enum class DType : std::uint8_t { f32, f16, i32 };

constexpr std::string_view dtype_name(DType type) {
  switch (type) {
    case DType::f32: return "f32";
    case DType::f16: return "f16";
    case DType::i32: return "i32";
  }
  return "?";
}

constexpr std::int64_t dtype_bytes(DType type) { return type == DType::f16 ? 2 : 4; }

constexpr bool is_float(DType type) { return type == DType::f32 || type == DType::f16; }

struct Shape {
  std::array<std::int64_t, max_rank> dims{};
  // The number of dimensions the user gave; may exceed max_rank for a shape that was
  // written with too many dimensions, which the graph then reports.
  int rank = 0;

  constexpr Shape() = default;
  constexpr Shape(std::initializer_list<std::int64_t> list) {
    for (std::int64_t d : list) {
      if (rank < max_rank) dims[rank] = d;
      ++rank;
    }
  }

  constexpr std::int64_t operator[](int axis) const { return dims[axis]; }
  constexpr std::int64_t& operator[](int axis) { return dims[axis]; }
  // Dimension counted from the end: from_back(1) is the last one.
  // (0 when the shape has fewer dimensions.)
  constexpr std::int64_t from_back(int position) const {
    int axis = rank - position;
    return axis >= 0 && axis < max_rank && position > 0 ? dims[axis] : 0;
  }
  constexpr std::int64_t last() const { return from_back(1); }
  constexpr std::int64_t elements() const {
    std::int64_t count = 1;
    for (int i = 0; i < rank; ++i) count *= dims[i];
    return count;
  }
  constexpr bool valid() const {
    if (rank < 0 || rank > max_rank) return false;
    for (int i = 0; i < rank; ++i)
      if (dims[i] <= 0) return false;
    return true;
  }
  constexpr bool operator==(const Shape& other) const {
    if (rank != other.rank) return false;
    for (int i = 0; i < rank && i < max_rank; ++i)
      if (dims[i] != other.dims[i]) return false;
    return true;
  }
};

template <std::size_t N>
constexpr FixedText<N>& append_shape(FixedText<N>& text, const Shape& shape) {
  text.append("[");
  for (int i = 0; i < shape.rank && i < max_rank; ++i) {
    if (i > 0) text.append(", ");
    text.append(shape.dims[i]);
  }
  if (shape.rank > max_rank) text.append(", ...");
  text.append("]");
  return text;
}

constexpr Message& operator<<(Message& message, const Shape& shape) {
  append_shape(message, shape);
  return message;
}

}  // namespace vkattn
