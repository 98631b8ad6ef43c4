#pragma once
// Generated code as plain data: an expression over the coordinates of one element,
// kept in the Schedule (so JSON, the listing and static_assert see it) and rendered to
// GLSL by codegen/render_glsl.cpp, a pure function of it.
//
// Coordinates are four axes, aligned from the back like numpy broadcasting: in a fused
// attention kernel (b, h, i, j) of the scores [B, H, Sq, Sk]; in a pointwise kernel
// the element of its result. Nodes are graph ops (one table renders them):
//   Op::matmul      the score being modified (score programs; axis -1), or a GEMM's
//                   accumulator in its epilogue (axis: accumulator_whole, or the
//                   first or second column half of a gated GEMM), or the element of
//                   its A operand in its prologue (axis a_operand_element)
//   Op::input       a read of tensor `tensor` at the coordinates (broadcast)
//   Op::gather      tensor `tensor` read at the coordinates, but at args[0] along its
//                   gathered axis
//   Op::constant    `value` of dtype `dtype`
//   the index ops   coordinate `axis` (query_index aligned bottom-right adds Sk - Sq)
//   anything else   the op of that name over args
#include <array>
#include <cstdint>

#include "vkattn/fixed_vector.hpp"
#include "vkattn/ir.hpp"

namespace vkattn {

inline constexpr std::size_t max_expression_nodes = 96;

// ExprNode::axis of an Op::matmul node in a GEMM's generated code: the accumulator in
// its epilogue (whole, or a gated product's first or second column half), or the
// element of the A operand as it is loaded in its prologue.
inline constexpr std::int8_t accumulator_first_half = 0, accumulator_second_half = 1, accumulator_whole = 2,
                             a_operand_element = 3;
inline constexpr std::size_t max_expression_tensors = 7;

// The size of one axis of a tensor a program reads.
struct ExprExtent {
  enum class Kind : std::uint8_t {
    one,         // size 1: broadcast along the coordinate
    coordinate,  // the coordinate space's size along the same axis
    fixed,       // `size` (a gathered axis)
    push,        // a gathered axis of dynamic size, push constant `size` of a pointwise kernel
  };
  Kind kind = Kind::one;
  std::int64_t size = 0;
  constexpr bool operator==(const ExprExtent&) const = default;
};

// The range an integer tensor's values must keep, checked on the host before a run
// where the tensor is an input: what the mask it comes from means by it.
enum class ExprLimit : std::uint8_t {
  none,
  key_count,    // 0 to Sk: a padding length (keys per sequence)
  query_start,  // 0 to Sk - Sq: where a sequence's queries start among the keys (a KV cache)
};
inline constexpr ExprLimit expr_limits[] = {ExprLimit::none, ExprLimit::key_count, ExprLimit::query_start};
constexpr const char* limit_name(ExprLimit limit) {
  switch (limit) {
    case ExprLimit::none: return "none";
    case ExprLimit::key_count: return "key_count";
    case ExprLimit::query_start: return "query_start";
  }
  return "?";
}

// A tensor a program reads, at binding `binding` of its dispatch, contiguous.
struct ExprTensor {
  int binding = -1;
  DType dtype = DType::f32;  // the graph's: float ones are read as the dispatch's storage type
  // Read by a gather along this axis (0..3, aligned from the back; its extent is the
  // table's); -1: read at the coordinates.
  std::int8_t gathered = -1;
  std::array<ExprExtent, max_rank> extents{};  // aligned from the back
  ExprLimit limit = ExprLimit::none;
  constexpr bool operator==(const ExprTensor&) const = default;
};

// A further result of a pointwise kernel: node `node` stored at every coordinate into
// the tensor at binding `binding` (of the coordinate space's shape, contiguous), beside
// `value` at binding 0. `dtype` is the tensor's element on the device (like
// ExprTensor's: f16 or f32 for floats, i32 for integers and bools).
struct ExprOutput {
  int node = -1;
  int binding = -1;
  DType dtype = DType::f32;
  constexpr bool operator==(const ExprOutput&) const = default;
};
inline constexpr std::size_t max_expression_outputs = 4;

struct ExprNode {
  Op op = Op::constant;
  DType dtype = DType::f32;  // of the result
  std::array<std::int8_t, 3> args{-1, -1, -1};
  std::int8_t tensor = -1;   // Op::input, Op::gather
  std::int8_t axis = -1;     // the index ops: the coordinate (0..3)
  CausalAlign align = CausalAlign::top_left;
  double value = 0;          // Op::constant; Op::scale's factor
  DType to = DType::f32;     // Op::cast
  constexpr bool operator==(const ExprNode&) const = default;
};

struct Expression {
  FixedVector<ExprNode, max_expression_nodes> nodes;  // operands before their users
  FixedVector<ExprTensor, max_expression_tensors> tensors;
  // Score programs: `visible` (bool) hides the key where false, -1 when nothing is
  // hidden; `value` (float) is the score as softmax sees it, -1 for the score itself.
  // Pointwise kernels: `value` is the result. GEMMs: `value` is the epilogue (-1: the
  // accumulator as it is), `prologue` what the product reads for each element of A
  // (-1: A as it is), at A's coordinates.
  int visible = -1;
  int value = -1;
  int prologue = -1;
  // Pointwise kernels: values of the region that are read beyond it, stored too (a
  // residual stream the region also transforms).
  FixedVector<ExprOutput, max_expression_outputs> outputs;
  constexpr bool operator==(const Expression&) const = default;

  // The index of `node`: an equal node already present is reused (nodes are pure), so
  // repeated constants and index values cost nothing.
  constexpr int add(const ExprNode& node) {
    for (std::size_t i = 0; i < nodes.size(); ++i)
      if (nodes[i] == node) return int(i);
    if (nodes.size() == nodes.capacity()) return -1;
    nodes.push_back(node);
    return int(nodes.size()) - 1;
  }
  constexpr const ExprNode& node(int i) const { return nodes[std::size_t(i)]; }
  // Which nodes `root` depends on, itself included (none for root -1).
  constexpr std::array<bool, max_expression_nodes> needs(int root) const {
    std::array<bool, max_expression_nodes> need{};
    if (root < 0 || root >= int(nodes.size())) return need;
    need[std::size_t(root)] = true;
    for (int i = root; i >= 0; --i)
      if (need[std::size_t(i)])
        for (std::int8_t a : node(i).args)
          if (a >= 0) need[std::size_t(a)] = true;
    return need;
  }
  // Which nodes `value` and every further output depend on: what a pointwise kernel
  // computes per element.
  constexpr std::array<bool, max_expression_nodes> needs_stored() const {
    std::array<bool, max_expression_nodes> need = needs(value);
    for (const ExprOutput& out : outputs) {
      const auto more = needs(out.node);
      for (std::size_t i = 0; i < need.size(); ++i) need[i] = need[i] || more[i];
    }
    return need;
  }
  // Whether node `root` reads the score (Op::matmul) or depends on it.
  constexpr bool reads_score(int root) const {
    std::array<bool, max_expression_nodes> reads{};
    for (int i = 0; i <= root && i < int(nodes.size()); ++i) {
      const ExprNode& n = node(i);
      reads[std::size_t(i)] = n.op == Op::matmul;
      for (std::int8_t a : n.args)
        if (a >= 0 && reads[std::size_t(a)]) reads[std::size_t(i)] = true;
    }
    return root >= 0 && reads[std::size_t(root)];
  }
};

}  // namespace vkattn
