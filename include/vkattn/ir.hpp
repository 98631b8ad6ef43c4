#pragma once
// The graph IR: primitive ops, their attributes and the node that records one use.
// Every type here is a literal type so graphs can live in constant evaluation.
#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "vkattn/shape.hpp"
#include "vkattn/source_location.hpp"
#include "vkattn/text.hpp"

namespace vkattn {

// Every primitive op, once: its name (in the DSL, listings and graph JSON), its
// operand count, its group and what it computes. The enum, op_count, op_name,
// op_arity and op_group are generated from this list; the exhaustive tables elsewhere
// (infer.hpp's shape rules, the reference, lowering) switch over Op without a default,
// so a new op fails the build (-Wswitch, warnings are errors) until each handles it.
#define VKATTN_OPS(X)                                                                                   \
  X(input, 0, source, "a tensor supplied at run time, by name")                                          \
  X(weight, 0, source, "a parameter bound by name when the graph is loaded")                             \
  X(state, 0, source, "a tensor on the device that keeps its contents from run to run (a KV cache)")     \
  X(output, 1, marker, "marks its operand as a named graph output")                                      \
  X(matmul, 2, contraction, "a[..., M, K] x b[..., K, N] (or b[..., N, K] with transpose_b)")            \
  X(add, 2, elementwise, "elementwise a + b with numpy broadcasting")                                    \
  X(mul, 2, elementwise, "elementwise a * b with numpy broadcasting")                                    \
  X(scale, 1, elementwise, "x * factor")                                                                 \
  X(split_heads, 1, layout, "[B, S, H*D] -> [B, H, S, D]")                                               \
  X(merge_heads, 1, layout, "[B, H, S, D] -> [B, S, H*D]")                                               \
  X(repeat_heads, 1, layout, "[B, H, S, D] -> [B, H*r, S, D]; output head h reads head h / r")           \
  X(permute, 1, layout, "reorders dimensions")                                                           \
  X(causal_mask, 1, mask, "scores[..., i, j] = -inf where key j is after query i")                      \
  X(padding_mask, 2, mask, "scores[b, ..., j] = -inf where j >= lengths[b]")                             \
  X(boolean_mask, 2, mask, "scores = -inf where mask == 0 (mask broadcasts to scores)")                  \
  X(additive_mask, 2, mask, "scores + mask (mask broadcasts to scores)")                                 \
  X(sliding_window_mask, 1, mask, "scores[..., i, j] = -inf where |i - j| >= window")                    \
  X(cache_causal_mask, 2, mask, "scores[b, ..., i, j] = -inf where j > positions[b] + i (causal in a cache)") \
  X(alibi, 2, mask, "scores[b, h, i, j] + slopes[h] * (j - i), ALiBi's linear bias by distance")        \
  X(softmax, 1, normalisation, "over the last axis; a row of only -inf gives zeros")                     \
  X(softmax_with_sinks, 2, normalisation, "softmax whose denominator also holds exp(sinks[h])")        \
  X(layer_norm, 3, normalisation, "over the last axis, population variance")                             \
  X(layer_norm_no_bias, 2, normalisation, "layer_norm with gamma and no beta")                          \
  X(rms_norm, 2, normalisation, "x / sqrt(mean(x^2) + epsilon) * weight over the last axis")             \
  X(gelu, 1, activation, "x * Phi(x), the exact (erf) form")                                             \
  X(relu, 1, activation, "max(x, 0)")                                                                    \
  X(silu, 1, activation, "x * sigmoid(x), also called swish")                                            \
  X(gelu_tanh, 1, activation, "0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))), GELU's tanh form")      \
  X(tanh, 1, activation, "tanh(x); cap * tanh(s / cap) is the logit softcap")                             \
  X(rotary_embedding, 1, position, "rotates pairs of the last axis by (offset + s) * theta^(-2i / dims)") \
  X(rotary_embedding_at, 2, position, "rotary_embedding with row s of sequence b at positions[b] + offset + s") \
  X(cache_write, 3, state, "cache[b, h, positions[b] + s (mod capacity if rolling), :] = update[b, h, s, :]; the result is the cache") \
  X(paged_cache_write, 4, state, "pool[table[b, p / P], h, p mod P, :] = update[b, h, s, :] at p = positions[b] + s (P the page size); the result is the pool") \
  X(paged_view, 2, paging, "[S, H, T*P, D]: row r of sequence b is pool[table[b, r / P], h, r mod P, :] (pool [pages, H, P, D], table [S, T])") \
  X(constant, 0, index, "a scalar of the given dtype (shape [1]); -inf hides a score in where(visible, s, -inf)") \
  X(query_index, 1, index, "i of scores[..., i, j]: [1, .., Sq, 1] (+ Sk - Sq when aligned bottom-right)") \
  X(key_index, 1, index, "j of scores[..., i, j]: [1, .., 1, Sk]")                                         \
  X(head_index, 1, index, "h of scores[..., h, i, j]: [1, H, 1, 1] (the third axis from the back)")       \
  X(batch_index, 1, index, "b of scores[b, h, i, j]: [B, 1, 1, 1] (rank-4 scores)")                        \
  X(sub, 2, pointwise, "a - b with numpy broadcasting (integers or floats)")                              \
  X(floor_div, 2, pointwise, "floor(a / b) with numpy broadcasting; integer b must not be 0")            \
  X(minimum, 2, pointwise, "min(a, b) with numpy broadcasting")                                           \
  X(maximum, 2, pointwise, "max(a, b) with numpy broadcasting")                                           \
  X(abs, 1, pointwise, "|x|")                                                                             \
  X(exp, 1, pointwise, "e^x")                                                                             \
  X(log, 1, pointwise, "the natural logarithm; log(0) = -inf")                                           \
  X(less, 2, pointwise, "a < b, a bool tensor")                                                           \
  X(less_equal, 2, pointwise, "a <= b, a bool tensor")                                                    \
  X(equal, 2, pointwise, "a == b, a bool tensor")                                                         \
  X(logical_and, 2, pointwise, "a and b of bool tensors")                                                 \
  X(logical_or, 2, pointwise, "a or b of bool tensors")                                                   \
  X(logical_not, 1, pointwise, "not x of a bool tensor")                                                  \
  X(where, 3, pointwise, "cond ? a : b with numpy broadcasting of all three")                             \
  X(cast, 1, pointwise, "x converted to the dtype `to`: float to i32 rounds toward zero, bool gives 0 or 1") \
  X(sigmoid, 1, pointwise, "1 / (1 + e^-x)")                                                               \
  X(clamp, 3, pointwise, "min(max(x, low), high) with numpy broadcasting")                                 \
  X(rsqrt, 1, pointwise, "1 / sqrt(x); rsqrt(mean(x * x) + epsilon) is RMSNorm's scale")                  \
  X(gather, 2, pointwise, "table[..., index[...], ...] along the table's axis `axis` (numpy take_along_axis, broadcast)") \
  X(unsqueeze, 1, layout, "inserts an axis of size 1 at position `count`")                                  \
  X(slice, 1, layout, "x[..., start:start+count, ...] along the axis `axis` (from the back); start < 0 counts from the end") \
  X(repeat_begin, 1, repeat, "opens a body run `count` times: its value is operand 0 in the first iteration, the previous iteration's result after") \
  X(repeat_end, 2, repeat, "closes the body opened by operand 1 (its repeat_begin): operand 0 is an iteration's result; after the last, the value")

// Named groups of ops, used by the passes instead of retyped case lists.
enum class OpGroup : std::uint8_t {
  source,         // input, weight, state: no operands
  marker,         // output
  contraction,    // matmul
  elementwise,    // add, mul, scale
  layout,         // moves elements only: split, merge and repeat heads, permute
  mask,           // -inf (or an added bias: additive_mask, alibi) on attention scores
  normalisation,  // over the last axis: softmax, softmax_with_sinks, layer_norm, layer_norm_no_bias, rms_norm
  activation,     // elementwise nonlinearity: gelu, relu, silu, gelu_tanh, tanh
  position,       // position-dependent rewrites of Q and K: rotary_embedding, rotary_embedding_at
  state,          // writes into a state tensor: cache_write, paged_cache_write
  paging,         // reads a paged state through a block table: paged_view
  index,          // constants and the indices of a score element: leaves of generated code, never
                  // materialised inside a fused kernel
  pointwise,      // integer and float arithmetic, comparisons, logic, where, cast and gather: rendered
                  // as generated code (codegen/), inside a fused kernel or as a kernel of their own
  repeat,         // repeat_begin, repeat_end: bracket a body of nodes run `count` times (a stack of layers)
};

enum class Op : std::uint8_t {
#define VKATTN_OP_ENUMERATOR(name, arity, group, doc) name,
  VKATTN_OPS(VKATTN_OP_ENUMERATOR)
#undef VKATTN_OP_ENUMERATOR
};

struct OpInfo {
  std::string_view name;
  int arity;
  OpGroup group;
  std::string_view doc;
};

#define VKATTN_OP_COUNT(name, arity, group, doc) +1
inline constexpr int op_count = 0 VKATTN_OPS(VKATTN_OP_COUNT);
#undef VKATTN_OP_COUNT
inline constexpr int max_inputs = 4;

inline constexpr std::array<OpInfo, op_count> op_table{{
#define VKATTN_OP_INFO(name, arity, group, doc) {#name, arity, OpGroup::group, doc},
    VKATTN_OPS(VKATTN_OP_INFO)
#undef VKATTN_OP_INFO
}};

constexpr const OpInfo& op_info(Op op) { return op_table[std::size_t(op)]; }
constexpr std::string_view op_name(Op op) { return op_info(op).name; }
// Number of operands each op takes.
// (Never above max_inputs, by the static_assert below; the bound is written out so the
// optimiser knows it when operand arrays are indexed by it.)
constexpr int op_arity(Op op) { return op_info(op).arity < max_inputs ? op_info(op).arity : max_inputs; }
constexpr OpGroup op_group(Op op) { return op_info(op).group; }
constexpr bool in_group(Op op, OpGroup group) { return op_group(op) == group; }
// The writes of a KV cache into its state tensor (operand 0): contiguous or paged.
constexpr bool is_cache_write(Op op) { return in_group(op, OpGroup::state); }

static_assert([] {
  for (const OpInfo& info : op_table)
    if (info.arity < 0 || info.arity > max_inputs) return false;
  return true;
}(), "an op takes more operands than a node holds (max_inputs)");

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

// In the name of a weight or state of a repeated body, `{i}` stands for the iteration:
// "model.layers.{i}.mlp.up_proj.weight" is a weight of each layer.
inline constexpr std::string_view iteration_placeholder = "{i}";

constexpr bool has_iteration_placeholder(std::string_view name) {
  return name.find(iteration_placeholder) != std::string_view::npos;
}

// `name` with every `{i}` replaced by `iteration`.
inline std::string expand_iteration(std::string_view name, std::int64_t iteration) {
  std::string out;
  for (std::size_t at = 0;;) {
    const std::size_t found = name.find(iteration_placeholder, at);
    out.append(name.substr(at, found == std::string_view::npos ? std::string_view::npos : found - at));
    if (found == std::string_view::npos) return out;
    out += std::to_string(iteration);
    at = found + iteration_placeholder.size();
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

// How rotary_embedding pairs the elements it rotates (of the first `dims` of the last
// axis; the rest pass unchanged):
//  half_split:  element i with element i + dims/2 (Llama, GPT-NeoX, Hugging Face's rotate_half)
//  interleaved: element 2i with element 2i + 1 (GPT-J, Meta's original Llama code)
// Pair i turns by angle (offset + s) * theta^(-2i / dims) at sequence position s.
enum class RotaryLayout : std::uint8_t { half_split, interleaved };

constexpr std::string_view rotary_layout_name(RotaryLayout layout) {
  return layout == RotaryLayout::half_split ? "half_split" : "interleaved";
}

struct Attributes {
  bool transpose_b = false;                        // matmul
  double factor = 1.0;                             // scale; constant: the value
  std::int64_t count = 0;                          // split_heads: heads; repeat_heads: repeats;
                                                   // sliding_window_mask: window; unsqueeze: axis;
                                                   // repeat_begin: iterations
  std::array<std::int8_t, max_rank> permutation{};  // permute
  CausalAlign align = CausalAlign::top_left;       // causal_mask, sliding_window_mask, alibi, query_index
  double epsilon = 1e-5;                           // layer_norm, layer_norm_no_bias, rms_norm
  // rotary_embedding: leading elements of the last axis rotated (even, at least 2),
  // the base of the frequencies, the pairing, and the position of sequence index 0.
  std::int64_t rotary_dims = 0;
  double theta = 10000.0;
  RotaryLayout rotary_layout = RotaryLayout::half_split;
  std::int64_t position_offset = 0;
  // constant: its value (`factor` holds it) and dtype; cast: the dtype converted to.
  DType to = DType::f32;
  // gather: the table's axis the index selects along, counted from the back like numpy's
  // negative axes (-1 the last: a lookup in each row; -2 with a [rows, features] table:
  // an embedding lookup of whole rows).
  std::int8_t axis = -1;
  // slice: the first position kept along `axis` (< 0: counted from the end, so -1 keeps
  // the last position of a sequence of any length); `count` positions are kept.
  std::int64_t start = 0;
  // cache_write: a rolling cache, row (positions[b] + s) mod capacity (a sliding window
  // held in `capacity` positions however long the sequence grows).
  bool rolling = false;

  constexpr bool operator==(const Attributes&) const = default;
};

using ValueId = std::int32_t;
inline constexpr ValueId no_value = -1;

// The values an i32 value can hold where the graph alone decides them (index values,
// constants and arithmetic on them), so a gather's index is checked as the graph is
// built; unknown where they come from data.
struct IntRange {
  bool known = false;
  std::int64_t low = 0, high = 0;
  constexpr bool operator==(const IntRange&) const = default;
};

struct TensorType {
  Shape shape;
  DType dtype = DType::f32;
  IntRange range{};  // i32 values only
};

struct Node {
  Op op = Op::input;
  Name name;  // user-given for inputs, weights and outputs; generated or user-given otherwise
  Shape shape;
  DType dtype = DType::f32;
  std::array<ValueId, max_inputs> inputs{no_value, no_value, no_value, no_value};
  Attributes attributes;
  SourceLocation where;  // the DSL call that made it; not part of equality
  IntRange range;        // derived from the op and its operands; not part of equality
  // The repeat_begin of the repeated body this node is in (itself for a repeat_begin),
  // or no_value; derived from the order of nodes, so not part of equality.
  ValueId body = no_value;

  constexpr int input_count() const { return op_arity(op); }
  constexpr bool operator==(const Node& other) const {
    return op == other.op && name == other.name && shape == other.shape && dtype == other.dtype &&
           inputs == other.inputs && attributes == other.attributes;
  }
};

}  // namespace vkattn
