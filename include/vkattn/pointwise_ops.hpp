#pragma once
// The DSL's index values and pointwise ops: what score modifications and masks are
// written with (the style of FlexAttention's score_mod and mask_mod).
//
//   auto q = query_index(scores), k = key_index(scores);  // [.., Sq, 1] and [.., 1, Sk], i32
//   auto visible = k <= q && q - k < window;               // bool, broadcast to [.., Sq, Sk]
//   scores = where(visible, scores, minus_infinity(scores));
//
// Index values are ordinary values to the DSL and the reference; the compiler never
// materialises them inside a fused attention kernel (it renders them as code).
// Arithmetic needs one dtype on both sides (i32 with i32, f32 with f32, f16 with f16);
// a plain number next to a Value becomes a constant of the Value's dtype.
#include <limits>

#include "vkattn/ops.hpp"

namespace vkattn {

namespace detail {

constexpr Graph& graph_of(Value v, std::string_view op, SourceLocation where) {
  if (v.graph() == nullptr) {
    if (std::is_constant_evaluated()) throw "vkattn: an op was applied to an empty Value";
    throw GraphError(std::string(where.known() ? where.file : "?") + ":" + std::to_string(where.line) + ": " +
                     std::string(op) + ": the operand is an empty Value");
  }
  return *v.graph();
}

// A constant of x's dtype (f16 ones must be exact f16 values).
constexpr Value constant_like(Value x, double value, SourceLocation where) {
  return graph_of(x, "constant", where).constant(value, x.dtype() == DType::boolean ? DType::f32 : x.dtype(), where);
}

constexpr Value binary(Op op, Value a, Value b, SourceLocation where) { return apply(op, {a, b}, {}, where); }

}  // namespace detail

// An i32 constant in the graph of `x`, for arithmetic on index values.
constexpr Value index_constant(Value x, double value, SourceLocation where = SourceLocation::current()) {
  return detail::graph_of(x, "constant", where).constant(value, DType::i32, where);
}

// The indices of a score element of `scores` [..., Sq, Sk], as i32 values of size 1 but
// along their own axis:
//   query_index: i, shaped [1, .., Sq, 1]; aligned bottom_right it is i + Sk - Sq (the
//                last query sits at the last key, as when decoding over earlier keys);
//   key_index:   j, shaped [1, .., 1, Sk];
//   head_index:  h, the third axis from the back, shaped [1, H, 1, 1];
//   batch_index: b of rank-4 scores, shaped [B, 1, 1, 1].
constexpr Value query_index(Value scores, CausalAlign align = CausalAlign::top_left,
                            SourceLocation where = SourceLocation::current()) {
  Attributes attributes;
  attributes.align = align;
  return detail::apply(Op::query_index, {scores}, attributes, where);
}
constexpr Value key_index(Value scores, SourceLocation where = SourceLocation::current()) {
  return detail::apply(Op::key_index, {scores}, {}, where);
}
constexpr Value head_index(Value scores, SourceLocation where = SourceLocation::current()) {
  return detail::apply(Op::head_index, {scores}, {}, where);
}
constexpr Value batch_index(Value scores, SourceLocation where = SourceLocation::current()) {
  return detail::apply(Op::batch_index, {scores}, {}, where);
}

// x with an axis of size 1 inserted at position `axis` (0 .. rank): a per-sequence
// vector [B] becomes [B, 1, 1, 1] with three calls, so it broadcasts against scores.
constexpr Value unsqueeze(Value x, int axis, SourceLocation where = SourceLocation::current()) {
  Attributes attributes;
  attributes.count = axis;
  return detail::apply(Op::unsqueeze, {x}, attributes, where);
}

// x converted to `dtype`: f32 to i32 rounds toward zero (as PyTorch's .long()), bool
// gives 0 or 1.
constexpr Value cast(Value x, DType dtype, SourceLocation where = SourceLocation::current()) {
  Attributes attributes;
  attributes.to = dtype;
  return detail::apply(Op::cast, {x}, attributes, where);
}

// -inf as a constant of x's float dtype: where(visible, scores, minus_infinity(scores)).
constexpr Value minus_infinity(Value x, SourceLocation where = SourceLocation::current()) {
  return detail::graph_of(x, "constant", where)
      .constant(-std::numeric_limits<double>::infinity(), x.dtype() == DType::f16 ? DType::f16 : DType::f32, where);
}

constexpr Value sub(Value a, Value b, SourceLocation where = SourceLocation::current()) {
  return detail::binary(Op::sub, a, b, where);
}
// floor(a / b): Python's //, so -3 // 2 is -2. An integer b of 0 is an error in the
// reference and gives 0 on a device.
constexpr Value floor_div(Value a, Value b, SourceLocation where = SourceLocation::current()) {
  return detail::binary(Op::floor_div, a, b, where);
}
constexpr Value minimum(Value a, Value b, SourceLocation where = SourceLocation::current()) {
  return detail::binary(Op::minimum, a, b, where);
}
constexpr Value maximum(Value a, Value b, SourceLocation where = SourceLocation::current()) {
  return detail::binary(Op::maximum, a, b, where);
}
// 1 / (1 + e^-x): x * sigmoid(1.702 x) is the quick GELU, a * sigmoid(b) a gate.
constexpr Value sigmoid(Value x, SourceLocation where = SourceLocation::current()) {
  return detail::apply(Op::sigmoid, {x}, {}, where);
}
// min(max(x, low), high), all three broadcast and of one dtype.
constexpr Value clamp(Value x, Value low, Value high, SourceLocation where = SourceLocation::current()) {
  return detail::apply(Op::clamp, {x, low, high}, {}, where);
}
// The same with plain bounds, constants of x's dtype.
constexpr Value clamp(Value x, double low, double high, SourceLocation where = SourceLocation::current()) {
  return clamp(x, detail::constant_like(x, low, where), detail::constant_like(x, high, where), where);
}
// 1 / sqrt(x): rsqrt(mean(x * x) + epsilon) is RMSNorm's per-row scale.
constexpr Value rsqrt(Value x, SourceLocation where = SourceLocation::current()) {
  return detail::apply(Op::rsqrt, {x}, {}, where);
}
constexpr Value abs(Value x, SourceLocation where = SourceLocation::current()) {
  return detail::apply(Op::abs, {x}, {}, where);
}
constexpr Value exp(Value x, SourceLocation where = SourceLocation::current()) {
  return detail::apply(Op::exp, {x}, {}, where);
}
constexpr Value log(Value x, SourceLocation where = SourceLocation::current()) {
  return detail::apply(Op::log, {x}, {}, where);
}
constexpr Value less(Value a, Value b, SourceLocation where = SourceLocation::current()) {
  return detail::binary(Op::less, a, b, where);
}
constexpr Value less_equal(Value a, Value b, SourceLocation where = SourceLocation::current()) {
  return detail::binary(Op::less_equal, a, b, where);
}
constexpr Value equal(Value a, Value b, SourceLocation where = SourceLocation::current()) {
  return detail::binary(Op::equal, a, b, where);
}
constexpr Value logical_and(Value a, Value b, SourceLocation where = SourceLocation::current()) {
  return detail::binary(Op::logical_and, a, b, where);
}
constexpr Value logical_or(Value a, Value b, SourceLocation where = SourceLocation::current()) {
  return detail::binary(Op::logical_or, a, b, where);
}
constexpr Value logical_not(Value x, SourceLocation where = SourceLocation::current()) {
  return detail::apply(Op::logical_not, {x}, {}, where);
}
// cond ? a : b, all three broadcast; cond is bool, a and b share a dtype.
constexpr Value where(Value cond, Value a, Value b, SourceLocation where_ = SourceLocation::current()) {
  return detail::apply(Op::where, {cond, a, b}, {}, where_);
}
// table[..., index[...]]: numpy's take_along_axis(table, index, axis=-1), the table's
// leading axes broadcast against the index. An index outside the table's last axis is
// an error in the reference and reads the nearest entry on a device (and an index read
// straight from an input is refused before a run).
constexpr Value gather(Value table, Value index, SourceLocation where = SourceLocation::current()) {
  return detail::apply(Op::gather, {table, index}, {}, where);
}
// The same along the table's axis `axis`, counted from the back (-1 the last): with a
// [rows, features] table and an index [..., 1], axis -2 reads whole rows, the
// embedding lookup table[index[...], :].
constexpr Value gather(Value table, Value index, int axis, SourceLocation where = SourceLocation::current()) {
  Attributes attributes;
  attributes.axis = std::int8_t(axis < -128 || axis > 0 ? 0 : axis);  // 0 and beyond: refused by infer
  return detail::apply(Op::gather, {table, index}, attributes, where);
}

// Operators. Each records the line it is written on; a number beside a Value becomes a
// constant of its dtype.
constexpr Value operator-(LocatedValue a, Value b) { return sub(a.value, b, a.where); }
constexpr Value operator-(LocatedValue a, double b) { return sub(a.value, detail::constant_like(a.value, b, a.where), a.where); }
constexpr Value operator+(LocatedValue a, double b) { return add(a.value, detail::constant_like(a.value, b, a.where), a.where); }
constexpr Value operator<(LocatedValue a, Value b) { return less(a.value, b, a.where); }
constexpr Value operator<(LocatedValue a, double b) { return less(a.value, detail::constant_like(a.value, b, a.where), a.where); }
constexpr Value operator<=(LocatedValue a, Value b) { return less_equal(a.value, b, a.where); }
constexpr Value operator<=(LocatedValue a, double b) {
  return less_equal(a.value, detail::constant_like(a.value, b, a.where), a.where);
}
constexpr Value operator>(LocatedValue a, Value b) { return less(b, a.value, a.where); }
constexpr Value operator>(LocatedValue a, double b) { return less(detail::constant_like(a.value, b, a.where), a.value, a.where); }
constexpr Value operator>=(LocatedValue a, Value b) { return less_equal(b, a.value, a.where); }
constexpr Value operator>=(LocatedValue a, double b) {
  return less_equal(detail::constant_like(a.value, b, a.where), a.value, a.where);
}
constexpr Value operator&&(LocatedValue a, Value b) { return logical_and(a.value, b, a.where); }
constexpr Value operator||(LocatedValue a, Value b) { return logical_or(a.value, b, a.where); }
constexpr Value operator!(LocatedValue a) { return logical_not(a.value, a.where); }

}  // namespace vkattn
