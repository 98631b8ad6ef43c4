#pragma once
// The graph IR: primitive ops, their attributes and the node that records one use.
// Every type here is a literal type so graphs can live in constant evaluation.
#include <array>
#include <cstdint>
#include <string_view>

#include "vkattn/shape.hpp"
#include "vkattn/source_location.hpp"
#include "vkattn/text.hpp"

namespace vkattn {

enum class Op : std::uint8_t {
  input,                // a tensor supplied at run time, by name
  weight,               // a parameter bound by name when the graph is loaded
  output,               // marks its operand as a named graph output
  matmul,               // a[..., M, K] x b[..., K, N] (or b[..., N, K] with transpose_b)
  add,                  // elementwise a + b with numpy broadcasting
  scale,                // x * factor
  split_heads,          // [B, S, H*D] -> [B, H, S, D]
  merge_heads,          // [B, H, S, D] -> [B, S, H*D]
  repeat_heads,         // [B, H, S, D] -> [B, H*r, S, D]; output head h reads head h / r
  permute,              // reorders dimensions
  causal_mask,          // scores[..., i, j] = -inf where key j is after query i
  padding_mask,         // scores[b, ..., j] = -inf where j >= lengths[b]
  boolean_mask,         // scores = -inf where mask == 0 (mask broadcasts to scores)
  additive_mask,        // scores + mask (mask broadcasts to scores)
  sliding_window_mask,  // scores[..., i, j] = -inf where |i - j| >= window
  softmax,              // over the last axis; a row of only -inf gives zeros
  layer_norm,           // over the last axis, population variance
  gelu,                 // x * Phi(x), the exact (erf) form
  relu,                 // max(x, 0)
};

inline constexpr int op_count = int(Op::relu) + 1;
inline constexpr int max_inputs = 3;

constexpr std::string_view op_name(Op op) {
  switch (op) {
    case Op::input: return "input";
    case Op::weight: return "weight";
    case Op::output: return "output";
    case Op::matmul: return "matmul";
    case Op::add: return "add";
    case Op::scale: return "scale";
    case Op::split_heads: return "split_heads";
    case Op::merge_heads: return "merge_heads";
    case Op::repeat_heads: return "repeat_heads";
    case Op::permute: return "permute";
    case Op::causal_mask: return "causal_mask";
    case Op::padding_mask: return "padding_mask";
    case Op::boolean_mask: return "boolean_mask";
    case Op::additive_mask: return "additive_mask";
    case Op::sliding_window_mask: return "sliding_window_mask";
    case Op::softmax: return "softmax";
    case Op::layer_norm: return "layer_norm";
    case Op::gelu: return "gelu";
    case Op::relu: return "relu";
  }
  return "?";
}

// Whether `name` is one the graph generated ("<op>_<index>", e.g. "matmul_3") rather
// than one the user gave.
constexpr bool is_generated_name(std::string_view name) {
  std::size_t underscore = name.rfind('_');
  if (underscore == std::string_view::npos || underscore + 1 == name.size()) return false;
  for (char c : name.substr(underscore + 1))
    if (c < '0' || c > '9') return false;
  for (int op = 0; op < op_count; ++op)
    if (op_name(Op(op)) == name.substr(0, underscore)) return true;
  return false;
}

// Number of operands each op takes.
constexpr int op_arity(Op op) {
  switch (op) {
    case Op::input:
    case Op::weight: return 0;
    case Op::matmul:
    case Op::add:
    case Op::padding_mask:
    case Op::boolean_mask:
    case Op::additive_mask: return 2;
    case Op::layer_norm: return 3;
    default: return 1;
  }
}

// How a causal or sliding-window mask lines up queries with keys when the query
// length Sq differs from the key length Sk.
//  top_left:     query i sits at key position i (PyTorch's is_causal).
//  bottom_right: query i sits at key position i + Sk - Sq, so the last query sees
//                every key (decoding with a cache of earlier keys).
enum class CausalAlign : std::uint8_t { top_left, bottom_right };

constexpr std::string_view align_name(CausalAlign align) {
  return align == CausalAlign::top_left ? "top_left" : "bottom_right";
}

struct Attributes {
  bool transpose_b = false;                        // matmul
  double factor = 1.0;                             // scale
  std::int64_t count = 0;                          // split_heads: heads; repeat_heads: repeats;
                                                   // sliding_window_mask: window
  std::array<std::int8_t, max_rank> permutation{};  // permute
  CausalAlign align = CausalAlign::top_left;       // causal_mask, sliding_window_mask
  double epsilon = 1e-5;                           // layer_norm

  constexpr bool operator==(const Attributes&) const = default;
};

using ValueId = std::int32_t;
inline constexpr ValueId no_value = -1;

struct TensorType {
  Shape shape;
  DType dtype = DType::f32;
};

struct Node {
  Op op = Op::input;
  Name name;  // user-given for inputs, weights and outputs; generated or user-given otherwise
  Shape shape;
  DType dtype = DType::f32;
  std::array<ValueId, max_inputs> inputs{no_value, no_value, no_value};
  Attributes attributes;
  SourceLocation where;  // the DSL call that made it; not part of equality

  constexpr int input_count() const { return op_arity(op); }
  constexpr bool operator==(const Node& other) const {
    return op == other.op && name == other.name && shape == other.shape && dtype == other.dtype &&
           inputs == other.inputs && attributes == other.attributes;
  }
};

}  // namespace vkattn
