#pragma once
// The share of a score program's key blocks an attention kernel runs: its predicate
// evaluated by interval arithmetic (as score_block_visible does on the device) over
// blocks of the score matrix. Only index values, constants and arithmetic on them are
// known here; a predicate that reads a tensor counts every block it cannot rule out.
// FLOPs and bytes of the attention dispatch are scaled by it, so a causal or windowed
// attention reports the work it does, not the dense work.
#include <array>

#include "vkattn/codegen/expression.hpp"
#include "vkattn/infer.hpp"

namespace vkattn::passes::detail {

struct BoolInterval {
  bool can_be_false = true, can_be_true = true;
};

// Whether some score in rows [r0, r1] x keys [k0, k1] (any batch and head) may be
// visible.
constexpr bool block_may_be_visible(const Expression& e, std::int64_t sq, std::int64_t sk, std::int64_t heads,
                                    std::int64_t batch, std::int64_t r0, std::int64_t r1, std::int64_t k0,
                                    std::int64_t k1) {
  // Filled element by element: g++ 12 miscompiled the run-time copy of this function
  // after constant evaluation when the arrays were value-initialised with `{}` (every
  // bool interval came out "never true").
  std::array<IntRange, max_expression_nodes> ints;
  std::array<BoolInterval, max_expression_nodes> bools;
  for (std::size_t n = 0; n < max_expression_nodes; ++n) {
    ints[n] = IntRange{};
    bools[n] = BoolInterval{true, true};
  }
  auto known = [](std::int64_t lo, std::int64_t hi) { return known_range(lo, hi); };
  for (int n = 0; n <= e.visible; ++n) {
    const ExprNode& node = e.node(n);
    const IntRange a = node.args[0] >= 0 ? ints[std::size_t(node.args[0])] : IntRange{};
    const IntRange b = node.args[1] >= 0 ? ints[std::size_t(node.args[1])] : IntRange{};
    const BoolInterval p = node.args[0] >= 0 ? bools[std::size_t(node.args[0])] : BoolInterval{};
    const BoolInterval q = node.args[1] >= 0 ? bools[std::size_t(node.args[1])] : BoolInterval{};
    IntRange& out = ints[std::size_t(n)];
    BoolInterval& truth = bools[std::size_t(n)];
    const bool both = a.known && b.known;
    switch (node.op) {
      case Op::constant:
        if (node.dtype == DType::i32) out = known(std::int64_t(node.value), std::int64_t(node.value));
        break;
      case Op::query_index:
        out = node.align == CausalAlign::bottom_right ? known(r0 + sk - sq, r1 + sk - sq) : known(r0, r1);
        break;
      case Op::key_index: out = known(k0, k1); break;
      case Op::head_index: out = known(0, heads - 1); break;
      case Op::batch_index: out = known(0, batch - 1); break;
      case Op::add:
      case Op::sub:
      case Op::mul:
      case Op::minimum:
      case Op::maximum:
      case Op::abs:
      case Op::floor_div: out = range_arithmetic(node.op, a, b); break;
      case Op::cast:
        if (node.dtype == DType::i32 && node.args[0] >= 0 && e.node(node.args[0]).dtype == DType::boolean)
          out = known(p.can_be_false ? 0 : 1, p.can_be_true ? 1 : 0);
        else if (node.dtype == DType::i32) out = a;
        break;
      case Op::less:
        if (both) truth = {a.high >= b.low, a.low < b.high};
        break;
      case Op::less_equal:
        if (both) truth = {a.high > b.low, a.low <= b.high};
        break;
      case Op::equal:
        if (both) truth = {!(a.low == a.high && b.low == b.high && a.low == b.low), a.low <= b.high && b.low <= a.high};
        break;
      case Op::logical_and: truth = {p.can_be_false || q.can_be_false, p.can_be_true && q.can_be_true}; break;
      case Op::logical_or: truth = {p.can_be_false && q.can_be_false, p.can_be_true || q.can_be_true}; break;
      case Op::logical_not: truth = {p.can_be_true, p.can_be_false}; break;
      case Op::where: {
        const IntRange x = ints[std::size_t(node.args[1])], y = ints[std::size_t(node.args[2])];
        const BoolInterval u = bools[std::size_t(node.args[1])], v = bools[std::size_t(node.args[2])];
        if (!p.can_be_false) out = x, truth = u;
        else if (!p.can_be_true) out = y, truth = v;
        else {
          out = range_union(x, y);
          truth = {u.can_be_false || v.can_be_false, u.can_be_true || v.can_be_true};
        }
        break;
      }
      default: break;  // tensors, gathers, floats: unknown
    }
  }
  return bools[std::size_t(e.visible)].can_be_true;
}

// The share of blocks of `block` x `block` scores that may be visible (1 without a
// predicate); at most 256 x 256 blocks are tested.
constexpr double visible_fraction(const Expression& e, std::int64_t sq, std::int64_t sk, std::int64_t heads,
                                  std::int64_t batch) {
  if (e.visible < 0 || sq <= 0 || sk <= 0) return 1.0;
  std::int64_t row_block = 64, key_block = 64;
  while ((sq + row_block - 1) / row_block > 256) row_block *= 2;
  while ((sk + key_block - 1) / key_block > 256) key_block *= 2;
  double seen = 0, total = 0;
  for (std::int64_t r0 = 0; r0 < sq; r0 += row_block) {
    const std::int64_t r1 = (r0 + row_block < sq ? r0 + row_block : sq) - 1;
    for (std::int64_t k0 = 0; k0 < sk; k0 += key_block) {
      const std::int64_t k1 = (k0 + key_block < sk ? k0 + key_block : sk) - 1;
      const double size = double(r1 - r0 + 1) * double(k1 - k0 + 1);
      total += size;
      if (block_may_be_visible(e, sq, sk, heads, batch, r0, r1, k0, k1)) seen += size;
    }
  }
  return total > 0 ? seen / total : 1.0;
}

}  // namespace vkattn::passes::detail
