#pragma once
// Attention variants written with the index values and pointwise ops
// (pointwise_ops.hpp), in the style of FlexAttention's mask_mod and score_mod. Each is
// an ordinary helper over primitives: the compiler fuses whatever it builds into one
// attention kernel as a score program, and derives block skipping from its predicate.
//
//   auto s = matmul(q, k, Transpose::b) * (1 / sqrt(d));
//   s = hide_unless(s, causal_visible(s) && window_visible(s, 256));
//   auto o = matmul(softmax(s), v);
//
// *_visible(at, ...) give a bool that broadcasts to the scores (true: the key is seen);
// hide_unless makes the hidden scores -inf. *_bias (and softcap, layers.hpp) transform
// the scores. `at` is the scores' ScorePositions: the scores themselves (top-left),
// ScorePositions(s, CausalAlign::bottom_right), or cache_positions(s, positions).
// Per-sequence tensors are i32 [batch] (prefix lengths) or [batch, positions]
// (document ids); the scores are [batch, heads, queries, keys].
#include "vkattn/pointwise_ops.hpp"

namespace vkattn {

namespace detail {

// [B] -> [B, 1, 1, 1]: one value per sequence, against scores [B, H, Sq, Sk].
constexpr Value per_sequence(Value v, SourceLocation where) {
  return unsqueeze(unsqueeze(unsqueeze(v, 1, where), 1, where), 1, where);
}
// [B, N] -> [B, 1, 1, N]: one row per sequence, gathered along N.
constexpr Value per_sequence_row(Value v, SourceLocation where) {
  return unsqueeze(unsqueeze(v, 1, where), 1, where);
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

// The positions a score element compares: the query's i and the key's j, as i32 values
// that broadcast to the scores [batch, heads, queries, keys] (FlexAttention's q_idx and
// kv_idx). Made from the scores themselves (implicitly, aligned top-left), aligned
// bottom-right (the last query at the last key: a few queries over earlier keys), or
// in a KV cache, where the queries of sequence b start at its cache position.
struct ScorePositions {
  Value scores;
  Value query;  // [1, 1, Sq, 1] or, in a cache, [B, 1, Sq, 1]
  Value key;    // [1, 1, 1, Sk]
  constexpr ScorePositions(Value s, CausalAlign align = CausalAlign::top_left,  // NOLINT: implicit by design
                           SourceLocation where = SourceLocation::current())
      : scores(s), query(query_index(s, align, where)), key(key_index(s, where)) {}
  constexpr ScorePositions(Value s, Value q, Value k) : scores(s), query(q), key(k) {}
};

// Positions of `scores` over a KV cache [.., capacity] written at `positions` (i32
// [batch], the tokens each sequence held before this run): query i of sequence b sits
// at positions[b] + i, as cache_write put its key.
constexpr ScorePositions cache_positions(Value scores, Value positions, SourceLocation where = SourceLocation::current()) {
  return {scores, add(query_index(scores, CausalAlign::top_left, where), detail::per_sequence(positions, where), where),
          key_index(scores, where)};
}

// Positions of `scores` over a rolling KV cache of `capacity` rows
// (rolling_cache_write): query i of sequence b sits at positions[b] + i, and row j holds
// the latest position p ≡ j (mod capacity) written so far, p <= last = positions[b] +
// Sq - 1; a row not yet written holds a negative position (rolling_written hides it).
constexpr ScorePositions rolling_cache_positions(Value scores, Value positions, std::int64_t capacity,
                                                 SourceLocation where = SourceLocation::current()) {
  const Value start = detail::per_sequence(positions, where);
  const Value i = query_index(scores, CausalAlign::top_left, where);
  const Value query = add(i, start, where);
  // Sq - 1 at the run's own size: the keys are the capacity, and bottom-right alignment
  // moves i by Sk - Sq.
  const Value keys = index_constant(scores, double(capacity), where);
  const Value queries_less_one = sub(sub(add(keys, i, where), query_index(scores, CausalAlign::bottom_right, where), where),
                                     index_constant(scores, 1, where), where);
  const Value last = add(start, queries_less_one, where);
  const Value behind = sub(last, key_index(scores, where), where);  // last - j
  const Value size = index_constant(scores, double(capacity), where);
  const Value wrapped = sub(behind, mul(floor_div(behind, size, where), size, where), where);  // (last - j) mod capacity
  return {scores, query, sub(last, wrapped, where)};
}

// Keys a rolling cache holds: written at some point (position >= 0).
constexpr Value rolling_written(ScorePositions at, SourceLocation where = SourceLocation::current()) {
  return less_equal(index_constant(at.scores, 0, where), at.key, where);
}

// -inf wherever `visible` is false.
constexpr Value hide_unless(Value scores, Value visible, SourceLocation where = SourceLocation::current()) {
  return vkattn::where(visible, scores, minus_infinity(scores, where), where);
}

// Key j is seen by query i when j <= i.
constexpr Value causal_visible(ScorePositions at, SourceLocation where = SourceLocation::current()) {
  return less_equal(at.key, at.query, where);
}

// The `window` keys up to the query (i - window < j <= i): Mistral's sliding window.
constexpr Value window_visible(ScorePositions at, std::int64_t window, SourceLocation where = SourceLocation::current()) {
  const Value ahead = sub(at.query, at.key, where);
  return logical_and(less_equal(index_constant(at.scores, 0, where), ahead, where),
                     less(ahead, index_constant(at.scores, double(window), where), where), where);
}

// Both sides: |i - j| < window (the two-sided sliding_window_mask).
constexpr Value band_visible(ScorePositions at, std::int64_t window, SourceLocation where = SourceLocation::current()) {
  return less(abs(sub(at.query, at.key, where), where), index_constant(at.scores, double(window), where), where);
}

// Prefix-LM: keys of the prefix (j < prefix[b]) are seen by every query, the rest
// causally. prefix: i32 [batch].
constexpr Value prefix_lm_visible(ScorePositions at, Value prefix, SourceLocation where = SourceLocation::current()) {
  return logical_or(less(at.key, detail::per_sequence(prefix, where), where), causal_visible(at, where), where);
}

// Packed sequences: a query sees only keys of its own document. document: i32
// [batch, positions], the document of each position (queries and keys index the same
// row); with `causal`, only keys up to the query too.
constexpr Value document_visible(ScorePositions at, Value document, bool causal = true,
                                 SourceLocation where = SourceLocation::current()) {
  const Value table = unsqueeze(unsqueeze(document, 1, where), 1, where);  // [B, 1, 1, S]
  const Value same = equal(gather(table, at.query, where), gather(table, at.key, where), where);
  return causal ? logical_and(same, causal_visible(at, where), where) : same;
}

// The document of `position` in packed sequences given by their cumulative lengths
// (FlashAttention's cu_seqlens): starts i32 [batch, documents + 1], starts[b][0] = 0,
// ascending; document d holds [starts[d], starts[d + 1]). The id is the last d with
// starts[d] <= position, found by a binary search of log2(documents + 1) gathers, so
// positions past the last start share its id.
constexpr Value document_of(Value position, Value starts, SourceLocation where = SourceLocation::current()) {
  const std::int64_t last = starts.shape().last() - 1;
  const Value rows = detail::per_sequence_row(starts, where);  // [B, 1, 1, documents + 1]
  std::int64_t step = 1;
  while (step * 2 <= last) step *= 2;
  Value found = index_constant(position, 0, where);
  for (; step >= 1 && last > 0; step /= 2) {
    const Value candidate = minimum(add(found, index_constant(position, double(step), where), where),
                                    index_constant(position, double(last), where), where);
    found = vkattn::where(less_equal(gather(rows, candidate, where), position, where), candidate, found, where);
  }
  return found;
}

// document_visible from cumulative lengths (see document_of).
constexpr Value document_visible_from_starts(ScorePositions at, Value starts, bool causal = true,
                                             SourceLocation where = SourceLocation::current()) {
  const Value same = equal(document_of(at.query, starts, where), document_of(at.key, starts, where), where);
  return causal ? logical_and(same, causal_visible(at, where), where) : same;
}

// Dilated window: causal keys at distances 0, d, 2d, ... below window * d.
constexpr Value dilated_visible(ScorePositions at, std::int64_t window, std::int64_t dilation,
                                SourceLocation where = SourceLocation::current()) {
  const Value ahead = sub(at.query, at.key, where);
  const Value step = index_constant(at.scores, double(dilation), where);
  const Value on_grid = equal(sub(ahead, mul(floor_div(ahead, step, where), step, where), where),
                              index_constant(at.scores, 0, where), where);
  return logical_and(logical_and(less_equal(index_constant(at.scores, 0, where), ahead, where),
                                 less(ahead, index_constant(at.scores, double(window * dilation), where), where), where),
                     on_grid, where);
}

// Global plus local (Longformer, BigBird): the first `globals` positions see and are
// seen by every position; the others see the keys within `window` on either side.
constexpr Value global_local_visible(ScorePositions at, std::int64_t globals, std::int64_t window,
                                     SourceLocation where = SourceLocation::current()) {
  const Value g = index_constant(at.scores, double(globals), where);
  const Value global = logical_or(less(at.query, g, where), less(at.key, g, where), where);
  return logical_or(global, band_visible(at, window, where), where);
}

// ALiBi: scores + slopes[h] * (j - i); slopes: [heads] of the scores' dtype.
constexpr Value alibi_bias(ScorePositions at, Value slopes, SourceLocation where = SourceLocation::current()) {
  const Value distance = cast(sub(at.key, at.query, where), at.scores.dtype(), where);
  const Value per_head = unsqueeze(unsqueeze(slopes, 1, where), 1, where);  // [H, 1, 1]
  return add(at.scores, mul(per_head, distance, where), where);
}

// T5's relative-position bucket of key j for query i (Hugging Face's
// _relative_position_bucket): exact below half the buckets, then logarithmic up to
// max_distance. The logarithmic part is written as comparisons with its integer
// thresholds, found here once, so the device and the reference agree exactly.
constexpr Value t5_bucket(ScorePositions at, std::int64_t buckets = 32, std::int64_t max_distance = 128,
                          bool bidirectional = true, SourceLocation where = SourceLocation::current()) {
  const Value relative = sub(at.key, at.query, where);
  auto c = [&](double v) { return index_constant(at.scores, v, where); };
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
  // Below `exact`, large is exact and the distance smaller; from there, each threshold
  // is at least one past the last, so large <= distance: the bucket is their minimum
  // (which also bounds it for gather's range check).
  return add(base, minimum(distance, large, where), where);
}

// T5's relative attention bias: scores + table[h, bucket(i, j)]; table: [heads, buckets]
// (Hugging Face's relative_attention_bias.weight, transposed).
constexpr Value t5_bias(ScorePositions at, Value table, std::int64_t max_distance = 128, bool bidirectional = true,
                        SourceLocation where = SourceLocation::current()) {
  const std::int64_t buckets = table.shape().last();
  const Value per_head = unsqueeze(table, 1, where);  // [H, 1, buckets]
  return add(at.scores, gather(per_head, t5_bucket(at, buckets, max_distance, bidirectional, where), where), where);
}

}  // namespace vkattn
