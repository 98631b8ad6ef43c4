#pragma once
// Composite helpers. They only build primitives (ops.hpp): a graph written by hand
// from primitives is the same graph, and the compiler fuses both alike.
//
// Weight names follow PyTorch module state dicts where PyTorch has one name per
// tensor: linear layers "<prefix>.weight" [out_features, in_features] and
// "<prefix>.bias"; attention "<prefix>.q_proj.weight", ".k_proj.*", ".v_proj.*",
// ".out_proj.*"; TransformerEncoderLayer / TransformerDecoderLayer's "self_attn",
// "multihead_attn", "linear1", "linear2", "norm1".."norm3".
#include <string_view>

#include "vkattn/kernels/encodings.h"
#include "vkattn/ops.hpp"

namespace vkattn {

// Mask (none, causal, sliding_window, padding, boolean, additive; combinable with |) and
// Activation (none, relu, gelu) come from kernels/encodings.h, shared with the shaders.
// Mask::padding needs AttentionOptions::lengths, Mask::boolean and Mask::additive
// AttentionOptions::mask_values (nonzero = attend / added to the scores),
// Mask::sliding_window AttentionOptions::window.

struct AttentionOptions {
  std::int64_t heads = 1;
  std::int64_t kv_heads = 0;  // 0: as many as heads; fewer: grouped-query attention
  Mask mask = Mask::none;
  CausalAlign align = CausalAlign::top_left;  // for causal and sliding-window masks
  Value lengths{};                            // Mask::padding: i32 [batch], keys per sequence
  Value mask_values{};                        // Mask::boolean / Mask::additive
  std::int64_t window = 0;                    // Mask::sliding_window
  bool bias = true;
  std::string_view prefix = "self_attn";
};

struct FeedForwardOptions {
  std::int64_t hidden = 2048;  // PyTorch's dim_feedforward default
  Activation activation = Activation::relu;
  bool bias = true;
  std::string_view prefix = "";  // weights "<prefix>.linear1.*", or "linear1.*" when empty
};

struct EncoderOptions {
  std::int64_t heads = 8;
  std::int64_t ffn_hidden = 2048;
  bool norm_first = false;  // false: post-norm (PyTorch's default); true: pre-norm
  Activation activation = Activation::relu;
  double epsilon = 1e-5;
  Mask mask = Mask::none;
  Value lengths{};
  Value mask_values{};
  std::int64_t window = 0;
  std::string_view prefix = "";
};

struct DecoderOptions {
  std::int64_t heads = 8;
  std::int64_t ffn_hidden = 2048;
  bool norm_first = false;
  Activation activation = Activation::relu;
  double epsilon = 1e-5;
  Mask self_mask = Mask::causal;
  Value memory_lengths{};  // when set, cross-attention masks memory padding
  std::string_view prefix = "";
};

namespace detail {

// sqrt usable in constant evaluation, so compile-time and run-time graphs carry the
// same scale factor bit for bit.
constexpr double constexpr_sqrt(double x) {
  if (!(x > 0)) return 0;
  double guess = x > 1 ? x : 1;
  for (int i = 0; i < 200; ++i) {
    double next = 0.5 * (guess + x / guess);
    if (next == guess) break;
    guess = next;
  }
  return guess;
}

constexpr Name join(std::string_view prefix, std::string_view suffix) {
  Name name;
  if (!prefix.empty()) name.append(prefix).append(".");
  name.append(suffix);
  return name;
}

constexpr Graph* graph_of(Value v) { return v.graph(); }

}  // namespace detail

// x · Wᵀ + b with W given as [out_features, in_features].
constexpr Value linear(Value x, Value weight, Value bias = {}, SourceLocation where = SourceLocation::current()) {
  Value y = matmul(x, weight, Transpose::b, where);
  return bias.valid() ? add(y, bias, where) : y;
}

// A linear layer that declares its weights "<prefix>.weight" [out, in] and "<prefix>.bias".
constexpr Value linear(Graph& g, Value x, std::string_view prefix, std::int64_t out_features, bool bias = true,
                       SourceLocation where = SourceLocation::current()) {
  if (!x.valid()) {
    if (g.failed()) return g.failed_value();
    return g.fail(where, "linear", Message{"the input is an empty Value"});
  }
  Value w = g.weight(detail::join(prefix, "weight").view(), {out_features, x.shape().last()}, x.dtype(), where);
  Value b = bias ? g.weight(detail::join(prefix, "bias").view(), {out_features}, x.dtype(), where) : Value{};
  return linear(x, w, b, where).named(prefix, where);
}

// LayerNorm with weights "<prefix>.weight" (gamma) and "<prefix>.bias" (beta).
constexpr Value layer_norm(Graph& g, Value x, std::string_view prefix, double epsilon = 1e-5,
                           SourceLocation where = SourceLocation::current()) {
  Value gamma = g.weight(detail::join(prefix, "weight").view(), {x.shape().last()}, x.dtype(), where);
  Value beta = g.weight(detail::join(prefix, "bias").view(), {x.shape().last()}, x.dtype(), where);
  return layer_norm(x, gamma, beta, epsilon, where).named(prefix, where);
}

// softmax(mask(q · kᵀ / sqrt(head_dim))) · v on [batch, heads, sequence, head_dim]
// tensors. k and v may have fewer heads than q (grouped-query attention); each group
// of heads / kv_heads consecutive query heads shares one key/value head.
constexpr Value scaled_dot_product_attention(Value q, Value k, Value v, const AttentionOptions& options = {},
                                             SourceLocation where = SourceLocation::current()) {
  Graph* g = detail::graph_of(q);
  std::string_view prefix = options.prefix;
  if (q.valid() && k.valid() && q.shape().rank == 4 && k.shape().rank == 4 && q.shape()[1] != k.shape()[1]) {
    std::int64_t qh = q.shape()[1], kh = k.shape()[1];
    if (qh % kh != 0) {
      Message m;
      m << "query heads (" << qh << ") must be a multiple of key/value heads (" << kh << ")";
      return g->fail(where, "scaled_dot_product_attention", m);
    }
    k = repeat_heads(k, qh / kh, where).named(detail::join(prefix, "k_repeated").view(), where);
    v = repeat_heads(v, qh / kh, where).named(detail::join(prefix, "v_repeated").view(), where);
  }
  Value scores = matmul(q, k, Transpose::b, where).named(detail::join(prefix, "scores").view(), where);
  double factor = 1.0 / detail::constexpr_sqrt(double(q.shape().last()));
  scores = scale(scores, factor, where).named(detail::join(prefix, "scaled_scores").view(), where);
  Mask mask = options.mask;
  // The options a mask kind needs, named as the caller sets them.
  if (has(mask, Mask::padding) && !options.lengths.valid())
    return g->fail(where, "scaled_dot_product_attention",
                   Message{"Mask::padding needs AttentionOptions::lengths, an i32 [batch] input of keys per sequence"});
  if ((has(mask, Mask::boolean) || has(mask, Mask::additive)) && !options.mask_values.valid())
    return g->fail(where, "scaled_dot_product_attention",
                   Message{"Mask::boolean and Mask::additive need AttentionOptions::mask_values"});
  if (has(mask, Mask::sliding_window) && options.window < 1)
    return g->fail(where, "scaled_dot_product_attention",
                   Message{"Mask::sliding_window needs AttentionOptions::window of at least 1"});
  if (has(mask, Mask::causal)) scores = causal_mask(scores, options.align, where);
  if (has(mask, Mask::sliding_window)) scores = sliding_window_mask(scores, options.window, options.align, where);
  if (has(mask, Mask::padding)) scores = padding_mask(scores, options.lengths, where);
  if (has(mask, Mask::boolean)) scores = boolean_mask(scores, options.mask_values, where);
  if (has(mask, Mask::additive)) scores = additive_mask(scores, options.mask_values, where);
  Value probabilities = softmax(scores, where).named(detail::join(prefix, "probs").view(), where);
  return matmul(probabilities, v, Transpose::none, where).named(detail::join(prefix, "context").view(), where);
}

// Multi-head attention over [batch, sequence, model] inputs: self-attention when
// query, key and value are the same value, cross-attention when key and value come
// from another sequence (of another length, and possibly another width).
constexpr Value multi_head_attention(Graph& g, Value query, Value key, Value value,
                                     const AttentionOptions& options = {},
                                     SourceLocation where = SourceLocation::current()) {
  constexpr std::string_view op = "multi_head_attention";
  if (!query.valid() || !key.valid() || !value.valid()) {
    if (g.failed()) return g.failed_value();
    return g.fail(where, op, Message{"query, key and value must all be values of this graph"});
  }
  const Shape& qs = query.shape();
  const Shape& ks = key.shape();
  const Shape& vs = value.shape();
  if (qs.rank != 3 || ks.rank != 3 || vs.rank != 3) {
    Message m;
    m << "query, key and value must be [batch, sequence, features], but they are " << qs << ", " << ks << " and " << vs;
    return g.fail(where, op, m);
  }
  if (ks[1] != vs[1]) {
    Message m;
    m << "keys " << ks << " have " << ks[1] << " positions but values " << vs << " have " << vs[1]
      << "; each key needs exactly one value";
    return g.fail(where, op, m);
  }
  if (qs[0] != ks[0] || qs[0] != vs[0]) {
    Message m;
    m << "batch sizes differ: query " << qs << ", key " << ks << ", value " << vs;
    return g.fail(where, op, m);
  }
  std::int64_t model = qs[2];
  std::int64_t heads = options.heads;
  std::int64_t kv_heads = options.kv_heads == 0 ? heads : options.kv_heads;
  if (heads < 1 || model % heads != 0) {
    Message m;
    m << "model dimension " << model << " of query " << qs << " is not divisible by " << heads << " heads";
    return g.fail(where, op, m);
  }
  if (kv_heads < 1 || heads % kv_heads != 0) {
    Message m;
    m << heads << " query heads cannot be shared evenly among " << kv_heads << " key/value heads";
    return g.fail(where, op, m);
  }
  std::int64_t head_dim = model / heads;
  std::string_view prefix = options.prefix;
  Value q = linear(g, query, detail::join(prefix, "q_proj").view(), model, options.bias, where);
  Value k = linear(g, key, detail::join(prefix, "k_proj").view(), kv_heads * head_dim, options.bias, where);
  Value v = linear(g, value, detail::join(prefix, "v_proj").view(), kv_heads * head_dim, options.bias, where);
  Value qh = split_heads(q, heads, where).named(detail::join(prefix, "q_heads").view(), where);
  Value kh = split_heads(k, kv_heads, where).named(detail::join(prefix, "k_heads").view(), where);
  Value vh = split_heads(v, kv_heads, where).named(detail::join(prefix, "v_heads").view(), where);
  Value context = scaled_dot_product_attention(qh, kh, vh, options, where);
  Value merged = merge_heads(context, where).named(detail::join(prefix, "merged").view(), where);
  return linear(g, merged, detail::join(prefix, "out_proj").view(), model, options.bias, where);
}

// linear2(activation(linear1(x))).
constexpr Value feed_forward(Graph& g, Value x, const FeedForwardOptions& options = {},
                             SourceLocation where = SourceLocation::current()) {
  Value h = linear(g, x, detail::join(options.prefix, "linear1").view(), options.hidden, options.bias, where);
  switch (options.activation) {
    case Activation::none: break;
#define VKATTN_APPLY_ACTIVATION(name, NAME, code, flops) \
  case Activation::name: h = name(h, where); break;
    VKATTN_ACTIVATIONS(VKATTN_APPLY_ACTIVATION)
#undef VKATTN_APPLY_ACTIVATION
  }
  return linear(g, h, detail::join(options.prefix, "linear2").view(), x.shape().last(), options.bias, where);
}

// PyTorch's nn.TransformerEncoderLayer (without dropout):
//   post-norm: x = norm1(x + self_attn(x)); x = norm2(x + ff(x))
//   pre-norm:  x = x + self_attn(norm1(x)); x = x + ff(norm2(x))
constexpr Value encoder_layer(Graph& g, Value x, const EncoderOptions& options = {},
                              SourceLocation where = SourceLocation::current()) {
  AttentionOptions attention{.heads = options.heads,
                             .mask = options.mask,
                             .lengths = options.lengths,
                             .mask_values = options.mask_values,
                             .window = options.window};
  Name attention_prefix = detail::join(options.prefix, "self_attn");
  attention.prefix = attention_prefix.view();
  Name norm1 = detail::join(options.prefix, "norm1"), norm2 = detail::join(options.prefix, "norm2");
  FeedForwardOptions ff{.hidden = options.ffn_hidden, .activation = options.activation, .prefix = options.prefix};
  if (options.norm_first) {
    Value n1 = layer_norm(g, x, norm1.view(), options.epsilon, where);
    x = add(x, multi_head_attention(g, n1, n1, n1, attention, where), where);
    Value n2 = layer_norm(g, x, norm2.view(), options.epsilon, where);
    return add(x, feed_forward(g, n2, ff, where), where);
  }
  x = layer_norm(g, add(x, multi_head_attention(g, x, x, x, attention, where), where), norm1.view(), options.epsilon,
                 where);
  return layer_norm(g, add(x, feed_forward(g, x, ff, where), where), norm2.view(), options.epsilon, where);
}

// PyTorch's nn.TransformerDecoderLayer (without dropout): causal self-attention over
// x, cross-attention from x to memory, feed-forward; post-norm or pre-norm.
constexpr Value decoder_layer(Graph& g, Value x, Value memory, const DecoderOptions& options = {},
                              SourceLocation where = SourceLocation::current()) {
  Name self_prefix = detail::join(options.prefix, "self_attn");
  Name cross_prefix = detail::join(options.prefix, "multihead_attn");
  AttentionOptions self_attention{.heads = options.heads, .mask = options.self_mask, .prefix = self_prefix.view()};
  AttentionOptions cross_attention{.heads = options.heads,
                                   .mask = options.memory_lengths.valid() ? Mask::padding : Mask::none,
                                   .lengths = options.memory_lengths,
                                   .prefix = cross_prefix.view()};
  Name norm1 = detail::join(options.prefix, "norm1"), norm2 = detail::join(options.prefix, "norm2"),
       norm3 = detail::join(options.prefix, "norm3");
  FeedForwardOptions ff{.hidden = options.ffn_hidden, .activation = options.activation, .prefix = options.prefix};
  if (options.norm_first) {
    Value n1 = layer_norm(g, x, norm1.view(), options.epsilon, where);
    x = add(x, multi_head_attention(g, n1, n1, n1, self_attention, where), where);
    Value n2 = layer_norm(g, x, norm2.view(), options.epsilon, where);
    x = add(x, multi_head_attention(g, n2, memory, memory, cross_attention, where), where);
    Value n3 = layer_norm(g, x, norm3.view(), options.epsilon, where);
    return add(x, feed_forward(g, n3, ff, where), where);
  }
  x = layer_norm(g, add(x, multi_head_attention(g, x, x, x, self_attention, where), where), norm1.view(),
                 options.epsilon, where);
  x = layer_norm(g, add(x, multi_head_attention(g, x, memory, memory, cross_attention, where), where), norm2.view(),
                 options.epsilon, where);
  return layer_norm(g, add(x, feed_forward(g, x, ff, where), where), norm3.view(), options.epsilon, where);
}

}  // namespace vkattn
