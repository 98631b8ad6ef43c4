// The CPU reference interpreter. Each op is a direct loop over its definition
// (include/vkattn/ir.hpp); nothing is fused, tiled or reordered.
#include "vkattn/reference.hpp"

#include "vkattn/host_memory.hpp"
#include "vkattn/elementwise_forms.hpp"
#include "vkattn/kernels/encodings.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

namespace vkattn {
namespace {

constexpr double negative_infinity = -std::numeric_limits<double>::infinity();

// Visits every multi-index of `shape` in row-major order.
template <typename Visit>
void for_each_index(const Shape& shape, Visit visit) {
  std::array<std::int64_t, max_rank> index{};
  std::int64_t count = shape.elements();
  for (std::int64_t flat = 0; flat < count; ++flat) {
    visit(index, flat);
    for (int axis = shape.rank - 1; axis >= 0; --axis) {
      if (++index[std::size_t(axis)] < shape[axis]) break;
      index[std::size_t(axis)] = 0;
    }
  }
}

// Flat offset into `operand` of the element that broadcasts to `index` of a result of
// rank `result_rank` (dimensions aligned from the back; size-1 dimensions repeat).
std::int64_t broadcast_offset(const Shape& operand, const std::array<std::int64_t, max_rank>& index,
                              int result_rank) {
  std::int64_t offset = 0, stride = 1;
  for (int axis = operand.rank - 1; axis >= 0; --axis) {
    int result_axis = axis + result_rank - operand.rank;
    std::int64_t i = operand[axis] == 1 ? 0 : index[std::size_t(result_axis)];
    offset += i * stride;
    stride *= operand[axis];
  }
  return offset;
}

template <typename F>
Tensor elementwise(const Node& node, const Tensor& x, F f) {
  Tensor out = Tensor::zeros(node.shape, node.dtype);
  for (std::size_t i = 0; i < x.values.size(); ++i) out.values[i] = f(x.values[i], node.attributes);
  return out;
}

Tensor matmul(const Node& node, const Tensor& a, const Tensor& b) {
  Tensor out = Tensor::zeros(node.shape, node.dtype);
  const int rank = node.shape.rank;
  const std::int64_t m_size = a.shape.from_back(2), k_size = a.shape.last();
  const bool bt = node.attributes.transpose_b;
  Shape a_batch = a.shape, b_batch = b.shape;
  a_batch.rank -= 2;
  b_batch.rank -= 2;
  for_each_index(node.shape, [&](const std::array<std::int64_t, max_rank>& index, std::int64_t flat) {
    std::int64_t m = index[std::size_t(rank - 2)], n = index[std::size_t(rank - 1)];
    std::int64_t a_base = broadcast_offset(a_batch, index, rank - 2) * m_size * k_size;
    std::int64_t b_base = broadcast_offset(b_batch, index, rank - 2) * k_size * (bt ? b.shape.from_back(2) : b.shape.last());
    double sum = 0;
    for (std::int64_t k = 0; k < k_size; ++k) {
      double av = a.values[std::size_t(a_base + m * k_size + k)];
      double bv = bt ? b.values[std::size_t(b_base + n * k_size + k)]
                     : b.values[std::size_t(b_base + k * b.shape.last() + n)];
      sum += av * bv;
    }
    out.values[std::size_t(flat)] = sum;
  });
  return out;
}

// a (op) b with numpy broadcasting.
template <typename Combine>
Tensor broadcast(const Node& node, const Tensor& a, const Tensor& b, Combine combine) {
  Tensor out = Tensor::zeros(node.shape, node.dtype);
  for_each_index(node.shape, [&](const std::array<std::int64_t, max_rank>& index, std::int64_t flat) {
    out.values[std::size_t(flat)] = combine(a.values[std::size_t(broadcast_offset(a.shape, index, node.shape.rank))],
                                            b.values[std::size_t(broadcast_offset(b.shape, index, node.shape.rank))]);
  });
  return out;
}


// Gathers out[index] = x[source(index)] for the pure data-movement ops.
template <typename Source>
Tensor gather(const Node& node, const Tensor& x, Source source) {
  Tensor out = Tensor::zeros(node.shape, node.dtype);
  std::vector<std::int64_t> strides = row_major_strides(x.shape);
  for_each_index(node.shape, [&](const std::array<std::int64_t, max_rank>& index, std::int64_t flat) {
    std::array<std::int64_t, max_rank> from = source(index);
    std::int64_t offset = 0;
    for (int axis = 0; axis < x.shape.rank; ++axis) offset += from[std::size_t(axis)] * strides[std::size_t(axis)];
    out.values[std::size_t(flat)] = x.values[std::size_t(offset)];
  });
  return out;
}

using Index = std::array<std::int64_t, max_rank>;

Tensor data_movement(const Node& node, const Tensor& x) {
  switch (node.op) {
    case Op::split_heads: {  // out[b, h, s, d] = x[b, s, h * D + d]
      std::int64_t head_dim = node.shape[3];
      return gather(node, x, [&](const Index& i) { return Index{i[0], i[2], i[1] * head_dim + i[3], 0}; });
    }
    case Op::merge_heads: {  // out[b, s, h * D + d] = x[b, h, s, d]
      std::int64_t head_dim = x.shape[3];
      return gather(node, x, [&](const Index& i) { return Index{i[0], i[2] / head_dim, i[1], i[2] % head_dim}; });
    }
    case Op::repeat_heads: {  // out[b, h, s, d] = x[b, h / r, s, d]
      std::int64_t repeats = node.attributes.count;
      return gather(node, x, [&](const Index& i) { return Index{i[0], i[1] / repeats, i[2], i[3]}; });
    }
    default: {  // permute: out[i0, i1, ...] has x's index p[k] = i_k
      const auto& p = node.attributes.permutation;
      return gather(node, x, [&](const Index& i) {
        Index from{};
        for (int k = 0; k < node.shape.rank; ++k) from[std::size_t(p[std::size_t(k)])] = i[std::size_t(k)];
        return from;
      });
    }
  }
}

// The index values of a score element: out[.., i, ..] = i along the node's one
// non-unit axis (from the back: 2 for queries, 1 keys, 3 heads, 4 batch).
Tensor score_index(const Node& node, const Tensor& scores) {
  Tensor out = Tensor::zeros(node.shape, node.dtype);
  const int from_back = node.op == Op::query_index ? 2 : node.op == Op::key_index ? 1 : node.op == Op::head_index ? 3 : 4;
  const int axis = node.shape.rank - from_back;
  const std::int64_t shift = node.op == Op::query_index && node.attributes.align == CausalAlign::bottom_right
                                 ? scores.shape.last() - scores.shape.from_back(2)
                                 : 0;
  for_each_index(node.shape, [&](const Index& index, std::int64_t flat) {
    out.values[std::size_t(flat)] = double(index[std::size_t(axis)] + shift);
  });
  return out;
}

// " (file:line)" of the DSL call that made `node`, when known.
std::string written_at(const Node& node) {
  if (!node.where.known()) return "";
  return " (" + std::string(node.where.file) + ":" + std::to_string(node.where.line) + ")";
}

// numpy's take_along_axis(table, index, axis) with the table's other axes broadcast.
Tensor gather_along(const Node& node, const Tensor& table, const Tensor& index) {
  Tensor out = Tensor::zeros(node.shape, node.dtype);
  const int gathered = table.shape.rank + node.attributes.axis;
  const std::int64_t entries = table.shape[gathered];
  // The result's coordinate that lines up with the gathered axis (aligned from the back).
  const int result_axis = node.shape.rank + node.attributes.axis;
  for_each_index(node.shape, [&](const Index& at, std::int64_t flat) {
    const double i = index.values[std::size_t(broadcast_offset(index.shape, at, node.shape.rank))];
    if (!(i >= 0 && i < double(entries)))
      throw BindingError("gather '" + std::string(node.name.view()) + "'" + written_at(node) + ": index " +
                         std::to_string(std::int64_t(i)) + " is outside the table's axis " +
                         std::to_string(node.attributes.axis) + " of " + std::to_string(entries) +
                         " entries; clamp the index (minimum / maximum) or give a larger table");
    Index in = at;
    in[std::size_t(result_axis)] = std::int64_t(i);
    out.values[std::size_t(flat)] = table.values[std::size_t(broadcast_offset(table.shape, in, node.shape.rank))];
  });
  return out;
}

// x[..., first:first+count, ...] along the node's axis.
Tensor slice_along(const Node& node, const Tensor& x) {
  Tensor out = Tensor::zeros(node.shape, node.dtype);
  const int axis = x.shape.rank + node.attributes.axis;
  const std::int64_t first = slice_first(node.attributes, x.shape);
  for_each_index(node.shape, [&](const Index& at, std::int64_t flat) {
    Index in = at;
    in[std::size_t(axis)] += first;
    out.values[std::size_t(flat)] = x.values[std::size_t(broadcast_offset(x.shape, in, x.shape.rank))];
  });
  return out;
}

// cond ? a : b, all three broadcast.
Tensor select(const Node& node, const Tensor& cond, const Tensor& a, const Tensor& b) {
  Tensor out = Tensor::zeros(node.shape, node.dtype);
  const int rank = node.shape.rank;
  for_each_index(node.shape, [&](const Index& at, std::int64_t flat) {
    const bool take_a = cond.values[std::size_t(broadcast_offset(cond.shape, at, rank))] != 0;
    out.values[std::size_t(flat)] = take_a ? a.values[std::size_t(broadcast_offset(a.shape, at, rank))]
                                           : b.values[std::size_t(broadcast_offset(b.shape, at, rank))];
  });
  return out;
}

double floor_divide(const Node& node, double a, double b) {
  if (node.dtype == DType::i32 && b == 0)
    throw BindingError("floor_div '" + std::string(node.name.view()) + "'" + written_at(node) + ": integer division by zero");
  return std::floor(a / b);
}

// Where query i of `queries` sits among `keys` key positions.
std::int64_t aligned_query(std::int64_t i, std::int64_t queries, std::int64_t keys, CausalAlign align) {
  return align == CausalAlign::top_left ? i : i + keys - queries;
}

Tensor mask(const Node& node, const Tensor& scores, const Tensor* operand) {
  Tensor out = scores;
  out.dtype = node.dtype;
  const int rank = node.shape.rank;
  const std::int64_t queries = node.shape.from_back(2), keys = node.shape.last();
  for_each_index(node.shape, [&](const Index& index, std::int64_t flat) {
    std::int64_t i = rank >= 2 ? index[std::size_t(rank - 2)] : 0;
    std::int64_t j = index[std::size_t(rank - 1)];
    double& v = out.values[std::size_t(flat)];
    bool attend = true;
    switch (node.op) {
      case Op::causal_mask:
        attend = j <= aligned_query(i, queries, keys, node.attributes.align);
        break;
      case Op::sliding_window_mask: {
        std::int64_t distance = aligned_query(i, queries, keys, node.attributes.align) - j;
        attend = (distance < 0 ? -distance : distance) < node.attributes.count;
        break;
      }
      case Op::padding_mask:
        attend = double(j) < operand->values[std::size_t(index[0])];
        break;
      case Op::cache_causal_mask:
        attend = double(j) <= operand->values[std::size_t(index[0])] + double(i);
        break;
      case Op::boolean_mask:
        attend = operand->values[std::size_t(broadcast_offset(operand->shape, index, rank))] != 0.0;
        break;
      case Op::additive_mask:
        v += operand->values[std::size_t(broadcast_offset(operand->shape, index, rank))];
        break;
      case Op::alibi:  // slopes[h] * (j - i'), the heads axis third from the back
        v += operand->values[std::size_t(index[std::size_t(rank - 3)])] *
             double(j - aligned_query(i, queries, keys, node.attributes.align));
        break;
      default: break;
    }
    if (!attend) v = negative_infinity;
  });
  return out;
}

// The cache with update's rows written at each sequence's position.
Tensor cache_write(const Node& node, const Tensor& cache, const Tensor& update, const Tensor& positions) {
  Tensor out = cache;
  out.dtype = node.dtype;
  const std::int64_t batch = node.shape[0], heads = node.shape[1], capacity = node.shape[2], dim = node.shape[3];
  const std::int64_t rows = update.shape[2];
  for (std::int64_t b = 0; b < batch; ++b) {
    const double at = positions.values[std::size_t(b)];
    const bool rolling = node.attributes.rolling;
    if (!(at >= 0 && (rolling || at + double(rows) <= double(capacity))))
      throw BindingError("cache_write '" + std::string(node.name.view()) + "': sequence " + std::to_string(b) +
                         " is at position " + std::to_string(at) + "; " + std::to_string(rows) +
                         " more rows do not fit the capacity of " + std::to_string(capacity));
    for (std::int64_t h = 0; h < heads; ++h)
      for (std::int64_t s = 0; s < rows; ++s) {
        const std::int64_t row = rolling ? (std::int64_t(at) + s) % capacity : std::int64_t(at) + s;
        for (std::int64_t d = 0; d < dim; ++d)
          out.values[std::size_t(((b * heads + h) * capacity + row) * dim + d)] =
              update.values[std::size_t(((b * heads + h) * rows + s) * dim + d)];
      }
  }
  return out;
}

// The pool page and row that position `at` of sequence b reaches through the block
// table, or -1 past the table or at an entry outside the pool.
std::int64_t pool_row(const Tensor& table, std::int64_t pages, std::int64_t page_size, std::int64_t b,
                      std::int64_t at) {
  const std::int64_t per_sequence = table.shape[1];
  if (at < 0 || at >= per_sequence * page_size) return -1;
  const double page = table.values[std::size_t(b * per_sequence + at / page_size)];
  if (!(page >= 0 && page < double(pages))) return -1;
  return std::int64_t(page) * page_size + at % page_size;
}

// The page pool with update's rows written at each sequence's positions through its
// table row; a sequence at position -1 is idle and writes nothing.
Tensor paged_cache_write(const Node& node, const Tensor& pool, const Tensor& update, const Tensor& positions,
                         const Tensor& table) {
  Tensor out = pool;
  out.dtype = node.dtype;
  const std::int64_t pages = node.shape[0], heads = node.shape[1], page_size = node.shape[2], dim = node.shape[3];
  const std::int64_t batch = update.shape[0], rows = update.shape[2];
  for (std::int64_t b = 0; b < batch; ++b) {
    const double at = positions.values[std::size_t(b)];
    if (at == -1) continue;
    for (std::int64_t s = 0; s < rows; ++s) {
      // A rolling pool reuses the table row's positions modulo their count.
      const std::int64_t reach = table.shape[1] * page_size;
      const std::int64_t position = node.attributes.rolling && at >= 0 ? (std::int64_t(at) + s) % reach
                                                                        : std::int64_t(at) + s;
      const std::int64_t row = at >= 0 ? pool_row(table, pages, page_size, b, position) : -1;
      if (row < 0)
        throw BindingError("paged_cache_write '" + std::string(node.name.view()) + "': sequence " + std::to_string(b) +
                           " at position " + std::to_string(at) + " writes position " +
                           std::to_string(std::int64_t(at) + s) +
                           ", which its block table row does not place in the pool of " + std::to_string(pages) +
                           " pages");
      const std::int64_t page = row / page_size, offset = row % page_size;
      for (std::int64_t h = 0; h < heads; ++h)
        for (std::int64_t d = 0; d < dim; ++d)
          out.values[std::size_t(((page * heads + h) * page_size + offset) * dim + d)] =
              update.values[std::size_t(((b * heads + h) * rows + s) * dim + d)];
    }
  }
  return out;
}

// Each sequence's positions gathered from the pool through its table row; positions
// whose entry lies outside the pool read as zeros.
Tensor paged_view(const Node& node, const Tensor& pool, const Tensor& table) {
  Tensor out = Tensor::zeros(node.shape, node.dtype);
  const std::int64_t pages = pool.shape[0], heads = pool.shape[1], page_size = pool.shape[2], dim = pool.shape[3];
  const std::int64_t batch = node.shape[0], length = node.shape[2];
  for (std::int64_t b = 0; b < batch; ++b)
    for (std::int64_t r = 0; r < length; ++r) {
      const std::int64_t row = pool_row(table, pages, page_size, b, r);
      if (row < 0) continue;
      const std::int64_t page = row / page_size, offset = row % page_size;
      for (std::int64_t h = 0; h < heads; ++h)
        for (std::int64_t d = 0; d < dim; ++d)
          out.values[std::size_t(((b * heads + h) * length + r) * dim + d)] =
              pool.values[std::size_t(((page * heads + h) * page_size + offset) * dim + d)];
    }
  return out;
}

// Row-wise ops over the last axis.
Tensor softmax(const Node& node, const Tensor& x) {
  Tensor out = Tensor::zeros(node.shape, node.dtype);
  const std::int64_t n = node.shape.last(), rows = node.shape.elements() / n;
  for (std::int64_t r = 0; r < rows; ++r) {
    const double* in = &x.values[std::size_t(r * n)];
    double* y = &out.values[std::size_t(r * n)];
    double max = negative_infinity;
    for (std::int64_t j = 0; j < n; ++j) max = std::fmax(max, in[j]);
    if (max == negative_infinity) continue;  // every key masked: the row stays zero
    double sum = 0;
    for (std::int64_t j = 0; j < n; ++j) sum += y[j] = std::exp(in[j] - max);
    for (std::int64_t j = 0; j < n; ++j) y[j] /= sum;
  }
  return out;
}

// Softmax with a per-head sink logit in every row's denominator.
Tensor softmax_with_sinks(const Node& node, const Tensor& x, const Tensor& sinks) {
  Tensor out = Tensor::zeros(node.shape, node.dtype);
  const std::int64_t n = node.shape.last(), rows = node.shape.elements() / n;
  const std::int64_t queries = node.shape.from_back(2), heads = node.shape.from_back(3);
  for (std::int64_t r = 0; r < rows; ++r) {
    const double* in = &x.values[std::size_t(r * n)];
    double* y = &out.values[std::size_t(r * n)];
    const double sink = sinks.values[std::size_t((r / queries) % heads)];
    double max = sink;
    for (std::int64_t j = 0; j < n; ++j) max = std::fmax(max, in[j]);
    double sum = std::exp(sink - max);
    for (std::int64_t j = 0; j < n; ++j) sum += y[j] = std::exp(in[j] - max);
    for (std::int64_t j = 0; j < n; ++j) y[j] /= sum;
  }
  return out;
}

// Rotary position embedding: pairs of the first `rotary_dims` elements of each row
// turned by (offset + s) * theta^(-2k / dims) at sequence index s.
// With `positions` (rotary_embedding_at), row s of batch entry b sits at positions[b] +
// offset + s.
Tensor rotary_embedding(const Node& node, const Tensor& x, const Tensor* positions = nullptr) {
  Tensor out = x;
  out.dtype = node.dtype;
  const Attributes& a = node.attributes;
  const std::int64_t d = node.shape.last(), sequence = node.shape.from_back(2), rows = node.shape.elements() / d;
  const std::int64_t dims = a.rotary_dims, half = dims / 2, rows_per_batch = rows / node.shape[0];
  for (std::int64_t r = 0; r < rows; ++r) {
    const double start = positions ? positions->values[std::size_t(r / rows_per_batch)] : 0.0;
    const double position = start + double(a.position_offset + r % sequence);
    const double* in = &x.values[std::size_t(r * d)];
    double* y = &out.values[std::size_t(r * d)];
    for (std::int64_t k = 0; k < half; ++k) {
      const double angle = position * std::pow(a.theta, -2.0 * double(k) / double(dims));
      const double c = std::cos(angle), s = std::sin(angle);
      const std::int64_t first = a.rotary_layout == RotaryLayout::half_split ? k : 2 * k;
      const std::int64_t second = a.rotary_layout == RotaryLayout::half_split ? k + half : 2 * k + 1;
      y[first] = in[first] * c - in[second] * s;
      y[second] = in[second] * c + in[first] * s;
    }
  }
  return out;
}

Tensor layer_norm(const Node& node, const Tensor& x, const Tensor& gamma, const Tensor* beta) {
  Tensor out = Tensor::zeros(node.shape, node.dtype);
  const std::int64_t n = node.shape.last(), rows = node.shape.elements() / n;
  for (std::int64_t r = 0; r < rows; ++r) {
    const double* in = &x.values[std::size_t(r * n)];
    double mean = 0, variance = 0;
    for (std::int64_t j = 0; j < n; ++j) mean += in[j];
    mean /= double(n);
    for (std::int64_t j = 0; j < n; ++j) variance += (in[j] - mean) * (in[j] - mean);
    variance /= double(n);  // population variance
    double inverse = 1.0 / std::sqrt(variance + node.attributes.epsilon);
    for (std::int64_t j = 0; j < n; ++j)
      out.values[std::size_t(r * n + j)] = (in[j] - mean) * inverse * gamma.values[std::size_t(j)] +
                                           (beta ? beta->values[std::size_t(j)] : 0.0);
  }
  return out;
}

// x / sqrt(mean(x^2) + epsilon) * weight over the last axis.
Tensor rms_norm(const Node& node, const Tensor& x, const Tensor& weight) {
  Tensor out = Tensor::zeros(node.shape, node.dtype);
  const std::int64_t n = node.shape.last(), rows = node.shape.elements() / n;
  for (std::int64_t r = 0; r < rows; ++r) {
    const double* in = &x.values[std::size_t(r * n)];
    double squares = 0;
    for (std::int64_t j = 0; j < n; ++j) squares += in[j] * in[j];
    const double inverse = 1.0 / std::sqrt(squares / double(n) + node.attributes.epsilon);
    for (std::int64_t j = 0; j < n; ++j)
      out.values[std::size_t(r * n + j)] = in[j] * inverse * weight.values[std::size_t(j)];
  }
  return out;
}

// An op of elementwise_forms.hpp: its reference at every element, operands broadcast.
Tensor table_op(const Node& node, const std::array<const Tensor*, 3>& operands) {
  Tensor out = Tensor::zeros(node.shape, node.dtype);
  const int rank = node.shape.rank, arity = op_arity(node.op);
  for_each_index(node.shape, [&](const std::array<std::int64_t, max_rank>& index, std::int64_t flat) {
    std::array<double, 3> v{};
    for (int i = 0; i < arity; ++i) {
      const Tensor& t = *operands[std::size_t(i)];
      v[std::size_t(i)] = t.values[std::size_t(broadcast_offset(t.shape, index, rank))];
    }
    double result = 0;
    elementwise_reference(node.op, v[0], v[1], v[2], result);
    out.values[std::size_t(flat)] = result;
  });
  return out;
}

}  // namespace

ReferenceResult run_reference(const Graph& graph, const TensorMap& bindings) {
  // Every value of the graph is kept, in double: checked before the first is made.
  std::uint64_t total = 0;
  for (const Node& node : graph.nodes()) {
    total += std::uint64_t(node.shape.elements()) * sizeof(double);
    check_host_bytes("the CPU reference of '" + std::string(graph.name()) + "' (every value in double, up to " +
                         std::string(op_name(node.op)) + " '" + std::string(node.name.view()) + "' " +
                         to_string(node.shape) + ")",
                     total);
  }
  ReferenceResult result;
  result.values.resize(graph.size());
  // A repeated body runs its nodes again for each iteration; its weights and states are
  // the iteration's own (`{i}` in their names).
  std::int64_t iteration = 0;
  for (std::size_t n = 0; n < graph.size(); ++n) {
    const Node& node = graph.node(ValueId(n));
    auto operand = [&](int i) -> const Tensor& { return result.values[std::size_t(node.inputs[std::size_t(i)])]; };
    const std::string name = node.body != no_value ? expand_iteration(node.name.view(), iteration)
                                                   : std::string(node.name.view());
    Tensor value;
    if (elementwise_form(node.op).known) {
      std::array<const Tensor*, 3> operands{};
      for (int i = 0; i < op_arity(node.op); ++i) operands[std::size_t(i)] = &operand(i);
      result.values[n] = table_op(node, operands);
      result.values[n].shape = plain(result.values[n].shape);
      continue;
    }
    switch (node.op) {
      case Op::input:
      case Op::weight: value = find_binding(bindings, op_name(node.op), name, node.shape); break;
      case Op::state:  // its contents before the run: bound by name, else zero as on a fresh device
        value = bindings.count(name) ? find_binding(bindings, op_name(node.op), name, node.shape)
                                     : Tensor::zeros(node.shape, node.dtype);
        break;
      case Op::repeat_begin: value = operand(0); break;  // later iterations skip it (repeat_end)
      case Op::repeat_end: {
        const Node& begin = graph.node(node.inputs[1]);
        if (++iteration < begin.attributes.count) {
          result.values[std::size_t(node.inputs[1])] = operand(0);
          n = std::size_t(node.inputs[1]);  // the body again, from the node after its repeat_begin
          continue;
        }
        iteration = 0;
        value = operand(0);
        break;
      }
      case Op::cache_write: value = cache_write(node, operand(0), operand(1), operand(2)); break;
      case Op::paged_cache_write:
        value = paged_cache_write(node, operand(0), operand(1), operand(2), operand(3));
        break;
      case Op::paged_view: value = paged_view(node, operand(0), operand(1)); break;
      case Op::output:
        value = operand(0);
        value.shape = plain(node.shape);
        result.outputs[std::string(node.name.view())] = value;
        break;
      case Op::matmul: value = matmul(node, operand(0), operand(1)); break;
      case Op::scale:
        value = elementwise(node, operand(0), [](double v, const Attributes& a) { return v * a.factor; });
        break;
      case Op::split_heads:
      case Op::merge_heads:
      case Op::repeat_heads:
      case Op::permute: value = data_movement(node, operand(0)); break;
      case Op::causal_mask:
      case Op::sliding_window_mask: value = mask(node, operand(0), nullptr); break;
      case Op::padding_mask:
      case Op::cache_causal_mask:
      case Op::boolean_mask:
      case Op::additive_mask:
      case Op::alibi: value = mask(node, operand(0), &operand(1)); break;
      case Op::softmax: value = softmax(node, operand(0)); break;
      case Op::softmax_with_sinks: value = softmax_with_sinks(node, operand(0), operand(1)); break;
      case Op::layer_norm: value = layer_norm(node, operand(0), operand(1), &operand(2)); break;
      case Op::layer_norm_no_bias: value = layer_norm(node, operand(0), operand(1), nullptr); break;
      case Op::rotary_embedding: value = rotary_embedding(node, operand(0)); break;
      case Op::rotary_embedding_at: value = rotary_embedding(node, operand(0), &operand(1)); break;
      case Op::rms_norm: value = rms_norm(node, operand(0), operand(1)); break;
      case Op::constant:
        value = Tensor::zeros(node.shape, node.dtype);
        value.values[0] = node.attributes.factor;
        break;
      case Op::query_index:
      case Op::key_index:
      case Op::head_index:
      case Op::batch_index: value = score_index(node, operand(0)); break;
      case Op::floor_div:
        value = broadcast(node, operand(0), operand(1), [&node](double a, double b) { return floor_divide(node, a, b); });
        break;
      case Op::cast:
        value = elementwise(node, operand(0), [](double v, const Attributes& a) { return a.to == DType::i32 ? std::trunc(v) : v; });
        break;
      default: break;  // the ops of elementwise_forms.hpp, above
      case Op::where: value = select(node, operand(0), operand(1), operand(2)); break;
      case Op::gather: value = gather_along(node, operand(0), operand(1)); break;
      case Op::slice: value = slice_along(node, operand(0)); break;
      case Op::unsqueeze:
        value = operand(0);
        value.shape = node.shape;
        value.dtype = node.dtype;
        break;
    }
    value.shape = plain(value.shape);  // a tensor holds sizes; the graph keeps the names
    result.values[n] = std::move(value);
  }
  return result;
}

double normalised_error(const Tensor& device, const Tensor& reference) {
  if (!same_sizes(device.shape, reference.shape) || device.values.size() != reference.values.size()) return NAN;
  double difference = 0, magnitude = 0;
  for (std::size_t i = 0; i < device.values.size(); ++i) {
    const double d = device.values[i], r = reference.values[i];
    if (!std::isfinite(r)) {
      if (d != r && !(std::isnan(d) && std::isnan(r))) return NAN;
      continue;
    }
    if (!std::isfinite(d)) return NAN;
    difference += (d - r) * (d - r);
    magnitude += r * r;
  }
  return std::sqrt(difference) / std::max(std::sqrt(magnitude), 1e-30);
}

namespace {

// A block table for the paged writes reading input `table`: each sequence's pages
// drawn from a shuffled pool, distinct while the pool lasts (then reused, which a run
// refuses where two sequences would write one page).
Tensor random_block_table(const Graph& graph, ValueId table, std::uint64_t seed) {
  std::int64_t pages = 1;
  for (const Node& user : graph.nodes())
    if (user.op == Op::paged_cache_write && user.inputs[3] == table) pages = user.shape[0];
  std::vector<std::int64_t> order(std::size_t(pages), 0);
  for (std::int64_t i = 0; i < pages; ++i) order[std::size_t(i)] = i;
  std::uint64_t state = seed | 1u;
  for (std::size_t i = order.size(); i > 1; --i) {  // Fisher-Yates with a xorshift generator
    state ^= state << 13, state ^= state >> 7, state ^= state << 17;
    std::swap(order[i - 1], order[std::size_t(state % i)]);
  }
  Tensor t = Tensor::zeros(graph.node(table).shape, DType::i32);
  for (std::size_t i = 0; i < t.values.size(); ++i) t.values[i] = double(order[i % order.size()]);
  return t;
}

}  // namespace

TensorMap random_bindings(const Graph& graph, std::uint64_t seed) {
  // A weight of a repeated body with `{i}` in its name is one tensor per iteration.
  auto copies = [&](const Node& node) { return tensors_of(graph, node); };
  // Values are held as double: 8 bytes each, checked before any is made.
  std::uint64_t total = 0;
  for (const Node& node : graph.nodes()) {
    if (node.op != Op::input && node.op != Op::weight) continue;
    total += std::uint64_t(node.shape.elements() * copies(node)) * sizeof(double);
    check_host_bytes("the random inputs and weights, up to " + std::string(op_name(node.op)) + " '" +
                         std::string(node.name.view()) + "' " + to_string(node.shape) + ",",
                     total);
  }
  TensorMap bindings;
  std::uint64_t index = 0;
  for (const Node& node : graph.nodes()) {
    ++index;
    if (node.op != Op::input && node.op != Op::weight) continue;
    std::uint64_t tensor_seed = seed * 1000003ull + index;
    std::string name(node.name.view());
    if (node.dtype == DType::i32) {
      // Lengths for a padding mask: find the key length of the scores it masks.
      // Positions of a cache write: 0 to its capacity less the rows written.
      std::int64_t keys = 1, low = 1;
      bool is_block_table = false;
      for (const Node& user : graph.nodes()) {
        if (user.op == Op::padding_mask && user.inputs[1] == ValueId(index - 1)) keys = user.shape.last();
        if (user.op == Op::cache_write && user.inputs[2] == ValueId(index - 1)) {
          keys = user.shape[2] - graph.node(user.inputs[1]).shape[2];
          low = 0;
        }
        if (user.op == Op::paged_cache_write && user.inputs[2] == ValueId(index - 1)) {
          keys = graph.node(user.inputs[3]).shape[1] * user.shape[2] - graph.node(user.inputs[1]).shape[2];
          low = 0;
        }
        if (user.op == Op::paged_cache_write && user.inputs[3] == ValueId(index - 1)) is_block_table = true;
        // A gather's index (directly or through unsqueeze): within its table.
        if (user.op == Op::gather) {
          ValueId from = user.inputs[1];
          while (graph.node(from).op == Op::unsqueeze) from = graph.node(from).inputs[0];
          if (from == ValueId(index - 1)) {
            const Shape& table = graph.node(user.inputs[0]).shape;
            keys = table[table.rank + user.attributes.axis] - 1;
            low = 0;
          }
        }
      }
      Tensor t = Tensor::random(node.shape, tensor_seed, double(low), double(keys) + 1.0, DType::i32);
      for (double& v : t.values) v = std::floor(v);
      if (is_block_table) t = random_block_table(graph, ValueId(index - 1), tensor_seed);
      bindings[name] = std::move(t);
      continue;
    }
    bool is_gamma = false;
    for (const Node& user : graph.nodes())
      if ((user.op == Op::layer_norm || user.op == Op::rms_norm) && user.inputs[1] == ValueId(index - 1)) is_gamma = true;
    for (std::int64_t k = 0; k < copies(node); ++k) {
      const std::string named = expand_iteration(name, k);
      const std::uint64_t seed_k = tensor_seed + std::uint64_t(k) * 7919u * 1000003ull;
      if (is_gamma)
        bindings[named] = Tensor::random(node.shape, seed_k, 0.5, 1.5, node.dtype);
      else if (node.op == Op::weight && node.shape.rank == 2)  // scaled like PyTorch's default init
        bindings[named] = Tensor::random(node.shape, seed_k, -1.0 / std::sqrt(double(node.shape.last())),
                                         1.0 / std::sqrt(double(node.shape.last())), node.dtype);
      else
        bindings[named] = Tensor::random(node.shape, seed_k, -1.0, 1.0, node.dtype);
    }
  }
  return bindings;
}

}  // namespace vkattn
