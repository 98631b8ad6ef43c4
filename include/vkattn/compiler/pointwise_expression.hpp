#pragma once
// Building generated code's expressions from graph ops (codegen/expression.hpp): how one
// value is read (its extents over the four coordinate axes) and how one primitive op
// becomes a node. Used by the pointwise lowering and by the score programs of the
// attention fusion.
#include "vkattn/codegen/expression.hpp"
#include "vkattn/compiler/program.hpp"

namespace vkattn::passes::detail {

// The coordinate axis (0..3, aligned from the back) an index op indexes.
constexpr int index_axis(Op op) {
  return op == Op::query_index ? 2 : op == Op::key_index ? 3 : op == Op::head_index ? 1 : 0;
}

// Extents of a tensor of `shape` read broadcast over coordinates of `space` (both
// aligned from the back): an axis of size 1 where the space's is not, or absent, is
// broadcast; one as large as the space's follows the coordinate.
constexpr std::array<ExprExtent, max_rank> broadcast_extents(const Shape& shape) {
  std::array<ExprExtent, max_rank> extents{};
  for (int axis = 0; axis < shape.rank; ++axis) {
    const int at = axis + max_rank - shape.rank;
    if (shape.dynamic(axis) || shape[axis] != 1) extents[std::size_t(at)].kind = ExprExtent::Kind::coordinate;
  }
  return extents;
}

// The node of graph op `op` (with `attributes`) over `args`; its result dtype `dtype`.
constexpr ExprNode op_node(Op op, const Attributes& attributes, DType dtype, std::array<std::int8_t, 3> args) {
  ExprNode n;
  n.op = op;
  n.dtype = dtype == DType::f16 ? DType::f32 : dtype;  // generated code computes in f32
  n.args = args;
  switch (op) {
    case Op::constant: n.value = attributes.factor; break;
    case Op::scale: n.value = attributes.factor; break;
    case Op::cast: n.to = attributes.to; break;  // computed in f32 all the same (glsl_type)
    case Op::query_index:
    case Op::key_index:
    case Op::head_index:
    case Op::batch_index:
      n.axis = std::int8_t(index_axis(op));
      n.align = attributes.align;
      break;
    default: break;
  }
  return n;
}

// Whether generated code can compute `op` (given its operands' dtype).
constexpr bool renderable(Op op, DType dtype) {
  const OpGroup group = op_group(op);
  if (group == OpGroup::index || group == OpGroup::pointwise || group == OpGroup::activation) return true;
  if (op == Op::add || op == Op::mul || op == Op::scale) return true;
  (void)dtype;
  return false;
}

}  // namespace vkattn::passes::detail
