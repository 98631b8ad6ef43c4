#pragma once
// Tensor shapes (rank 0..4), whose dimensions are fixed or dynamic, and element types.
//
// A dynamic dimension has a name and an upper bound: dyn("seq", 4096). Shapes are
// checked with the names (a dimension named `seq` equals only another `seq`), memory is
// planned for the bounds, and each run supplies the actual sizes. Until a graph is given
// sizes (with_sizes, graph.hpp), a dynamic dimension's size is its bound.
#include <array>
#include <concepts>
#include <cstdint>
#include <initializer_list>
#include <string_view>

#include "vkattn/text.hpp"

namespace vkattn {

inline constexpr int max_rank = 4;

// boolean: the result of a comparison or of logic (stored on a device as 0 or 1 in
// 32-bit integers); no input or weight has it.
enum class DType : std::uint8_t { f32, f16, i32, boolean };

constexpr std::string_view dtype_name(DType type) {
  switch (type) {
    case DType::f32: return "f32";
    case DType::f16: return "f16";
    case DType::i32: return "i32";
    case DType::boolean: return "bool";
  }
  return "?";
}

constexpr std::int64_t dtype_bytes(DType type) { return type == DType::f16 ? 2 : 4; }

constexpr bool is_float(DType type) { return type == DType::f32 || type == DType::f16; }

// The name of a dynamic dimension ("seq"): up to 15 characters, packed into two words
// so that a shape stays cheap to copy during constant evaluation (every shape of a
// graph and of a schedule carries four).
class SymbolName {
 public:
  constexpr SymbolName() = default;
  constexpr SymbolName(std::string_view name) {  // NOLINT: implicit by design
    truncated_ = name.size() > capacity();
    for (std::size_t i = 0; i < name.size() && i < capacity(); ++i)
      words_[i / 8] |= std::uint64_t(static_cast<unsigned char>(name[i])) << (8 * (i % 8));
  }
  constexpr SymbolName(const char* name) : SymbolName(std::string_view{name}) {}  // NOLINT

  static constexpr std::size_t capacity() { return 15; }
  constexpr bool empty() const { return words_[0] == 0; }
  // True when the name given was longer than capacity() and was cut.
  constexpr bool truncated() const { return truncated_; }
  // The name as text (read it before the temporary ends: name.text().view()).
  constexpr FixedText<16> text() const {
    FixedText<16> out;
    for (std::size_t i = 0; i < capacity(); ++i) {
      const char c = char((words_[i / 8] >> (8 * (i % 8))) & 0xFFu);
      if (c == 0) break;
      out.append(std::string_view{&c, 1});
    }
    return out;
  }
  constexpr bool operator==(const SymbolName&) const = default;

 private:
  std::array<std::uint64_t, 2> words_{};
  bool truncated_ = false;
};

// One dimension as the user writes it: a size, or dyn(name, bound).
struct Extent {
  std::int64_t size = 0;
  SymbolName symbol;  // empty: a fixed size
  template <std::integral T>
  constexpr Extent(T fixed) : size(std::int64_t(fixed)) {}  // NOLINT: implicit by design
  constexpr Extent(std::string_view name, std::int64_t bound) : size(bound), symbol(name) {}
};

// A dynamic dimension named `name` (1 to 15 characters) of at most `bound`.
constexpr Extent dyn(std::string_view name, std::int64_t bound) { return Extent{name, bound}; }

struct Shape {
  std::array<std::int64_t, max_rank> dims{};  // the sizes (a dynamic dimension's current size)
  std::array<SymbolName, max_rank> symbols{};  // a dynamic dimension's name; empty when fixed
  std::array<std::int64_t, max_rank> bounds{};  // a dynamic dimension's upper bound
  // The number of dimensions the user gave; may exceed max_rank for a shape that was
  // written with too many dimensions, which the graph then reports.
  int rank = 0;

  constexpr Shape() = default;
  constexpr Shape(std::initializer_list<Extent> list) {
    for (const Extent& e : list) {
      if (rank < max_rank) {
        dims[rank] = e.size;
        symbols[rank] = e.symbol;
        bounds[rank] = e.symbol.empty() ? 0 : e.size;
      }
      ++rank;
    }
  }

  constexpr bool dynamic(int axis) const { return axis >= 0 && axis < max_rank && !symbols[axis].empty(); }
  constexpr bool any_dynamic() const {
    for (int i = 0; i < rank && i < max_rank; ++i)
      if (dynamic(i)) return true;
    return false;
  }
  // Copies dimension `axis` of `from` (its size, and its name and bound when dynamic)
  // into dimension `to`.
  constexpr void copy_dim(int to, const Shape& from, int axis) {
    dims[to] = from.dims[axis];
    symbols[to] = from.symbols[axis];
    bounds[to] = from.bounds[axis];
  }
  // Makes dimension `axis` the fixed size `size`.
  constexpr void set_fixed(int axis, std::int64_t size) {
    dims[axis] = size;
    symbols[axis] = SymbolName{};
    bounds[axis] = 0;
  }
  // The same shape with every dynamic dimension at its bound: what memory is planned for.
  constexpr Shape at_bounds() const {
    Shape s = *this;
    for (int i = 0; i < rank && i < max_rank; ++i)
      if (dynamic(i)) s.dims[i] = bounds[i];
    return s;
  }
  // Whether dimension `axis` of this and `axis_other` of `other` are the same: equal
  // sizes, and the same name when either is dynamic.
  constexpr bool same_dim(int axis, const Shape& other, int axis_other) const {
    return dims[axis] == other.dims[axis_other] && symbols[axis] == other.symbols[axis_other];
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
      if (dims[i] != other.dims[i] || symbols[i] != other.symbols[i] || bounds[i] != other.bounds[i]) return false;
    return true;
  }
};

// Whether two shapes have the same sizes, whatever their dynamic dimensions are named:
// how a tensor (always plain sizes) is matched with the shape a graph declares.
constexpr bool same_sizes(const Shape& a, const Shape& b) {
  if (a.rank != b.rank) return false;
  for (int i = 0; i < a.rank && i < max_rank; ++i)
    if (a.dims[i] != b.dims[i]) return false;
  return true;
}

// The sizes alone: every dimension fixed (the shape of a tensor holding the values).
constexpr Shape plain(const Shape& shape) {
  Shape s;
  s.rank = shape.rank;
  s.dims = shape.dims;
  return s;
}

template <std::size_t N>
constexpr FixedText<N>& append_shape(FixedText<N>& text, const Shape& shape) {
  text.append("[");
  for (int i = 0; i < shape.rank && i < max_rank; ++i) {
    if (i > 0) text.append(", ");
    if (shape.dynamic(i)) {
      // seq<=4096 while at its bound; seq=7 once a run gave it a size.
      text.append(shape.symbols[i].text().view());
      if (shape.dims[i] == shape.bounds[i])
        text.append("<=").append(shape.bounds[i]);
      else
        text.append("=").append(shape.dims[i]);
      continue;
    }
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
