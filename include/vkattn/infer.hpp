#pragma once
// Shape and dtype inference for every primitive op: the one place where the rules of
// the IR are written down. The DSL and the JSON loader both go through it.
#include <limits>
#include <array>

#include "vkattn/elementwise_forms.hpp"
#include "vkattn/ir.hpp"

namespace vkattn {

struct Inferred {
  TensorType type;
  bool ok = true;
  Message problem;  // the plain-words reason when !ok
};

// The first position a slice keeps along its axis of `x` (a negative start counts from
// the end of the axis at its current size).
constexpr std::int64_t slice_first(const Attributes& attributes, const Shape& x) {
  const std::int64_t size = x[x.rank + attributes.axis];
  return attributes.start < 0 ? size + attributes.start : attributes.start;
}

namespace detail {

constexpr Inferred failure(Message problem) {
  Inferred result;
  result.ok = false;
  result.problem = problem;
  return result;
}

constexpr Inferred success(Shape shape, DType dtype) {
  Inferred result;
  result.type = {shape, dtype};
  return result;
}

// numpy broadcasting of two shapes; returns false when they do not broadcast and
// names the first offending dimension (counted in the output) in `bad_axis`. A dynamic
// dimension matches only the same dynamic dimension or a fixed 1 (it never broadcasts
// itself, whatever size a run gives it).
constexpr bool broadcast_shapes(const Shape& a, const Shape& b, Shape& out, int& bad_axis) {
  out = Shape{};
  out.rank = a.rank > b.rank ? a.rank : b.rank;
  for (int i = 1; i <= out.rank; ++i) {
    const int axis = out.rank - i;
    const bool in_a = i <= a.rank, in_b = i <= b.rank;
    const int axis_a = a.rank - i, axis_b = b.rank - i;
    const bool a_is_one = !in_a || (!a.dynamic(axis_a) && a.dims[axis_a] == 1);
    const bool b_is_one = !in_b || (!b.dynamic(axis_b) && b.dims[axis_b] == 1);
    if (in_a && in_b && a.same_dim(axis_a, b, axis_b)) {
      out.copy_dim(axis, a, axis_a);
    } else if (b_is_one && in_a) {
      out.copy_dim(axis, a, axis_a);
    } else if (a_is_one && in_b) {
      out.copy_dim(axis, b, axis_b);
    } else {
      bad_axis = axis;
      return false;
    }
  }
  return true;
}

// A dimension that must be fixed (a head count, a feature width): a message naming it.
constexpr Inferred need_fixed(const Shape& shape, int axis, std::string_view what) {
  if (!shape.dynamic(axis)) return Inferred{};
  Message m;
  m << what << " (dimension " << std::int64_t{axis} << " of " << shape
    << ") is dynamic, but it must be a fixed size; only sequence-like dimensions may be dynamic";
  Inferred r;
  r.ok = false;
  r.problem = m;
  return r;
}

constexpr Inferred check_float(const TensorType& t, std::string_view role) {
  if (!is_float(t.dtype)) {
    Message m;
    m << role << " has dtype " << dtype_name(t.dtype) << " but a floating-point tensor (f32 or f16) is needed";
    return failure(m);
  }
  return success(t.shape, t.dtype);
}

constexpr Inferred check_same_float(const TensorType& a, const TensorType& b, std::string_view a_role,
                                    std::string_view b_role) {
  if (auto r = check_float(a, a_role); !r.ok) return r;
  if (auto r = check_float(b, b_role); !r.ok) return r;
  if (a.dtype != b.dtype) {
    Message m;
    m << a_role << " is " << dtype_name(a.dtype) << " but " << b_role << " is " << dtype_name(b.dtype)
      << "; convert one so both have the same dtype";
    return failure(m);
  }
  return success(a.shape, a.dtype);
}

constexpr Inferred infer_leaf(const Shape& shape, DType dtype, bool is_weight, bool fixed_only = false) {
  if (shape.rank > max_rank) {
    Message m;
    m << "shape " << shape << " has rank " << shape.rank << "; at most " << max_rank << " dimensions are supported";
    return failure(m);
  }
  for (int i = 0; i < shape.rank; ++i) {
    if (shape.dims[i] <= 0) {
      Message m;
      m << "shape " << shape << " has dimension " << i << " = " << shape.dims[i] << "; every dimension must be at least 1";
      return failure(m);
    }
    if (shape.dynamic(i) && shape.symbols[i].truncated()) {
      Message m;
      m << "dimension " << i << " of " << shape << " has a name longer than "
        << std::int64_t(SymbolName::capacity()) << " characters";
      return failure(m);
    }
    if (shape.dynamic(i) && (is_weight || fixed_only)) {
      Message m;
      m << "dimension " << i << " of " << shape << " is dynamic, but " << (is_weight ? "weights" : "state tensors")
        << " have fixed shapes; give the largest size instead";
      return failure(m);
    }
  }
  if (dtype == DType::boolean) {
    Message m;
    m << "no input, weight or state is bool: pass 0 and 1 as i32 or f32 and compare them";
    return failure(m);
  }
  if (is_weight && !is_float(dtype)) {
    Message m;
    m << "weights must be f32 or f16, not " << dtype_name(dtype);
    return failure(m);
  }
  return success(shape, dtype);
}

constexpr Inferred infer_matmul(const TensorType& a, const TensorType& b, bool transpose_b) {
  if (auto r = check_same_float(a, b, "a", "b"); !r.ok) return r;
  if (a.shape.rank < 2 || b.shape.rank < 2) {
    Message m;
    m << "both operands need at least 2 dimensions, but a is " << a.shape << " and b is " << b.shape;
    return failure(m);
  }
  std::int64_t k_a = a.shape.last();
  std::int64_t k_b = transpose_b ? b.shape.last() : b.shape.from_back(2);
  const int k_axis_b = transpose_b ? b.shape.rank - 1 : b.shape.rank - 2;
  const int n_axis_b = transpose_b ? b.shape.rank - 2 : b.shape.rank - 1;
  if (!a.shape.same_dim(a.shape.rank - 1, b.shape, k_axis_b)) {
    Message m;
    m << "inner dimensions differ: a is " << a.shape << " and b" << (transpose_b ? " (transposed)" : "") << " is "
      << b.shape << "; the last dimension of a (" << k_a << ") must equal the "
      << (transpose_b ? "last" : "second-to-last") << " dimension of b (" << k_b << ")";
    return failure(m);
  }
  Shape batch_a = a.shape, batch_b = b.shape;
  batch_a.rank -= 2;
  batch_b.rank -= 2;
  Shape out;
  int bad_axis = 0;
  if (!broadcast_shapes(batch_a, batch_b, out, bad_axis)) {
    Message m;
    m << "batch dimensions of a " << a.shape << " and b " << b.shape << " do not broadcast";
    return failure(m);
  }
  out.copy_dim(out.rank, a.shape, a.shape.rank - 2);
  out.copy_dim(out.rank + 1, b.shape, n_axis_b);
  out.rank += 2;
  return success(out, a.dtype);
}

// Whether f16 holds `value` exactly (infinities and NaN included).
constexpr bool exactly_f16(double value) {
  if (value != value || value == std::numeric_limits<double>::infinity() ||
      value == -std::numeric_limits<double>::infinity() || value == 0)
    return true;
  double a = value < 0 ? -value : value;
  if (a > 65504.0) return false;
  int exponent = 0;  // 2^exponent <= a < 2^(exponent + 1)
  while (a >= 2) a /= 2, ++exponent;
  while (a < 1) a *= 2, --exponent;
  // 11 significant bits in the normal range; below 2^-14, multiples of 2^-24.
  const int bits = exponent >= -14 ? 10 : 10 - (-14 - exponent);
  if (bits < 0) return false;
  for (int i = 0; i < bits; ++i) a *= 2;
  return a == double(std::int64_t(a));
}

// Two operands of one numeric dtype (f32, f16 or i32): integer arithmetic is for index
// values, float arithmetic for scores and activations; a bool is neither.
constexpr Inferred check_same_numeric(const TensorType& a, const TensorType& b) {
  for (const TensorType* t : {&a, &b})
    if (t->dtype == DType::boolean) {
      Message m;
      m << (t == &a ? "a" : "b") << " is bool; arithmetic and comparisons need f32, f16 or i32 (cast it first)";
      return failure(m);
    }
  if (a.dtype != b.dtype) {
    Message m;
    m << "a is " << dtype_name(a.dtype) << " but b is " << dtype_name(b.dtype)
      << "; cast one so both have the same dtype";
    return failure(m);
  }
  return success(a.shape, a.dtype);
}

constexpr Inferred broadcast_result(const Shape& a, const Shape& b, DType dtype) {
  Shape out;
  int bad_axis = 0;
  if (!broadcast_shapes(a, b, out, bad_axis)) {
    Message m;
    m << "shapes " << a << " and " << b << " do not broadcast (they differ in dimension " << bad_axis
      << " of the result, and neither is 1)";
    return failure(m);
  }
  return success(out, dtype);
}

// a (op) b of one numeric dtype, broadcast; comparisons give bool.
constexpr Inferred infer_arithmetic(const TensorType& a, const TensorType& b, bool comparison) {
  if (auto r = check_same_numeric(a, b); !r.ok) return r;
  return broadcast_result(a.shape, b.shape, comparison ? DType::boolean : a.dtype);
}

constexpr Inferred check_dtype(const TensorType& t, DType dtype, std::string_view role) {
  if (t.dtype != dtype) {
    Message m;
    m << role << " is " << dtype_name(t.dtype) << " but must be " << dtype_name(dtype);
    if (dtype == DType::boolean) m << " (a comparison such as less or equal makes one)";
    return failure(m);
  }
  return success(t.shape, t.dtype);
}

// A mask operand must broadcast to the scores without changing their shape.
constexpr Inferred infer_mask_operand(const TensorType& scores, const TensorType& mask, bool additive) {
  if (auto r = check_float(scores, "scores"); !r.ok) return r;
  if (additive) {
    if (auto r = check_same_float(scores, mask, "scores", "mask"); !r.ok) return r;
  }
  Shape out;
  int bad_axis = 0;
  if (!broadcast_shapes(scores.shape, mask.shape, out, bad_axis) || !(out == scores.shape)) {
    Message m;
    m << "mask shape " << mask.shape << " does not broadcast to the scores " << scores.shape
      << " (aligned from the last dimension, each mask dimension must equal that of the scores or be 1)";
    return failure(m);
  }
  return success(scores.shape, scores.dtype);
}

constexpr Inferred infer_permute(const TensorType& x, const std::array<std::int8_t, max_rank>& permutation) {
  std::array<bool, max_rank> seen{};
  for (int i = 0; i < x.shape.rank; ++i) {
    int axis = permutation[i];
    if (axis < 0 || axis >= x.shape.rank || seen[axis]) {
      Message m;
      m << "(";
      for (int j = 0; j < x.shape.rank; ++j) m << (j ? ", " : "") << std::int64_t{permutation[j]};
      m << ") is not a permutation of the " << x.shape.rank << " dimensions of " << x.shape;
      return failure(m);
    }
    seen[axis] = true;
  }
  Shape out = x.shape;
  for (int i = 0; i < x.shape.rank; ++i) out.copy_dim(i, x.shape, permutation[i]);
  return success(out, x.dtype);
}

constexpr Inferred need_rank(const TensorType& x, int minimum, int maximum, std::string_view role) {
  if (x.shape.rank < minimum || x.shape.rank > maximum) {
    Message m;
    m << role << " is " << x.shape << " but ";
    if (minimum == maximum)
      m << "exactly " << minimum;
    else
      m << "at least " << minimum;
    m << " dimensions are needed";
    return failure(m);
  }
  return success(x.shape, x.dtype);
}

// The index of one axis of a score tensor [..., Sq, Sk]: size 1 everywhere but `axis`
// (counted from the back), whose size and name it keeps.
constexpr Inferred infer_score_index(const TensorType& scores, int from_back, int minimum_rank) {
  if (auto r = need_rank(scores, minimum_rank, max_rank, "the scores it indexes"); !r.ok) return r;
  Shape out = scores.shape;
  for (int axis = 0; axis < out.rank; ++axis) {
    out.dims[std::size_t(axis)] = 1;
    out.symbols[std::size_t(axis)] = SymbolName{};
    out.bounds[std::size_t(axis)] = 0;
  }
  const int axis = scores.shape.rank - from_back;
  out.copy_dim(axis, scores.shape, axis);
  return success(out, DType::i32);
}

// numpy take_along_axis(table, index, axis) with broadcasting: the table's other axes
// broadcast against the index's, aligned from the back; `axis` counts from the back
// (-1 the last).
constexpr Inferred infer_gather(const TensorType& table, const TensorType& index, int axis) {
  if (table.dtype == DType::boolean) return failure(Message{"the table is bool; gather reads f32, f16 or i32 tables"});
  if (auto r = check_dtype(index, DType::i32, "the index"); !r.ok) return r;
  if (auto r = need_rank(table, 1, max_rank, "the table"); !r.ok) return r;
  if (axis > -1 || axis < -table.shape.rank) {
    Message m;
    m << "the gathered axis " << axis << " is not an axis of the table " << table.shape << " (-1 to -"
      << table.shape.rank << ", counted from the back)";
    return failure(m);
  }
  const std::size_t gathered = std::size_t(table.shape.rank + axis);
  Shape other = table.shape;
  other.dims[gathered] = 1;
  other.symbols[gathered] = SymbolName{};
  other.bounds[gathered] = 0;
  auto r = broadcast_result(other, index.shape, table.dtype);
  if (!r.ok) {
    Message m;
    m << "the table " << table.shape << " (its axis " << axis << " gathered) and the index " << index.shape
      << " do not broadcast: each other table dimension must equal the index's or be 1";
    return failure(m);
  }
  return r;
}

// A normalisation's per-feature parameter (gamma, beta, weight): [n] of x's float type.
constexpr Inferred check_norm_parameter(const TensorType& x, const TensorType& p, const char* role) {
  if (auto r = check_same_float(x, p, "the operand", role); !r.ok) return r;
  if (auto r = need_fixed(x.shape, x.shape.rank - 1, "the normalised (last) dimension"); !r.ok) return r;
  if (p.shape.rank != 1 || p.shape[0] != x.shape.last()) {
    Message m;
    m << role << " has shape " << p.shape << " but the normalised (last) dimension of " << x.shape << " is "
      << x.shape.last() << ", so it must be [" << x.shape.last() << "]";
    return failure(m);
  }
  return success(x.shape, x.dtype);
}

constexpr Inferred check_epsilon(const TensorType& x, double epsilon) {
  if (!(epsilon > 0)) {
    Message m;
    m << "epsilon must be positive";
    return failure(m);
  }
  return success(x.shape, x.dtype);
}

// A per-head parameter of attention scores [..., heads, queries, keys] (ALiBi slopes,
// sink logits): [heads] of the scores' float type.
constexpr Inferred check_head_parameter(const TensorType& scores, const TensorType& p, const char* role) {
  if (auto r = check_same_float(scores, p, "scores", role); !r.ok) return r;
  const std::int64_t heads = scores.shape.from_back(3);
  if (auto r = need_fixed(scores.shape, scores.shape.rank - 3, "the head count"); !r.ok) return r;
  if (p.shape.rank != 1 || p.shape[0] != heads) {
    Message m;
    m << role << " has shape " << p.shape << " but the scores " << scores.shape << " have " << heads
      << " heads (the third dimension from the back), so it must be [" << heads << "]";
    return failure(m);
  }
  return success(scores.shape, scores.dtype);
}

constexpr Inferred infer_rotary(const TensorType& x, const Attributes& a) {
  if (auto r = check_float(x, "the operand"); !r.ok) return r;
  if (auto r = need_rank(x, 2, max_rank, "the operand ([..., sequence, head_dim])"); !r.ok) return r;
  const std::int64_t dims = a.rotary_dims;
  if (dims < 2 || dims % 2 != 0 || dims > x.shape.last()) {
    Message m;
    m << "rotary dims " << dims << " must be even, at least 2 and at most the last dimension of " << x.shape << " ("
      << x.shape.last() << ")";
    return failure(m);
  }
  if (!(a.theta > 1.0) || a.theta > 1e12) {
    Message m;
    m << "the rotary base theta must lie in (1, 1e12]";
    return failure(m);
  }
  if (a.position_offset < 0 || a.position_offset + x.shape.from_back(2) > (std::int64_t(1) << 24)) {
    Message m;
    m << "positions " << a.position_offset << " to " << a.position_offset + x.shape.from_back(2) - 1
      << " must lie in [0, 2^24) (where f32 holds every position exactly)";
    return failure(m);
  }
  return success(x.shape, x.dtype);
}

// Positions of a cache: i32 [batch], one per sequence of `shape`'s first dimension.
constexpr Inferred check_positions(const TensorType& positions, const Shape& shape) {
  if (positions.dtype != DType::i32 || positions.shape.rank != 1 || !positions.shape.same_dim(0, shape, 0)) {
    Message m;
    m << "positions must be an i32 tensor of shape [" << shape[0] << "] (the cache position of each of the "
      << shape[0] << " sequences of " << shape << "), but it is " << dtype_name(positions.dtype) << " "
      << positions.shape;
    return failure(m);
  }
  return success(shape, DType::i32);
}

// cache [B, H, L, D] (a state tensor), update [B, H, S, D] with S at most L, positions [B].
constexpr Inferred infer_cache_write(const TensorType& cache, const TensorType& update, const TensorType& positions) {
  if (auto r = check_same_float(cache, update, "the cache", "the update"); !r.ok) return r;
  if (auto r = need_rank(cache, 4, 4, "the cache ([batch, heads, capacity, head_dim])"); !r.ok) return r;
  if (auto r = need_rank(update, 4, 4, "the update ([batch, heads, sequence, head_dim])"); !r.ok) return r;
  const Shape& c = cache.shape;
  const Shape& u = update.shape;
  if (!c.same_dim(0, u, 0) || !c.same_dim(1, u, 1) || !c.same_dim(3, u, 3) ||
      u.at_bounds()[2] > c[2]) {
    Message m;
    m << "the update " << u << " must match the cache " << c
      << " in batch, heads and head dimension, with at most " << c[2] << " (the capacity) positions";
    return failure(m);
  }
  if (auto r = check_positions(positions, c); !r.ok) return r;
  return success(c, cache.dtype);
}

// A block table: i32 [rows, pages per sequence], row b naming the pool pages that hold
// the positions of row b's sequence, page_size of them each. Its rows are the update's
// batch (`rows`; any row count without one): fixed, or dynamic in a ragged batch, where
// each row is one token and the rows of one sequence repeat its table row.
constexpr Inferred check_block_table(const TensorType& table, const Shape* rows) {
  if (table.dtype != DType::i32 || table.shape.rank != 2 || table.shape.dynamic(1) ||
      (rows && !table.shape.same_dim(0, *rows, 0))) {
    Message m;
    m << "the block table must be an i32 tensor of shape [rows";
    if (rows) m << " = " << (*rows)[0];
    m << ", pages per sequence] (the pool page holding each page of each sequence's positions), but it is "
      << dtype_name(table.dtype) << " " << table.shape;
    return failure(m);
  }
  return success(table.shape, DType::i32);
}

// pool [pages, H, P, D] (a state tensor), update [B, H, S, D], positions [B], table [B, T]:
// S at most the T * P positions a table row reaches.
constexpr Inferred infer_paged_cache_write(const TensorType& pool, const TensorType& update,
                                           const TensorType& positions, const TensorType& table) {
  if (auto r = check_same_float(pool, update, "the page pool", "the update"); !r.ok) return r;
  if (auto r = need_rank(pool, 4, 4, "the page pool ([pages, heads, page_size, head_dim])"); !r.ok) return r;
  if (auto r = need_rank(update, 4, 4, "the update ([batch, heads, sequence, head_dim])"); !r.ok) return r;
  const Shape& c = pool.shape;
  const Shape& u = update.shape;
  if (auto r = check_block_table(table, &u); !r.ok) return r;
  if (!c.same_dim(1, u, 1) || !c.same_dim(3, u, 3) || u.at_bounds()[2] > c[2] * table.shape[1]) {
    Message m;
    m << "the update " << u << " must match the page pool " << c
      << " in heads and head dimension, with at most " << c[2] * table.shape[1]
      << " (pages per sequence x page size) positions";
    return failure(m);
  }
  if (auto r = check_positions(positions, u); !r.ok) return r;
  return success(c, pool.dtype);
}

// pool [pages, H, P, D], table [S, T] -> [S, H, T * P, D].
constexpr Inferred infer_paged_view(const TensorType& pool, const TensorType& table) {
  if (auto r = check_float(pool, "the page pool"); !r.ok) return r;
  if (auto r = need_rank(pool, 4, 4, "the page pool ([pages, heads, page_size, head_dim])"); !r.ok) return r;
  if (pool.shape.any_dynamic()) return failure(Message{"the page pool's shape must be fixed"});
  if (auto r = check_block_table(table, nullptr); !r.ok) return r;
  const Shape& c = pool.shape;
  Shape viewed{table.shape[0], c[1], table.shape[1] * c[2], c[3]};
  viewed.copy_dim(0, table.shape, 0);
  return success(viewed, pool.dtype);
}

// An op of the elementwise forms table (elementwise_forms.hpp), by its typing rule:
// its op_arity(op) operands broadcast against each other.
constexpr Inferred infer_elementwise(Op op, const std::array<TensorType, max_inputs>& operands) {
  const int arity = op_arity(op);
  const ElementwiseTyping typing = elementwise_form(op).typing;
  auto role = [&](int i) -> std::string_view {
    if (typing == ElementwiseTyping::bounded) return i == 0 ? "x" : i == 1 ? "low" : "high";
    if (arity == 1) return "the operand";
    return i == 0 ? "a" : "b";
  };
  for (int i = 0; i < arity; ++i) {
    const TensorType& t = operands[std::size_t(i)];
    switch (typing) {
      case ElementwiseTyping::floating:
        if (auto r = check_float(t, role(i)); !r.ok) return r;
        break;
      case ElementwiseTyping::logical:
        if (auto r = check_dtype(t, DType::boolean, role(i)); !r.ok) return r;
        break;
      case ElementwiseTyping::numeric:
      case ElementwiseTyping::arithmetic:
      case ElementwiseTyping::comparison:
      case ElementwiseTyping::bounded:
        if (t.dtype == DType::boolean) {
          Message m;
          m << role(i) << " is bool; " << op_name(op) << " needs f32, f16 or i32 (cast it first)";
          return failure(m);
        }
        break;
    }
    if (t.dtype != operands[0].dtype) {
      Message m;
      m << role(0) << " is " << dtype_name(operands[0].dtype) << " but " << role(i) << " is " << dtype_name(t.dtype)
        << "; cast one so both have the same dtype";
      return failure(m);
    }
  }
  const DType result = typing == ElementwiseTyping::comparison ? DType::boolean : operands[0].dtype;
  Inferred inferred = success(operands[0].shape, result);
  for (int i = 1; i < arity && inferred.ok; ++i)
    inferred = broadcast_result(inferred.type.shape, operands[std::size_t(i)].shape, result);
  return inferred;
}

}  // namespace detail

// Infers the type of `op` applied to `operands` (op_arity(op) of them), without the
// range of its values. Inputs and weights take their declared type in operands[0].
constexpr Inferred infer_type(Op op, const Attributes& attributes, const std::array<TensorType, max_inputs>& operands) {
  using namespace detail;
  const TensorType& x = operands[0];
  switch (op) {
    case Op::input: return infer_leaf(x.shape, x.dtype, false);
    case Op::weight: return infer_leaf(x.shape, x.dtype, true);
    case Op::state: {
      if (auto r = infer_leaf(x.shape, x.dtype, false, true); !r.ok) return r;
      return check_float(x, "a state tensor");
    }
    case Op::cache_write: return infer_cache_write(operands[0], operands[1], operands[2]);
    case Op::paged_cache_write: return infer_paged_cache_write(operands[0], operands[1], operands[2], operands[3]);
    case Op::paged_view: return infer_paged_view(operands[0], operands[1]);
    case Op::cache_causal_mask: {
      if (auto r = check_float(x, "scores"); !r.ok) return r;
      if (auto r = need_rank(x, 3, max_rank, "scores ([batch, ..., queries, keys])"); !r.ok) return r;
      if (auto r = check_positions(operands[1], x.shape); !r.ok) return r;
      return success(x.shape, x.dtype);
    }
    case Op::output: return success(x.shape, x.dtype);
    case Op::repeat_begin: {
      if (attributes.count < 1) {
        Message m;
        m << "a repeated body runs at least once, not " << attributes.count << " times";
        return failure(m);
      }
      return success(x.shape, x.dtype);
    }
    case Op::repeat_end: {
      const TensorType& start = operands[1];
      if (!(x.shape == start.shape) || x.dtype != start.dtype) {
        Message m;
        m << "an iteration's result " << x.shape << " " << dtype_name(x.dtype)
          << " must have the shape and dtype of the value the body starts from, " << start.shape << " "
          << dtype_name(start.dtype) << ", because the next iteration starts from it";
        return failure(m);
      }
      return success(x.shape, x.dtype);
    }
    case Op::matmul: return infer_matmul(operands[0], operands[1], attributes.transpose_b);
#define VKATTN_FORM_CASE(name, ...) case Op::name:
    VKATTN_ELEMENTWISE_FORMS(VKATTN_FORM_CASE)
#undef VKATTN_FORM_CASE
    return infer_elementwise(op, operands);
    case Op::scale: return check_float(x, "the operand");
    case Op::softmax: {
      if (auto r = check_float(x, "the operand"); !r.ok) return r;
      return need_rank(x, 1, max_rank, "the operand");
    }
    case Op::split_heads: {
      if (auto r = need_rank(x, 3, 3, "the input ([batch, sequence, model])"); !r.ok) return r;
      std::int64_t heads = attributes.count;
      if (auto r = need_fixed(x.shape, 2, "the model dimension"); !r.ok) return r;
      if (heads < 1 || x.shape[2] % heads != 0) {
        Message m;
        m << "model dimension " << x.shape[2] << " of " << x.shape << " is not divisible by " << heads << " heads";
        return failure(m);
      }
      Shape out{x.shape[0], heads, x.shape[1], x.shape[2] / heads};
      out.copy_dim(0, x.shape, 0);
      out.copy_dim(2, x.shape, 1);
      return success(out, x.dtype);
    }
    case Op::merge_heads: {
      if (auto r = need_rank(x, 4, 4, "the input ([batch, heads, sequence, head_dim])"); !r.ok) return r;
      if (auto r = need_fixed(x.shape, 1, "the head count"); !r.ok) return r;
      if (auto r = need_fixed(x.shape, 3, "the head dimension"); !r.ok) return r;
      Shape out{x.shape[0], x.shape[2], x.shape[1] * x.shape[3]};
      out.copy_dim(0, x.shape, 0);
      out.copy_dim(1, x.shape, 2);
      return success(out, x.dtype);
    }
    case Op::repeat_heads: {
      if (auto r = need_rank(x, 4, 4, "the input ([batch, heads, sequence, head_dim])"); !r.ok) return r;
      if (attributes.count < 1) {
        Message m;
        m << "the repeat count must be at least 1, not " << attributes.count;
        return failure(m);
      }
      if (auto r = need_fixed(x.shape, 1, "the head count"); !r.ok) return r;
      Shape out = x.shape;
      out.dims[1] *= attributes.count;
      return success(out, x.dtype);
    }
    case Op::permute: return infer_permute(x, attributes.permutation);
    case Op::causal_mask: {
      if (auto r = check_float(x, "scores"); !r.ok) return r;
      return need_rank(x, 2, max_rank, "scores");
    }
    case Op::sliding_window_mask: {
      if (auto r = check_float(x, "scores"); !r.ok) return r;
      if (attributes.count < 1) {
        Message m;
        m << "the window must be at least 1 position, not " << attributes.count;
        return failure(m);
      }
      return need_rank(x, 2, max_rank, "scores");
    }
    case Op::padding_mask: {
      const TensorType& lengths = operands[1];
      if (auto r = check_float(x, "scores"); !r.ok) return r;
      if (auto r = need_rank(x, 3, max_rank, "scores ([batch, ..., queries, keys])"); !r.ok) return r;
      if (lengths.dtype != DType::i32 || lengths.shape.rank != 1 || !lengths.shape.same_dim(0, x.shape, 0)) {
        Message m;
        m << "lengths must be an i32 tensor of shape [" << x.shape[0] << "] (one key count per batch entry of the scores "
          << x.shape << "), but it is " << dtype_name(lengths.dtype) << " " << lengths.shape;
        return failure(m);
      }
      return success(x.shape, x.dtype);
    }
    case Op::boolean_mask: return infer_mask_operand(x, operands[1], false);
    case Op::alibi: {
      if (auto r = check_float(x, "scores"); !r.ok) return r;
      if (auto r = need_rank(x, 3, max_rank, "scores ([..., heads, queries, keys])"); !r.ok) return r;
      return check_head_parameter(x, operands[1], "slopes");
    }
    case Op::additive_mask: return infer_mask_operand(x, operands[1], true);
    case Op::softmax_with_sinks: {
      if (auto r = check_float(x, "scores"); !r.ok) return r;
      if (auto r = need_rank(x, 3, max_rank, "scores ([..., heads, queries, keys])"); !r.ok) return r;
      return check_head_parameter(x, operands[1], "sinks");
    }
    case Op::layer_norm_no_bias: {
      if (auto r = check_float(x, "the operand"); !r.ok) return r;
      if (auto r = need_rank(x, 1, max_rank, "the operand"); !r.ok) return r;
      if (auto r = check_norm_parameter(x, operands[1], "gamma"); !r.ok) return r;
      return check_epsilon(x, attributes.epsilon);
    }
    case Op::rotary_embedding: return infer_rotary(x, attributes);
    case Op::rotary_embedding_at: {
      if (auto r = infer_rotary(x, attributes); !r.ok) return r;
      if (auto r = check_positions(operands[1], x.shape); !r.ok) return r;
      return success(x.shape, x.dtype);
    }
    case Op::layer_norm: {
      if (auto r = check_float(x, "the operand"); !r.ok) return r;
      if (auto r = need_rank(x, 1, max_rank, "the operand"); !r.ok) return r;
      if (auto r = check_norm_parameter(x, operands[1], "gamma"); !r.ok) return r;
      if (auto r = check_norm_parameter(x, operands[2], "beta"); !r.ok) return r;
      return check_epsilon(x, attributes.epsilon);
    }
    case Op::rms_norm: {
      if (auto r = check_float(x, "the operand"); !r.ok) return r;
      if (auto r = need_rank(x, 1, max_rank, "the operand"); !r.ok) return r;
      if (auto r = check_norm_parameter(x, operands[1], "weight"); !r.ok) return r;
      return check_epsilon(x, attributes.epsilon);
    }
    case Op::constant: {
      if (attributes.to == DType::boolean)
        return failure(Message{"a constant is f32, f16 or i32 (compare constants to make a bool)"});
      if (attributes.to == DType::f16 && !exactly_f16(attributes.factor)) {
        Message m;
        m << "the constant is not exactly an f16 value; make it f32, or a value f16 holds";
        return failure(m);
      }
      if (attributes.to == DType::i32 && !(attributes.factor == double(std::int64_t(attributes.factor)) &&
                                           attributes.factor >= -2147483648.0 && attributes.factor <= 2147483647.0)) {
        Message m;
        m << "an i32 constant must be a whole number within 32 bits";
        return failure(m);
      }
      return success(Shape{1}, attributes.to);
    }
    case Op::query_index: return infer_score_index(x, 2, 2);
    case Op::key_index: return infer_score_index(x, 1, 2);
    case Op::head_index: return infer_score_index(x, 3, 3);
    case Op::batch_index: return infer_score_index(x, 4, 4);
    case Op::floor_div: return infer_arithmetic(operands[0], operands[1], false);
    case Op::where: {
      if (auto r = check_dtype(operands[0], DType::boolean, "the condition"); !r.ok) return r;
      if (operands[1].dtype != operands[2].dtype) {
        Message m;
        m << "the two choices are " << dtype_name(operands[1].dtype) << " and " << dtype_name(operands[2].dtype)
          << "; cast one so both have the same dtype";
        return failure(m);
      }
      auto ab = broadcast_result(operands[1].shape, operands[2].shape, operands[1].dtype);
      if (!ab.ok) return ab;
      return broadcast_result(operands[0].shape, ab.type.shape, operands[1].dtype);
    }
    case Op::cast: {
      if (attributes.to == DType::boolean)
        return failure(Message{"cast makes f32, f16 or i32; compare with a value to make a bool"});
      return success(x.shape, attributes.to);
    }
    case Op::gather: return infer_gather(operands[0], operands[1], attributes.axis);
    case Op::slice: {
      if (attributes.axis > -1 || attributes.axis < -x.shape.rank) {
        Message m;
        m << "the sliced axis " << int(attributes.axis) << " is not an axis of " << x.shape << " (-1 to -"
          << x.shape.rank << ", counted from the back)";
        return failure(m);
      }
      const int axis = x.shape.rank + attributes.axis;
      const std::int64_t size = x.shape[axis];  // a dynamic axis: its current size (the bound until sized)
      const std::int64_t first = slice_first(attributes, x.shape);
      if (attributes.count < 1 || first < 0 || first > size - attributes.count) {
        Message m;
        m << "positions " << attributes.start << " to " << attributes.start << " + " << attributes.count
          << " are not within axis " << int(attributes.axis) << " of " << x.shape << " (" << size
          << " positions); keep at least one position inside the axis";
        return failure(m);
      }
      Shape out = x.shape;
      out.set_fixed(axis, attributes.count);
      return success(out, x.dtype);
    }
    case Op::unsqueeze: {
      if (x.shape.rank >= max_rank || attributes.count < 0 || attributes.count > x.shape.rank) {
        Message m;
        m << "cannot insert an axis at position " << attributes.count << " of " << x.shape << " (positions 0.."
          << x.shape.rank << ", at most " << max_rank << " dimensions)";
        return failure(m);
      }
      Shape out;
      out.rank = x.shape.rank + 1;
      const int at = int(attributes.count);
      for (int axis = 0, from = 0; axis < out.rank; ++axis) {
        if (axis == at) {
          out.dims[std::size_t(axis)] = 1;
          out.bounds[std::size_t(axis)] = 0;
          continue;
        }
        out.copy_dim(axis, x.shape, from++);
      }
      return success(out, x.dtype);
    }
  }
  return failure(Message{"unknown op"});
}

// Interval arithmetic on IntRange: the ranges of the graph's i32 values (range_of,
// below) and the compiler's block tests of score programs (visible_fraction.hpp).
constexpr IntRange known_range(std::int64_t low, std::int64_t high) {
  constexpr std::int64_t limit = std::int64_t(1) << 31;  // beyond i32: unknown
  if (low < -limit || high >= limit) return {};
  return {true, low, high};
}

constexpr IntRange range_union(IntRange x, IntRange y) {
  if (!x.known || !y.known) return {};
  return known_range(x.low < y.low ? x.low : y.low, x.high > y.high ? x.high : y.high);
}

namespace detail {
constexpr std::int64_t floor_divide(std::int64_t a, std::int64_t b) {
  const std::int64_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}
}  // namespace detail

// The range of `op` (add, sub, mul, minimum, maximum, abs, floor_div) over operands in
// ranges a and b; unknown for other ops or unknown operands.
constexpr IntRange range_arithmetic(Op op, IntRange a, IntRange b) {
  auto low_high = [](std::int64_t p0, std::int64_t p1, std::int64_t p2, std::int64_t p3) {
    std::int64_t lo = p0, hi = p0;
    for (std::int64_t v : {p1, p2, p3}) lo = v < lo ? v : lo, hi = v > hi ? v : hi;
    return known_range(lo, hi);
  };
  if (!a.known || (op_arity(op) > 1 && !b.known)) return {};
  switch (op) {
    case Op::add: return known_range(a.low + b.low, a.high + b.high);
    case Op::sub: return known_range(a.low - b.high, a.high - b.low);
    case Op::mul: return low_high(a.low * b.low, a.low * b.high, a.high * b.low, a.high * b.high);
    case Op::minimum: return known_range(a.low < b.low ? a.low : b.low, a.high < b.high ? a.high : b.high);
    case Op::maximum: return known_range(a.low > b.low ? a.low : b.low, a.high > b.high ? a.high : b.high);
    case Op::abs:
      if (a.low >= 0) return a;
      if (a.high <= 0) return known_range(-a.high, -a.low);
      return known_range(0, -a.low > a.high ? -a.low : a.high);
    case Op::floor_div:
      if (b.low <= 0 && b.high >= 0) return {};
      return low_high(detail::floor_divide(a.low, b.low), detail::floor_divide(a.low, b.high),
                      detail::floor_divide(a.high, b.low), detail::floor_divide(a.high, b.high));
    default: return {};
  }
}

namespace detail {

// The range of an i32 result from its operands' (IntRange): exact for index values and
// constants, an enclosing interval through arithmetic.
constexpr IntRange range_of(Op op, const Attributes& attributes, const std::array<TensorType, max_inputs>& operands,
                            const Shape& scores) {
  const IntRange a = operands[0].range, b = operands[1].range;
  auto index_range = [&](int from_back) -> IntRange {
    const int axis = scores.rank - from_back;
    const Shape largest = scores.at_bounds();
    return known_range(0, largest[axis] - 1);
  };
  switch (op) {
    case Op::constant: return known_range(std::int64_t(attributes.factor), std::int64_t(attributes.factor));
    case Op::query_index: {
      if (attributes.align == CausalAlign::top_left) return index_range(2);
      if (scores.dynamic(scores.rank - 1) || scores.dynamic(scores.rank - 2)) return {};
      return known_range(scores.last() - scores[scores.rank - 2], scores.last() - 1);
    }
    case Op::key_index: return index_range(1);
    case Op::head_index: return index_range(3);
    case Op::batch_index: return index_range(4);
    case Op::unsqueeze:
    case Op::slice: return a;
    case Op::cast:
      if (operands[0].dtype == DType::boolean) return known_range(0, 1);
      return operands[0].dtype == DType::i32 ? a : IntRange{};
    default: break;
  }
  if (op == Op::where) return range_union(operands[1].range, operands[2].range);
  if (op == Op::clamp) {  // min(max(x, low), high)
    const IntRange c = operands[2].range;
    if (!a.known || !b.known || !c.known) return {};
    const std::int64_t low = a.low > b.low ? a.low : b.low, high = a.high > b.high ? a.high : b.high;
    return known_range(low < c.low ? low : c.low, high < c.high ? high : c.high);
  }
  return range_arithmetic(op, a, b);
}

// A gather's index must stay within the table's gathered axis wherever the graph decides it.
constexpr Inferred check_gather_range(const TensorType& table, const TensorType& index, int axis) {
  const int gathered = table.shape.rank + axis;
  if (!index.range.known || table.shape.dynamic(gathered)) return success(index.shape, index.dtype);
  const std::int64_t entries = table.shape[gathered];
  if (index.range.low >= 0 && index.range.high < entries) return success(index.shape, index.dtype);
  Message m;
  m << "the index reaches " << index.range.low << ".." << index.range.high << " but the table " << table.shape
    << " has " << entries << " entries along its axis " << axis << " (0.." << entries - 1
    << "); clamp the index (clamp, or minimum and maximum), or give the table more entries";
  return failure(m);
}

}  // namespace detail

// Infers the type of `op` applied to `operands`, with the range of an i32 result's
// values where the graph decides them (IntRange).
constexpr Inferred infer(Op op, const Attributes& attributes, const std::array<TensorType, max_inputs>& operands) {
  Inferred result = infer_type(op, attributes, operands);
  if (!result.ok) return result;
  if (op == Op::gather) {
    if (auto r = detail::check_gather_range(operands[0], operands[1], attributes.axis); !r.ok) return r;
  }
  if (result.type.dtype == DType::i32 && op != Op::input && op != Op::gather)
    result.type.range = detail::range_of(op, attributes, operands, operands[0].shape);
  return result;
}

}  // namespace vkattn
