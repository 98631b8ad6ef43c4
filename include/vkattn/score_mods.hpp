#pragma once
// Attention variants written with the index values and pointwise ops
// (pointwise_ops.hpp), in the style of FlexAttention's mask_mod and score_mod. Each is
// an ordinary helper over primitives: the compiler fuses whatever it builds into one
// attention kernel as a score program, and derives block skipping from its predicate.
//
//   auto s = scaled_scores(q, k);                       // q·kᵀ / sqrt(d)
//   s = hide_unless(s, causal_visible(s) && window_visible(s, 256));
//   auto o = matmul(softmax(s), v);
//
// *_visible(scores, ...) give a bool that broadcasts to the scores (true: the key is
// seen); hide_unless makes the hidden scores -inf. *_bias / softcap transform the
// scores. Per-sequence tensors are i32 [batch] (prefix lengths) or [batch, sequence]
// (document ids); the scores are [batch, heads, queries, keys].
#include "vkattn/pointwise_ops.hpp"

namespace vkattn {

namespace detail {

// [B] -> [B, 1, 1, 1]: one value per sequence, against scores [B, H, Sq, Sk].
constexpr Value per_sequence(Value v, SourceLocation where) {
  return unsqueeze(unsqueeze(unsqueeze(v, 1, where), 1, where), 1, where);
}

// Natural logarithm and exponential for constant evaluation (std::log is not constexpr).
constexpr double log_constexpr(double x) {
  int exponent = 0;  // x = m * 2^exponent, m in [1, 2)
  while (x >= 2) x /= 2, ++exponent;
  while (x < 1) x *= 2, --exponent;
  const double t = (x - 1) / (x + 1), t2 = t * t;  // log(m) = 2 atanh(t)
  double term = t, sum = 0;
  for (int k = 1; k < 60; k += 2, term *= t2) sum += term / k;
  return 2 * sum + exponent * 0.69314718055994530942;
}
constexpr double exp_constexpr(double x) {
  int halvings = 0;
  while (x > 0.5 || x < -0.5) x /= 2, ++halvings;
  double term = 1, sum = 1;
  for (int k = 1; k < 30; ++k) sum += (term *= x / k);
  while (halvings-- > 0) sum *= sum;
  return sum;
}

}  // namespace detail

// -inf wherever `visible` is false.
constexpr Value hide_unless(Value scores, Value visible, SourceLocation where = SourceLocation::current()) {
  return vkattn::where(visible, scores, minus_infinity(scores, where), where);
}

// Key j is seen by query i when j <= i' (i' = i, or i + Sk - Sq aligned bottom-right).
constexpr Value causal_visible(Value scores, CausalAlign align = CausalAlign::top_left,
                               SourceLocation where = SourceLocation::current()) {
  return less_equal(key_index(scores, where), query_index(scores, align, where), where);
}

// The `window` keys up to the query (i' - window < j <= i'): Mistral's sliding window.
constexpr Value window_visible(Value scores, std::int64_t window, CausalAlign align = CausalAlign::top_left,
                               SourceLocation where = SourceLocation::current()) {
  const Value i = query_index(scores, align, where), j = key_index(scores, where);
  const Value ahead = sub(i, j, where);
  return logical_and(less_equal(index_constant(scores, 0, where), ahead, where),
                     less(ahead, index_constant(scores, double(window), where), where), where);
}

// Both sides: |i' - j| < window (the two-sided sliding_window_mask).
constexpr Value band_visible(Value scores, std::int64_t window, CausalAlign align = CausalAlign::top_left,
                             SourceLocation where = SourceLocation::current()) {
  const Value distance = abs(sub(query_index(scores, align, where), key_index(scores, where), where), where);
  return less(distance, index_constant(scores, double(window), where), where);
}

// Prefix-LM: keys of the prefix (j < prefix[b]) are seen by every query, the rest causally.
// prefix: i32 [batch].
constexpr Value prefix_lm_visible(Value scores, Value prefix, SourceLocation where = SourceLocation::current()) {
  return logical_or(less(key_index(scores, where), detail::per_sequence(prefix, where), where),
                    causal_visible(scores, CausalAlign::top_left, where), where);
}

// Packed sequences: a query sees only keys of its own document. document: i32
// [batch, sequence] (the document of each token, the same sequence for queries and keys);
// with `causal`, only keys up to the query too.
constexpr Value document_visible(Value scores, Value document, bool causal = true,
                                 SourceLocation where = SourceLocation::current()) {
  const Value table = unsqueeze(unsqueeze(document, 1, where), 1, where);  // [B, 1, 1, S]
  const Value same = equal(gather(table, query_index(scores, CausalAlign::top_left, where), where),
                           gather(table, key_index(scores, where), where), where);
  return causal ? logical_and(same, causal_visible(scores, CausalAlign::top_left, where), where) : same;
}

// Dilated window: causal keys at distances 0, d, 2d, ... below window * d.
constexpr Value dilated_visible(Value scores, std::int64_t window, std::int64_t dilation,
                                SourceLocation where = SourceLocation::current()) {
  const Value ahead = sub(query_index(scores, CausalAlign::top_left, where), key_index(scores, where), where);
  const Value step = index_constant(scores, double(dilation), where);
  const Value on_grid = equal(sub(ahead, mul(floor_div(ahead, step, where), step, where), where),
                              index_constant(scores, 0, where), where);
  return logical_and(logical_and(less_equal(index_constant(scores, 0, where), ahead, where),
                                 less(ahead, index_constant(scores, double(window * dilation), where), where), where),
                     on_grid, where);
}

// Global plus local (Longformer, BigBird): the first `globals` tokens see and are seen
// by every token; the others see the keys within `window` on either side.
constexpr Value global_local_visible(Value scores, std::int64_t globals, std::int64_t window,
                                     SourceLocation where = SourceLocation::current()) {
  const Value g = index_constant(scores, double(globals), where);
  const Value global = logical_or(less(query_index(scores, CausalAlign::top_left, where), g, where),
                                  less(key_index(scores, where), g, where), where);
  return logical_or(global, band_visible(scores, window, CausalAlign::top_left, where), where);
}

// ALiBi: scores + slopes[h] * (j - i'); slopes: [heads] of the scores' dtype.
constexpr Value alibi_bias(Value scores, Value slopes, CausalAlign align = CausalAlign::top_left,
                           SourceLocation where = SourceLocation::current()) {
  const Value distance = cast(sub(key_index(scores, where), query_index(scores, align, where), where), DType::f32, where);
  const Value per_head = unsqueeze(unsqueeze(slopes, 1, where), 1, where);  // [H, 1, 1]
  return add(scores, mul(per_head, distance, where), where);
}

// T5's relative-position bucket of key j for query i (Hugging Face's
// _relative_position_bucket): exact below half the buckets, then logarithmic up to
// max_distance. The logarithmic part is written as comparisons with its integer
// thresholds, found here once, so the device and the reference agree exactly.
constexpr Value t5_bucket(Value scores, std::int64_t buckets = 32, std::int64_t max_distance = 128,
                          bool bidirectional = true, SourceLocation where = SourceLocation::current()) {
  const Value relative = sub(key_index(scores, where), query_index(scores, CausalAlign::top_left, where), where);
  auto c = [&](double v) { return index_constant(scores, v, where); };
  Value base = c(0), distance = relative;
  std::int64_t n = buckets;
  if (bidirectional) {
    n /= 2;
    base = mul(cast(less(c(0), relative, where), DType::i32, where), c(double(n)), where);
    distance = abs(relative, where);
  } else {
    distance = sub(c(0), minimum(relative, c(0), where), where);
  }
  const std::int64_t exact = n / 2;
  // Bucket exact + k from distance exact * (max_distance / exact)^(k / (n - exact)) on.
  Value large = c(double(exact));
  for (std::int64_t k = 1; k < n - exact; ++k) {
    const double x = double(exact) * detail::exp_constexpr(double(k) / double(n - exact) *
                                                           detail::log_constexpr(double(max_distance) / double(exact)));
    const double nearest = double(std::int64_t(x + 0.5));
    const double threshold = (x - nearest < 1e-9 && nearest - x < 1e-9) ? nearest : double(std::int64_t(x) + 1);
    large = add(large, cast(less_equal(c(threshold), distance, where), DType::i32, where), where);
  }
  return add(base, vkattn::where(less(distance, c(double(exact)), where), distance, large, where), where);
}

// T5's relative attention bias: scores + table[h, bucket(i, j)]; table: [heads, buckets]
// (Hugging Face's relative_attention_bias.weight, transposed).
constexpr Value t5_bias(Value scores, Value table, std::int64_t max_distance = 128, bool bidirectional = true,
                        SourceLocation where = SourceLocation::current()) {
  const std::int64_t buckets = table.shape().last();
  const Value per_head = unsqueeze(table, 1, where);  // [H, 1, buckets]
  return add(scores, gather(per_head, t5_bucket(scores, buckets, max_distance, bidirectional, where), where), where);
}

}  // namespace vkattn
