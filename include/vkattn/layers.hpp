#pragma once
// Composite helpers. They only build primitives (ops.hpp): a graph written by hand
// from primitives is the same graph, and the compiler fuses both alike.
//
// Weight names follow PyTorch module state dicts where PyTorch has one name per
// tensor: linear layers "<prefix>.weight" [out_features, in_features] and
// "<prefix>.bias"; attention "<prefix>.q_proj.weight", ".k_proj.*", ".v_proj.*",
// ".out_proj.*"; TransformerEncoderLayer / TransformerDecoderLayer's "self_attn",
// "multihead_attn", "linear1", "linear2", "norm1".."norm3"; llama_block Hugging Face's
// LlamaDecoderLayer names ("self_attn.o_proj", "mlp.gate_proj", "input_layernorm", ...).
#include <cmath>
#include <optional>
#include <string_view>
#include <vector>

#include "vkattn/kernels/encodings.h"
#include "vkattn/ops.hpp"
#include "vkattn/score_mods.hpp"

namespace vkattn {

// Mask (none, causal, sliding_window, padding, boolean, additive, alibi; combinable
// with |) and Activation (none, relu, gelu, silu, gelu_tanh, tanh) come from
// kernels/encodings.h, shared with the shaders. Mask::padding needs
// AttentionOptions::lengths, Mask::boolean and Mask::additive AttentionOptions::mask_values
// (nonzero = attend / added to the scores), Mask::sliding_window AttentionOptions::window,
// Mask::alibi AttentionOptions::alibi_slopes ([heads]; values from alibi_slopes()).

// A KV cache for decoding: the keys and values of every token so far, kept on the
// device in state tensors "<prefix>.k_cache" and "<prefix>.v_cache" [batch, kv_heads,
// capacity, head_dim]. Each run writes its tokens' keys and values at `positions` (an
// i32 [batch] input: how many tokens each sequence already holds) and attends over
// the cache causally (cache_causal_mask).
struct KvCache {
  std::int64_t capacity = 0;  // positions per sequence; 0: no cache
  Value positions{};
  // A rolling cache (with a sliding window): rows wrap around the capacity, which then
  // needs to be at least window + the tokens of one run - 1, however long the sequence.
  bool rolling = false;
  // A paged cache (page_size > 0): the sequences share one pool of `pages` pages of
  // page_size positions, state tensors "<prefix>.k_cache" and "<prefix>.v_cache" [pages,
  // kv_heads, page_size, head_dim], and `block_table` (an i32 [batch, capacity /
  // page_size] input) names the pool page holding each page_size positions of each
  // sequence (paged_cache_write, paged_view). Sequences may share the pages of a common
  // prefix; a page a run writes belongs to one sequence. positions[b] = -1 leaves
  // sequence b idle for a run. Paged and rolling: each sequence's table row is reused
  // modulo the capacity, so a sequence of any length holds capacity / page_size pages.
  std::int64_t page_size = 0;
  std::int64_t pages = 0;
  Value block_table{};
};

struct AttentionOptions {
  std::int64_t heads = 1;
  std::int64_t kv_heads = 0;  // 0: as many as heads; fewer: grouped-query attention
  Mask mask = Mask::none;
  CausalAlign align = CausalAlign::top_left;  // for causal and sliding-window masks
  Value lengths{};                            // Mask::padding: i32 [batch], keys per sequence
  Value mask_values{};                        // Mask::boolean / Mask::additive
  std::int64_t window = 0;                    // Mask::sliding_window
  bool bias = true;           // biases of the projections
  bool out_proj_bias = true;  // with `bias`: the output projection's too (Qwen 2 has q, k, v biases only)
  std::string_view prefix = "self_attn";
  std::string_view out_proj = "out_proj";  // the output projection's name (Llama: "o_proj")
  // Rotary position embedding of the queries and keys (after the head split, before
  // grouped heads are repeated); none when empty.
  std::optional<RotaryOptions> rotary{};
  Value alibi_slopes{};   // Mask::alibi: [heads] slopes
  double softcap = 0;     // > 0: scores become softcap * tanh(scores / softcap) before the masks
  Value sinks{};          // [heads] sink logits joining each softmax's denominator
  // Decoding with a KV cache (capacity > 0): masks are then the cache's causal order
  // (Mask::none or Mask::causal), or a sliding window over it (Mask::sliding_window,
  // causal by itself: the window keys up to each query's position).
  KvCache cache{};
};

struct FeedForwardOptions {
  std::int64_t hidden = 2048;  // PyTorch's dim_feedforward default
  Activation activation = Activation::relu;
  bool bias = true;
  std::string_view prefix = "";  // weights "<prefix>.linear1.*", or "linear1.*" when empty
};

// Hugging Face's LlamaDecoderLayer (Llama 2 and 3, Mistral, Qwen 2 without biases).
struct LlamaOptions {
  std::int64_t heads = 32;
  std::int64_t kv_heads = 0;    // 0: as many as heads; fewer: grouped-query attention
  std::int64_t ffn_hidden = 0;  // intermediate_size; 0: 4 * model
  double rope_theta = 10000.0;  // rope_theta; the half-split layout over the whole head
  std::int64_t position_offset = 0;  // position of the first token
  double epsilon = 1e-6;        // rms_norm_eps
  Mask mask = Mask::causal;     // with Mask::padding: lengths
  Value lengths{};
  std::int64_t window = 0;      // sliding_window (Mistral): > 0 sees the `window` keys up to each query
  bool qkv_bias = false;        // biases on q_proj, k_proj, v_proj (Qwen 2; Llama's attention_bias)
  bool o_proj_bias = false;     // with qkv_bias, a bias on o_proj too (Llama's attention_bias)
  std::string_view prefix = "";  // "model.layers.N" for a layer of a whole model
  KvCache cache{};  // decoding: keys (rotated at their positions) and values kept across runs
};

// Hugging Face's LlamaForCausalLM (MistralForCausalLM and Qwen2ForCausalLM share it):
// token ids to logits through `layers` LlamaDecoderLayers.
struct LlamaModelOptions {
  std::int64_t vocab = 32000;   // vocab_size
  std::int64_t model = 4096;    // hidden_size
  std::int64_t layers = 32;     // num_hidden_layers
  LlamaOptions layer{};         // each layer's heads, sizes, norm, RoPE, window and cache (prefix set per layer)
  bool tie_embeddings = false;  // tie_word_embeddings: the output head reads model.embed_tokens.weight
  bool last_position_only = false;  // logits of each sequence's last position only: [batch, 1, vocab]
  DType dtype = DType::f32;     // of the weights and activations
  // false: one layer body, `model.layers.{i}`, repeated `layers` times (compiled once,
  // run per layer with each layer's weights and caches); true: the layers written out
  // one by one (the same computation, compiled once per layer).
  bool unrolled = false;
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
  KvCache cache{};  // decoding: the self-attention's keys and values, kept across runs
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

// x through `activation`'s op (x itself for Activation::none).
constexpr Value activate(Value x, Activation activation, SourceLocation where = SourceLocation::current()) {
  switch (activation) {
    case Activation::none: return x;
#define VKATTN_APPLY_ACTIVATION(name) \
  case Activation::name: return name(x, where);
    VKATTN_ACTIVATIONS(VKATTN_APPLY_ACTIVATION)
#undef VKATTN_APPLY_ACTIVATION
  }
  return x;
}

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

// The logit softcap cap * tanh(scores / cap) (Gemma 2, Grok), as primitives: a scale,
// tanh and a scale, which the compiler fuses into flash attention.
constexpr Value softcap(Value scores, double cap, SourceLocation where = SourceLocation::current()) {
  return scale(tanh(scale(scores, 1.0 / cap, where), where), cap, where);
}

// ALiBi's slopes for `heads` heads (Press et al.): the geometric sequence
// 2^(-8 / n), 2^(-16 / n), ... for the largest power of two n <= heads, then every
// other slope of 2n's sequence for the remaining heads (as Bloom and MPT compute them).
inline std::vector<double> alibi_slopes(std::int64_t heads) {
  std::vector<double> slopes;
  std::int64_t n = 1;
  while (n * 2 <= heads) n *= 2;
  for (std::int64_t i = 1; i <= n; ++i) slopes.push_back(std::pow(2.0, -8.0 * double(i) / double(n)));
  for (std::int64_t i = 1; std::int64_t(slopes.size()) < heads; i += 2)
    slopes.push_back(std::pow(2.0, -8.0 * double(i) / double(2 * n)));
  return slopes;
}

// softmax(mask(softcap(rope(q) · rope(k)ᵀ / sqrt(head_dim)))) · v on [batch, heads,
// sequence, head_dim] tensors, each modifier as the options ask. k and v may have fewer
// heads than q (grouped-query attention); each group of heads / kv_heads consecutive
// query heads shares one key/value head.
constexpr Value scaled_dot_product_attention(Value q, Value k, Value v, const AttentionOptions& options = {},
                                             SourceLocation where = SourceLocation::current()) {
  Graph* g = detail::graph_of(q);
  std::string_view prefix = options.prefix;
  if (options.rotary && options.cache.capacity > 0)
    return g->fail(where, "scaled_dot_product_attention",
                   Message{"a rotary embedding of keys already in a KV cache cannot follow the positions; rotate "
                           "them before cache_write (multi_head_attention does)"});
  if (options.rotary) {
    q = rotary_embedding(q, *options.rotary, where).named(detail::join(prefix, "q_rotary").view(), where);
    k = rotary_embedding(k, *options.rotary, where).named(detail::join(prefix, "k_rotary").view(), where);
  }
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
  if (options.softcap > 0) scores = softcap(scores, options.softcap, where);
  Mask mask = options.mask;
  // The options a mask kind needs, named as the caller sets them.
  if (has(mask, Mask::padding) && !options.lengths.valid())
    return g->fail(where, "scaled_dot_product_attention",
                   Message{"Mask::padding needs AttentionOptions::lengths, an i32 [batch] input of keys per sequence"});
  if ((has(mask, Mask::boolean) || has(mask, Mask::additive)) && !options.mask_values.valid())
    return g->fail(where, "scaled_dot_product_attention",
                   Message{"Mask::boolean and Mask::additive need AttentionOptions::mask_values"});
  if (has(mask, Mask::alibi) && !options.alibi_slopes.valid())
    return g->fail(where, "scaled_dot_product_attention",
                   Message{"Mask::alibi needs AttentionOptions::alibi_slopes, a [heads] tensor (see alibi_slopes())"});
  if (has(mask, Mask::sliding_window) && options.window < 1)
    return g->fail(where, "scaled_dot_product_attention",
                   Message{"Mask::sliding_window needs AttentionOptions::window of at least 1"});
  if (options.cache.capacity > 0) {
    const Mask windowed = Mask::causal | Mask::sliding_window;
    if (mask != Mask::none && mask != Mask::causal && mask != Mask::sliding_window && mask != windowed)
      return g->fail(where, "scaled_dot_product_attention",
                     Message{"with a KV cache, attention is causal in the cache (cache_causal_mask), or a sliding "
                             "window over it; use Mask::causal, Mask::sliding_window or Mask::none"});
    if (!options.cache.positions.valid())
      return g->fail(where, "scaled_dot_product_attention",
                     Message{"a KV cache needs KvCache::positions, an i32 [batch] input"});
    if (options.cache.rolling) {
      // Queries of one run at most: a ragged batch's (positions [tokens]) may all be one
      // sequence's.
      const Shape& positions_shape = options.cache.positions.shape();
      const std::int64_t run = positions_shape.dynamic(0)                  ? positions_shape.at_bounds()[0]
                               : q.valid() ? q.shape().at_bounds().from_back(2)
                                           : 1;
      if (!has(mask, Mask::sliding_window) || options.cache.capacity < options.window + run - 1) {
        Message m;
        m << "a rolling KV cache holds a sliding window: it needs Mask::sliding_window and a capacity of at least "
             "window + the tokens of one run - 1 ("
          << options.window << " + " << run << " - 1), not " << options.cache.capacity;
        return g->fail(where, "scaled_dot_product_attention", m);
      }
      const ScorePositions at = rolling_cache_positions(scores, options.cache.positions, options.cache.capacity, where);
      scores = hide_unless(scores, logical_and(rolling_written(at, where), window_visible(at, options.window, where), where),
                           where);
    } else if (has(mask, Mask::sliding_window)) {  // the window keys up to each query's place in the cache
      scores = hide_unless(scores, window_visible(cache_positions(scores, options.cache.positions, where),
                                                  options.window, where),
                           where);
    } else {
      scores = cache_causal_mask(scores, options.cache.positions, where);
    }
    mask = Mask::none;
  }
  if (has(mask, Mask::causal)) scores = causal_mask(scores, options.align, where);
  if (has(mask, Mask::sliding_window)) scores = sliding_window_mask(scores, options.window, options.align, where);
  if (has(mask, Mask::padding)) scores = padding_mask(scores, options.lengths, where);
  if (has(mask, Mask::boolean)) scores = boolean_mask(scores, options.mask_values, where);
  if (has(mask, Mask::additive)) scores = additive_mask(scores, options.mask_values, where);
  if (has(mask, Mask::alibi)) scores = alibi(scores, options.alibi_slopes, options.align, where);
  Value probabilities = options.sinks.valid() ? softmax_with_sinks(scores, options.sinks, where) : softmax(scores, where);
  probabilities = probabilities.named(detail::join(prefix, "probs").view(), where);
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
  // Copies: the nodes added below may move the graph's storage.
  const Shape qs = query.shape();
  const Shape ks = key.shape();
  const Shape vs = value.shape();
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
  AttentionOptions core = options;
  if (options.cache.capacity > 0) {  // this run's keys and values join the cache
    // Rotated at their own positions before the keys are cached.
    if (options.rotary) {
      qh = rotary_embedding_at(qh, options.cache.positions, *options.rotary, where)
               .named(detail::join(prefix, "q_rotary").view(), where);
      kh = rotary_embedding_at(kh, options.cache.positions, *options.rotary, where)
               .named(detail::join(prefix, "k_rotary").view(), where);
      core.rotary.reset();
    }
    if (options.cache.page_size > 0) {  // one pool of pages, each sequence's through its block table row
      const KvCache& c = options.cache;
      if (c.pages < 1 || c.capacity % c.page_size != 0 || !c.block_table.valid()) {
        Message m;
        m << "a paged KV cache needs KvCache::pages of at least 1, a capacity that is a multiple of page_size ("
          << c.capacity << " over pages of " << c.page_size << ") and KvCache::block_table, an i32 [batch, "
          << "capacity / page_size] input";
        return g.fail(where, op, m);
      }
      if (c.block_table.shape().rank != 2 || c.block_table.shape()[1] != c.capacity / c.page_size) {
        Message m;
        m << "the block table " << c.block_table.shape() << " must have capacity / page_size = "
          << c.capacity / c.page_size << " entries per sequence";
        return g.fail(where, op, m);
      }
      const Shape pool_shape{c.pages, kv_heads, c.page_size, head_dim};
      Value k_pool = g.state(detail::join(prefix, "k_cache").view(), pool_shape, query.dtype(), where);
      Value v_pool = g.state(detail::join(prefix, "v_cache").view(), pool_shape, query.dtype(), where);
      // Rolling: each sequence's table row is reused modulo its positions.
      auto write = c.rolling ? rolling_paged_cache_write : paged_cache_write;
      k_pool = write(k_pool, kh, c.positions, c.block_table, where).named(detail::join(prefix, "k_cached").view(), where);
      v_pool = write(v_pool, vh, c.positions, c.block_table, where).named(detail::join(prefix, "v_cached").view(), where);
      kh = paged_view(k_pool, c.block_table, where).named(detail::join(prefix, "k_pages").view(), where);
      vh = paged_view(v_pool, c.block_table, where).named(detail::join(prefix, "v_pages").view(), where);
    } else {
      const Shape cache_shape{qs[0], kv_heads, options.cache.capacity, head_dim};
      Value k_cache = g.state(detail::join(prefix, "k_cache").view(), cache_shape, query.dtype(), where);
      Value v_cache = g.state(detail::join(prefix, "v_cache").view(), cache_shape, query.dtype(), where);
      auto write = options.cache.rolling ? rolling_cache_write : cache_write;
      kh = write(k_cache, kh, options.cache.positions, where).named(detail::join(prefix, "k_cached").view(), where);
      vh = write(v_cache, vh, options.cache.positions, where).named(detail::join(prefix, "v_cached").view(), where);
    }
  }
  Value context = scaled_dot_product_attention(qh, kh, vh, core, where);
  Value merged = merge_heads(context, where).named(detail::join(prefix, "merged").view(), where);
  return linear(g, merged, detail::join(prefix, options.out_proj).view(), model, options.bias && options.out_proj_bias,
                where);
}

// linear2(activation(linear1(x))).
constexpr Value feed_forward(Graph& g, Value x, const FeedForwardOptions& options = {},
                             SourceLocation where = SourceLocation::current()) {
  Value h = linear(g, x, detail::join(options.prefix, "linear1").view(), options.hidden, options.bias, where);
  h = activate(h, options.activation, where);
  return linear(g, h, detail::join(options.prefix, "linear2").view(), x.shape().last(), options.bias, where);
}

// RMSNorm with its weight "<prefix>.weight" (Hugging Face's LlamaRMSNorm, nn.RMSNorm).
constexpr Value rms_norm(Graph& g, Value x, std::string_view prefix, double epsilon = 1e-6,
                         SourceLocation where = SourceLocation::current()) {
  Value weight = g.weight(detail::join(prefix, "weight").view(), {x.shape().last()}, x.dtype(), where);
  return rms_norm(x, weight, epsilon, where).named(prefix, where);
}

// SwiGLU feed-forward: down_proj(act(gate_proj(x)) * up_proj(x)), without biases;
// weights "<prefix>.gate_proj.weight", ".up_proj.weight", ".down_proj.weight".
constexpr Value gated_feed_forward(Graph& g, Value x, std::int64_t hidden, std::string_view prefix = "mlp",
                                   Activation activation = Activation::silu,
                                   SourceLocation where = SourceLocation::current()) {
  Value gate = linear(g, x, detail::join(prefix, "gate_proj").view(), hidden, false, where);
  Value up = linear(g, x, detail::join(prefix, "up_proj").view(), hidden, false, where);
  gate = activate(gate, activation, where);
  Value product = mul(gate, up, where).named(detail::join(prefix, "act").view(), where);
  return linear(g, product, detail::join(prefix, "down_proj").view(), x.shape().last(), false, where);
}

// Hugging Face's LlamaDecoderLayer on x [batch, sequence, model]:
//   h = x + o_proj(attention(rope(q_proj(n1)), rope(k_proj(n1)), v_proj(n1)))  n1 = input_layernorm(x)
//   y = h + mlp(post_attention_layernorm(h)),  mlp = down_proj(silu(gate_proj) * up_proj)
// RMSNorm with epsilon inside the root and the weight after normalising; RoPE in the
// half-split layout (rotate_half) over each whole head, base rope_theta, positions
// position_offset + s; the 1 / sqrt(head_dim) scale on the scores; no biases.
constexpr Value llama_block(Graph& g, Value x, const LlamaOptions& options = {},
                            SourceLocation where = SourceLocation::current()) {
  const std::string_view prefix = options.prefix;
  Name attention_prefix = detail::join(prefix, "self_attn"), mlp_prefix = detail::join(prefix, "mlp");
  Name norm1 = detail::join(prefix, "input_layernorm"), norm2 = detail::join(prefix, "post_attention_layernorm");
  AttentionOptions attention{.heads = options.heads,
                             .kv_heads = options.kv_heads,
                             .mask = options.window > 0 ? options.mask | Mask::sliding_window : options.mask,
                             .lengths = options.lengths,
                             .window = options.window,
                             .bias = options.qkv_bias,
                             .out_proj_bias = options.o_proj_bias,
                             .prefix = attention_prefix.view(),
                             .out_proj = "o_proj",
                             .rotary = RotaryOptions{.theta = options.rope_theta, .offset = options.position_offset},
                             .cache = options.cache};
  if (!x.valid()) {
    if (g.failed()) return g.failed_value();
    return g.fail(where, "llama_block", Message{"the input is an empty Value"});
  }
  const std::int64_t hidden = options.ffn_hidden > 0 ? options.ffn_hidden : 4 * x.shape().last();
  Value n1 = rms_norm(g, x, norm1.view(), options.epsilon, where);
  Value h = add(x, multi_head_attention(g, n1, n1, n1, attention, where), where);
  Value n2 = rms_norm(g, h, norm2.view(), options.epsilon, where);
  return add(h, gated_feed_forward(g, n2, hidden, mlp_prefix.view(), Activation::silu, where), where);
}

// nn.Embedding: rows of `table` [vocab, dims] picked by the i32 `ids` [...] ->
// [..., dims]. An id outside 0..vocab-1 read straight from an input is refused before
// a run.
constexpr Value embedding(Value table, Value ids, SourceLocation where = SourceLocation::current()) {
  if (!ids.valid()) return gather(table, ids, -2, where);
  return gather(table, unsqueeze(ids, ids.shape().rank, where), -2, where);
}

// The same with its weight "<prefix>.weight" [vocab, dims].
constexpr Value embedding(Graph& g, Value ids, std::string_view prefix, std::int64_t vocab, std::int64_t dims,
                          DType dtype = DType::f32, SourceLocation where = SourceLocation::current()) {
  Value table = g.weight(detail::join(prefix, "weight").view(), {vocab, dims}, dtype, where);
  return embedding(table, ids, where).named(prefix, where);
}

// Hugging Face's LlamaForCausalLM on i32 ids [batch, sequence]:
//   h = embed_tokens(ids); h = layer_i(h) for i < layers; logits = lm_head(norm(h))
// with weights "model.embed_tokens.weight" [vocab, model], "model.layers.N.*"
// (llama_block), "model.norm.weight" and "lm_head.weight" [vocab, model] (the embedding's
// when tied). Logits [batch, sequence, vocab], or [batch, 1, vocab] of each sequence's
// last position (the norm and head then read that position only).
constexpr Value llama_model(Graph& g, Value ids, const LlamaModelOptions& options = {},
                            SourceLocation where = SourceLocation::current()) {
  constexpr std::string_view op = "llama_model";
  if (!ids.valid()) {
    if (g.failed()) return g.failed_value();
    return g.fail(where, op, Message{"the token ids are an empty Value"});
  }
  if (options.layers < 1 || options.vocab < 1 || options.model < 1) {
    Message m;
    m << "a model needs at least one layer, token and feature; got " << options.layers << " layers, vocabulary "
      << options.vocab << ", width " << options.model;
    return g.fail(where, op, m);
  }
  Value table = g.weight("model.embed_tokens.weight", {options.vocab, options.model}, options.dtype, where);
  Value h = embedding(table, ids, where).named("model.embed_tokens", where);
  if (options.unrolled) {
    for (std::int64_t i = 0; i < options.layers; ++i) {
      Name prefix{"model.layers."};
      prefix.append(i);
      LlamaOptions layer = options.layer;
      layer.prefix = prefix.view();
      h = llama_block(g, h, layer, where);
    }
  } else {
    LlamaOptions layer = options.layer;
    layer.prefix = "model.layers.{i}";
    h = repeat(h, options.layers, [&](Value x) { return llama_block(g, x, layer, where); }, where)
            .named("model.layers", where);
  }
  if (options.last_position_only) h = slice(h, -2, -1, 1, where).named("model.last_position", where);
  Value normed = rms_norm(g, h, "model.norm", options.layer.epsilon, where);
  Value head = options.tie_embeddings
                   ? table
                   : g.weight("lm_head.weight", {options.vocab, options.model}, options.dtype, where);
  return matmul(normed, head, Transpose::b, where).named("lm_head", where);
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
  AttentionOptions self_attention{
      .heads = options.heads, .mask = options.self_mask, .prefix = self_prefix.view(), .cache = options.cache};
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
