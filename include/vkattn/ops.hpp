#pragma once
// The primitive ops of the DSL. Each call records the source line it was written on;
// a mistake is reported against that line (see graph.hpp for how).
#include <initializer_list>

#include "vkattn/graph.hpp"

namespace vkattn {

enum class Transpose : std::uint8_t { none, b };

namespace detail {

// Appends `op` over `operands` to the graph they belong to.
constexpr Value apply(Op op, std::initializer_list<Value> operands, Attributes attributes, SourceLocation where) {
  Graph* graph = nullptr;
  for (const Value& v : operands)
    if (v.graph() != nullptr && graph == nullptr) graph = v.graph();
  if (graph == nullptr) {
    Message m;
    m << op_name(op) << ": every operand is an empty Value (default-constructed, or from a failed call)";
    if (std::is_constant_evaluated()) throw "vkattn: an op was applied to empty Values";  // a compile error
    throw GraphError(std::string(m.view()));
  }
  Node node;
  node.op = op;
  node.attributes = attributes;
  int index = 0;
  for (const Value& v : operands) {
    if (v.graph() != nullptr && v.graph() != graph) {
      Message m;
      m << "operand " << index << " belongs to another graph";
      return graph->fail(where, op_name(op), m);
    }
    if (!v.valid()) {
      if (graph->failed()) return graph->failed_value();  // an earlier error is already recorded
      Message m;
      m << "operand " << index << " is an empty Value";
      return graph->fail(where, op_name(op), m);
    }
    node.inputs[std::size_t(index++)] = v.id();
  }
  return graph->append(node, where);
}

}  // namespace detail

// A value together with the line that used it; lets operators, which cannot take a
// default argument, still report where they were written.
struct LocatedValue {
  Value value;
  SourceLocation where;
  constexpr LocatedValue(Value v, SourceLocation w = SourceLocation::current())  // NOLINT: implicit by design
      : value(v), where(w) {}
};

// a[..., M, K] · b[..., K, N], or a · bᵀ with b[..., N, K] when transpose == Transpose::b.
// Leading (batch) dimensions broadcast.
constexpr Value matmul(Value a, Value b, Transpose transpose = Transpose::none,
                       SourceLocation where = SourceLocation::current()) {
  Attributes attributes;
  attributes.transpose_b = transpose == Transpose::b;
  return detail::apply(Op::matmul, {a, b}, attributes, where);
}

constexpr Value add(Value a, Value b, SourceLocation where = SourceLocation::current()) {
  return detail::apply(Op::add, {a, b}, {}, where);
}
constexpr Value operator+(LocatedValue a, Value b) { return add(a.value, b, a.where); }

// Elementwise a * b with numpy broadcasting (the gate of SwiGLU: silu(g) * u).
constexpr Value mul(Value a, Value b, SourceLocation where = SourceLocation::current()) {
  return detail::apply(Op::mul, {a, b}, {}, where);
}

constexpr Value scale(Value x, double factor, SourceLocation where = SourceLocation::current()) {
  Attributes attributes;
  attributes.factor = factor;
  return detail::apply(Op::scale, {x}, attributes, where);
}
constexpr Value operator*(LocatedValue x, double factor) { return scale(x.value, factor, x.where); }

// [B, S, H*D] -> [B, H, S, D]
constexpr Value split_heads(Value x, std::int64_t heads, SourceLocation where = SourceLocation::current()) {
  Attributes attributes;
  attributes.count = heads;
  return detail::apply(Op::split_heads, {x}, attributes, where);
}

// [B, H, S, D] -> [B, S, H*D]: the concatenation of the heads.
constexpr Value merge_heads(Value x, SourceLocation where = SourceLocation::current()) {
  return detail::apply(Op::merge_heads, {x}, {}, where);
}

// [B, H, S, D] -> [B, H*repeats, S, D]; output head h is input head h / repeats, so
// consecutive query heads share one key/value head (grouped-query attention).
constexpr Value repeat_heads(Value x, std::int64_t repeats, SourceLocation where = SourceLocation::current()) {
  Attributes attributes;
  attributes.count = repeats;
  return detail::apply(Op::repeat_heads, {x}, attributes, where);
}

// Output dimension i is input dimension axes[i].
constexpr Value permute(Value x, std::initializer_list<int> axes, SourceLocation where = SourceLocation::current()) {
  Attributes attributes;
  int i = 0;
  for (int axis : axes) {
    if (i < max_rank) attributes.permutation[std::size_t(i)] = std::int8_t(axis);
    ++i;
  }
  if (i != x.shape().rank && x.valid()) {
    Message m;
    m << "got " << i << " axes for the " << x.shape().rank << " dimensions of " << x.shape();
    return x.graph()->fail(where, "permute", m);
  }
  return detail::apply(Op::permute, {x}, attributes, where);
}

// x[..., start:start+count, ...] along `axis` (counted from the back: -2 is the
// sequence of [batch, seq, model]); a negative start counts from the end, so
// slice(x, -2, -1, 1) keeps each sequence's last position whatever its length.
constexpr Value slice(Value x, int axis, std::int64_t start, std::int64_t count,
                      SourceLocation where = SourceLocation::current()) {
  Attributes attributes;
  attributes.axis = std::int8_t(axis < -128 || axis > 0 ? 0 : axis);  // 0 and beyond: refused by infer
  attributes.start = start;
  attributes.count = count;
  return detail::apply(Op::slice, {x}, attributes, where);
}

// Swaps two dimensions.
constexpr Value transpose(Value x, int first, int second, SourceLocation where = SourceLocation::current()) {
  Attributes attributes;
  int rank = x.shape().rank;
  for (int i = 0; i < max_rank; ++i) attributes.permutation[std::size_t(i)] = std::int8_t(i);
  if (first < 0 || second < 0 || first >= rank || second >= rank) {
    if (!x.valid()) return detail::apply(Op::permute, {x}, attributes, where);
    Message m;
    m << "axes " << first << " and " << second << " are not both dimensions of " << x.shape();
    return x.graph()->fail(where, "transpose", m);
  }
  attributes.permutation[std::size_t(first)] = std::int8_t(second);
  attributes.permutation[std::size_t(second)] = std::int8_t(first);
  return detail::apply(Op::permute, {x}, attributes, where);
}

// Masks, applied to attention scores [..., queries, keys]. A masked score becomes
// -inf, so softmax gives it weight 0; a row with every key masked gives zeros.

// Query i attends to key j when j <= i (top_left) or j <= i + keys - queries (bottom_right).
constexpr Value causal_mask(Value scores, CausalAlign align = CausalAlign::top_left,
                            SourceLocation where = SourceLocation::current()) {
  Attributes attributes;
  attributes.align = align;
  return detail::apply(Op::causal_mask, {scores}, attributes, where);
}

// Causal attention over a KV cache: query i of sequence b sits at position
// positions[b] + i of its cache and sees the keys at positions up to its own,
// scores[b, ..., i, j] = -inf where j > positions[b] + i. positions is i32 [batch], the
// same input cache_write writes at; keys past what was written are never seen.
constexpr Value cache_causal_mask(Value scores, Value positions, SourceLocation where = SourceLocation::current()) {
  return detail::apply(Op::cache_causal_mask, {scores, positions}, {}, where);
}

// scores[b, ..., j] attends when j < lengths[b]; lengths is i32 [batch].
constexpr Value padding_mask(Value scores, Value lengths, SourceLocation where = SourceLocation::current()) {
  return detail::apply(Op::padding_mask, {scores, lengths}, {}, where);
}

// Attends where mask != 0 (true means "attend", as in PyTorch's boolean attn_mask).
constexpr Value boolean_mask(Value scores, Value mask, SourceLocation where = SourceLocation::current()) {
  return detail::apply(Op::boolean_mask, {scores, mask}, {}, where);
}

// Adds mask to the scores (use -inf, or a large negative number, to mask).
constexpr Value additive_mask(Value scores, Value mask, SourceLocation where = SourceLocation::current()) {
  return detail::apply(Op::additive_mask, {scores, mask}, {}, where);
}

// Query i attends to key j when |i' - j| < window, with i' = i (top_left) or
// i + keys - queries (bottom_right). Combine with causal_mask for a one-sided window.
constexpr Value sliding_window_mask(Value scores, std::int64_t window, CausalAlign align = CausalAlign::top_left,
                                    SourceLocation where = SourceLocation::current()) {
  Attributes attributes;
  attributes.count = window;
  attributes.align = align;
  return detail::apply(Op::sliding_window_mask, {scores}, attributes, where);
}

// ALiBi: scores[b, h, i, j] + slopes[h] * (j - i'), with i' = i (top_left) or
// i + keys - queries (bottom_right): a linear penalty by distance for keys before the
// query (slopes are positive; Press et al.'s geometric slopes come from alibi_slopes in
// layers.hpp). slopes is [heads], the heads axis being the third from the back of the
// scores. Softmax ignores a per-row constant, so this equals Bloom's slopes[h] * j.
constexpr Value alibi(Value scores, Value slopes, CausalAlign align = CausalAlign::top_left,
                      SourceLocation where = SourceLocation::current()) {
  Attributes attributes;
  attributes.align = align;
  return detail::apply(Op::alibi, {scores, slopes}, attributes, where);
}

// Over the last axis.
constexpr Value softmax(Value x, SourceLocation where = SourceLocation::current()) {
  return detail::apply(Op::softmax, {x}, {}, where);
}

// Softmax over the last axis with attention sinks: a per-head logit sinks[h] joins
// each row's denominator and takes its share of the weight, which is dropped:
//   out[..., h, i, j] = exp(x_ij) / (exp(sinks[h]) + sum_k exp(x_ik))
// (gpt-oss). sinks is [heads], the heads axis being the third from the back. A row of
// only -inf gives zeros (all weight on the sink), as the formula says.
constexpr Value softmax_with_sinks(Value x, Value sinks, SourceLocation where = SourceLocation::current()) {
  return detail::apply(Op::softmax_with_sinks, {x, sinks}, {}, where);
}

// (x - mean) / sqrt(var + epsilon) * gamma + beta over the last axis, with the
// population variance (divided by n, as PyTorch's LayerNorm).
constexpr Value layer_norm(Value x, Value gamma, Value beta, double epsilon = 1e-5,
                           SourceLocation where = SourceLocation::current()) {
  Attributes attributes;
  attributes.epsilon = epsilon;
  return detail::apply(Op::layer_norm, {x, gamma, beta}, attributes, where);
}

// LayerNorm with gamma and no beta (PyTorch's nn.LayerNorm(bias=False)).
constexpr Value layer_norm_no_bias(Value x, Value gamma, double epsilon = 1e-5,
                                   SourceLocation where = SourceLocation::current()) {
  Attributes attributes;
  attributes.epsilon = epsilon;
  return detail::apply(Op::layer_norm_no_bias, {x, gamma}, attributes, where);
}

// x / sqrt(mean(x^2) + epsilon) * weight over the last axis: RMSNorm as Llama and
// PyTorch's nn.RMSNorm compute it (the mean of squares divided by n, epsilon inside the
// root, the weight multiplied after normalising).
constexpr Value rms_norm(Value x, Value weight, double epsilon = 1e-6,
                         SourceLocation where = SourceLocation::current()) {
  Attributes attributes;
  attributes.epsilon = epsilon;
  return detail::apply(Op::rms_norm, {x, weight}, attributes, where);
}

// x * Phi(x) = 0.5 x (1 + erf(x / sqrt 2)), PyTorch's default GELU.
constexpr Value gelu(Value x, SourceLocation where = SourceLocation::current()) {
  return detail::apply(Op::gelu, {x}, {}, where);
}

constexpr Value relu(Value x, SourceLocation where = SourceLocation::current()) {
  return detail::apply(Op::relu, {x}, {}, where);
}

// x * sigmoid(x) (SiLU, swish), the activation of SwiGLU.
constexpr Value silu(Value x, SourceLocation where = SourceLocation::current()) {
  return detail::apply(Op::silu, {x}, {}, where);
}

// 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))): PyTorch's GELU(approximate='tanh'),
// as Gemma and GPT-2 use it.
constexpr Value gelu_tanh(Value x, SourceLocation where = SourceLocation::current()) {
  return detail::apply(Op::gelu_tanh, {x}, {}, where);
}

// tanh(x); scale(tanh(scale(s, 1 / cap)), cap) is the logit softcap (softcap in layers.hpp).
constexpr Value tanh(Value x, SourceLocation where = SourceLocation::current()) {
  return detail::apply(Op::tanh, {x}, {}, where);
}

struct RotaryOptions {
  std::int64_t dims = 0;  // leading elements of the last axis rotated (even); 0: all of them
  double theta = 10000.0;
  RotaryLayout layout = RotaryLayout::half_split;
  std::int64_t offset = 0;  // the position of sequence index 0 (tokens already in a cache)
};

namespace detail {
// The attributes of a rotary embedding of x: dims 0 means all of x's last axis.
constexpr Attributes rotary_attributes(Value x, const RotaryOptions& options) {
  Attributes attributes;
  attributes.rotary_dims = options.dims == 0 && x.valid() ? x.shape().last() : options.dims;
  attributes.theta = options.theta;
  attributes.rotary_layout = options.layout;
  attributes.position_offset = options.offset;
  return attributes;
}
}  // namespace detail

// Rotary position embedding of x [..., sequence, dims] (queries or keys split into
// heads): pair k of the first `dims` elements of the row at sequence index s turns by
// angle (offset + s) * theta^(-2k / dims):
//   first' = first * cos - second * sin,  second' = second * cos + first * sin
// with the pairs of RotaryLayout (ir.hpp): half_split is Hugging Face's
// apply_rotary_pos_emb (rotate_half), interleaved GPT-J's.
constexpr Value rotary_embedding(Value x, const RotaryOptions& options = {},
                                 SourceLocation where = SourceLocation::current()) {
  return detail::apply(Op::rotary_embedding, {x}, detail::rotary_attributes(x, options), where);
}

// rotary_embedding of x [batch, ..., sequence, dims] with row s of batch entry b at
// position positions[b] + offset + s: queries and keys of a decoding step, whose
// sequences each start where their cache ends (positions is the i32 [batch] input
// cache_write and cache_causal_mask read).
constexpr Value rotary_embedding_at(Value x, Value positions, const RotaryOptions& options = {},
                                    SourceLocation where = SourceLocation::current()) {
  return detail::apply(Op::rotary_embedding_at, {x, positions}, detail::rotary_attributes(x, options), where);
}

// Writes `update` [B, H, S, D] into the state tensor `cache` [B, H, capacity, D] at rows
// positions[b] .. positions[b] + S - 1 of each sequence b, and returns the cache as
// written (read it, not `cache`, to see this run's rows). positions is an i32 [B] graph
// input; a run whose positions[b] + S exceeds the capacity is refused before anything
// is written.
constexpr Value cache_write(Value cache, Value update, Value positions,
                            SourceLocation where = SourceLocation::current()) {
  return detail::apply(Op::cache_write, {cache, update, positions}, {}, where);
}

// The same into a rolling cache: row (positions[b] + s) mod capacity, so the cache
// keeps the latest `capacity` positions of a sequence of any length (a sliding window's
// keys: rolling_cache_positions in score_mods.hpp says which position each row holds).
constexpr Value rolling_cache_write(Value cache, Value update, Value positions,
                                    SourceLocation where = SourceLocation::current()) {
  Attributes attributes;
  attributes.rolling = true;
  return detail::apply(Op::cache_write, {cache, update, positions}, attributes, where);
}

// A paged KV cache: one pool of pages [pages, H, page_size, D] (a state tensor) that
// sequences share through a block table, an i32 [B, T] graph input whose row b names the
// pool page holding each page_size positions of sequence b. Writes `update` [B, H, S, D]
// at positions positions[b] .. positions[b] + S - 1 of each sequence through its table
// row, and returns the pool as written (read it through paged_view). A run is refused
// before anything is written when a table entry it writes through lies outside the pool,
// when two sequences write one page, or when a sequence would pass its T * page_size
// positions. positions[b] = -1 marks sequence b idle: none of its rows is written.
constexpr Value paged_cache_write(Value pool, Value update, Value positions, Value table,
                                  SourceLocation where = SourceLocation::current()) {
  return detail::apply(Op::paged_cache_write, {pool, update, positions, table}, {}, where);
}

// The same as a rolling cache: position p goes to row p mod (T * page_size) of the
// sequence's table row, so each sequence keeps its latest T * page_size positions (a
// sliding window's keys) in T pages, however long it grows; the view's rows then hold
// the positions rolling_cache_positions names.
constexpr Value rolling_paged_cache_write(Value pool, Value update, Value positions, Value table,
                                          SourceLocation where = SourceLocation::current()) {
  Attributes attributes;
  attributes.rolling = true;
  return detail::apply(Op::paged_cache_write, {pool, update, positions, table}, attributes, where);
}

// The cache of each sequence as one tensor [B, H, T * page_size, D]: position r of
// sequence b is pool[table[b, r / page_size], :, r mod page_size, :]. Attention over it
// reads the pool through the table, with no copy; a table entry outside the pool reads
// as zeros (the positions past a sequence's end, which its mask hides).
constexpr Value paged_view(Value pool, Value table, SourceLocation where = SourceLocation::current()) {
  return detail::apply(Op::paged_view, {pool, table}, {}, where);
}

// Opens a body that runs `iterations` times (a stack of identical layers): the value
// returned is `x` in the first iteration and the previous iteration's result after.
// Weights and states declared in the body with `{i}` in their names are each
// iteration's own ("model.layers.{i}.mlp.up_proj.weight"); others are shared. The
// compiler compiles the body once and the runtime runs it `iterations` times.
constexpr Value repeat_begin(Value x, std::int64_t iterations, SourceLocation where = SourceLocation::current()) {
  Attributes attributes;
  attributes.count = iterations;
  return detail::apply(Op::repeat_begin, {x}, attributes, where);
}

// Closes the body `start` (repeat_begin's value) opened: `result` is what an iteration
// computes, the next one's start; the value returned is the last iteration's result.
constexpr Value repeat_end(Value result, Value start, SourceLocation where = SourceLocation::current()) {
  return detail::apply(Op::repeat_end, {result, start}, {}, where);
}

// body(value) applied `iterations` times to `x`, compiled once:
//   Value h = repeat(x, 32, [&](Value h) { return llama_block(g, h, "model.layers.{i}", o); });
template <typename Body>
constexpr Value repeat(Value x, std::int64_t iterations, Body&& body, SourceLocation where = SourceLocation::current()) {
  const Value start = repeat_begin(x, iterations, where);
  return repeat_end(body(start), start, where);
}

}  // namespace vkattn
