// Lowers a graph to one dispatch per primitive op. The push-constant layouts written
// here are the ones each shader in shaders/ declares; keep the two in step.
#include <bit>
#include <cmath>
#include <stdexcept>

#include "vkattn/schedule.hpp"
#include "vkattn/tensor.hpp"

namespace vkattn {

std::string_view kernel_name(Kernel kernel) {
  switch (kernel) {
    case Kernel::matmul: return "matmul";
    case Kernel::add: return "add";
    case Kernel::elementwise: return "elementwise";
    case Kernel::gather: return "gather";
    case Kernel::mask: return "mask";
    case Kernel::softmax: return "softmax";
    case Kernel::layer_norm: return "layer_norm";
  }
  return "?";
}

int Schedule::find_slot(std::string_view name, SlotRole role) const {
  for (std::size_t i = 0; i < slots.size(); ++i)
    if (slots[i].role == role && slots[i].name == name) return int(i);
  return -1;
}

namespace {

// Tile and local sizes the shaders are compiled with.
constexpr std::uint32_t matmul_tile = 32;  // shaders/matmul.comp: 8x8 invocations, 4x4 outputs each
constexpr std::uint32_t linear_local_size = 64;
constexpr std::uint32_t max_groups_x = 65535;
constexpr std::uint32_t row_local_size = 64;

std::uint32_t u32(std::int64_t v) {
  if (v < 0 || v > std::int64_t(UINT32_MAX)) throw std::length_error("vkattn: a size does not fit in 32 bits");
  return std::uint32_t(v);
}
std::uint32_t float_bits(double v) { return std::bit_cast<std::uint32_t>(float(v)); }
std::uint32_t ceil_div(std::int64_t a, std::int64_t b) { return u32((a + b - 1) / b); }

// A 1-D launch over `count` items, spread over x and y to stay under the x limit.
std::array<std::uint32_t, 3> linear_groups(std::int64_t count, std::uint32_t local_size) {
  std::uint32_t groups = ceil_div(count, local_size);
  std::uint32_t x = groups < max_groups_x ? groups : max_groups_x;
  if (x == 0) x = 1;
  return {x, ceil_div(groups, x), 1};
}

// Row-major element strides of `shape`, laid out over `rank` dimensions aligned from the
// back, with 0 for broadcast dimensions (size 1 in the operand, or missing).
std::array<std::uint32_t, max_rank> broadcast_strides(const Shape& operand, const Shape& result) {
  std::array<std::uint32_t, max_rank> strides{};
  std::int64_t stride = 1;
  for (int axis = operand.rank - 1; axis >= 0; --axis) {
    int result_axis = axis + (max_rank - operand.rank);
    strides[std::size_t(result_axis)] = operand[axis] == 1 && result[result.rank - operand.rank + axis] != 1 ? 0 : u32(stride);
    stride *= operand[axis];
  }
  return strides;
}

// `shape` padded with leading 1s to max_rank dimensions.
std::array<std::uint32_t, max_rank> padded_dims(const Shape& shape) {
  std::array<std::uint32_t, max_rank> dims{1, 1, 1, 1};
  for (int axis = 0; axis < shape.rank; ++axis) dims[std::size_t(axis + max_rank - shape.rank)] = u32(shape[axis]);
  return dims;
}

// A gather: out (contiguous, viewed with `dims`) reads in[sum(index_k * strides_k)].
struct GatherView {
  std::vector<std::int64_t> dims, strides;
};

GatherView gather_view(const Node& node, const Shape& in) {
  std::vector<std::int64_t> s = row_major_strides(in);
  const Shape& out = node.shape;
  switch (node.op) {
    case Op::split_heads: {  // out[b, h, s, d] = in[b, s, h*D + d]
      std::int64_t head_dim = out[3];
      return {{out[0], out[1], out[2], out[3]}, {s[0], head_dim, s[1], 1}};
    }
    case Op::merge_heads:  // out[b, s, h, d] (contiguous as [b, s, h*D + d]) = in[b, h, s, d]
      return {{in[0], in[2], in[1], in[3]}, {s[0], s[2], s[1], s[3]}};
    case Op::repeat_heads: {  // out[b, hk, r, s, d] = in[b, hk, s, d]
      return {{in[0], in[1], node.attributes.count, in[2], in[3]}, {s[0], s[1], 0, s[2], s[3]}};
    }
    case Op::permute: {
      GatherView view;
      for (int k = 0; k < out.rank; ++k) {
        view.dims.push_back(out[k]);
        view.strides.push_back(s[std::size_t(node.attributes.permutation[std::size_t(k)])]);
      }
      return view;
    }
    default: {  // a plain copy
      return {{in.elements()}, {1}};
    }
  }
}

class Lowering {
 public:
  explicit Lowering(const Graph& graph) : graph_(graph) { schedule_.graph_name = std::string(graph.name()); }

  Schedule run() {
    slot_of_.assign(graph_.size(), -1);
    for (const Node& node : graph_.nodes()) lower(node, ValueId(&node - graph_.nodes().data()));
    return std::move(schedule_);
  }

 private:
  int new_slot(const Node& node, ValueId id, SlotRole role) {
    TensorSlot slot;
    slot.name = std::string(node.name.view());
    slot.value = id;
    slot.shape = node.shape;
    slot.dtype = node.dtype;
    slot.role = role;
    slot.storage = role == SlotRole::weight ? Storage::weights : Storage::arena;
    slot.bytes = node.shape.elements() * device_element_bytes;
    std::int64_t& end = slot.storage == Storage::weights ? schedule_.weight_bytes : schedule_.arena_bytes;
    slot.offset = end;
    end += (slot.bytes + slot_alignment - 1) / slot_alignment * slot_alignment;
    schedule_.slots.push_back(slot);
    return int(schedule_.slots.size() - 1);
  }

  Dispatch& emit(Kernel kernel, const Node& node, ValueId id, std::initializer_list<int> operand_slots) {
    Dispatch d;
    d.kernel = kernel;
    d.label = std::string(op_name(node.op)) + " " + std::string(node.name.view());
    d.slots[0] = slot_of_[std::size_t(id)];
    int i = 1;
    double bytes = double(node.shape.elements() * device_element_bytes);
    for (int s : operand_slots) {
      d.slots[std::size_t(i++)] = s;
      bytes += double(schedule_.slots[std::size_t(s)].bytes);
    }
    d.bytes = bytes;
    d.covers.push_back(id);
    schedule_.dispatches.push_back(std::move(d));
    return schedule_.dispatches.back();
  }

  void lower(const Node& node, ValueId id) {
    auto operand = [&](int i) { return slot_of_[std::size_t(node.inputs[std::size_t(i)])]; };
    auto operand_node = [&](int i) -> const Node& { return graph_.node(node.inputs[std::size_t(i)]); };
    const std::int64_t total = node.shape.elements();
    switch (node.op) {
      case Op::input: slot_of_[std::size_t(id)] = new_slot(node, id, SlotRole::input); return;
      case Op::weight: slot_of_[std::size_t(id)] = new_slot(node, id, SlotRole::weight); return;
      case Op::output: {
        const Node& source = operand_node(0);
        if (source.op != Op::input && source.op != Op::weight && !is_output_slot(operand(0))) {
          // The output is the producing op's slot: no copy.
          TensorSlot& slot = schedule_.slots[std::size_t(operand(0))];
          slot.role = SlotRole::output;
          slot.name = std::string(node.name.view());
          slot_of_[std::size_t(id)] = operand(0);
          return;
        }
        slot_of_[std::size_t(id)] = new_slot(node, id, SlotRole::output);
        Dispatch& d = emit(Kernel::gather, node, id, {operand(0)});
        gather_constants(d, gather_view(node, node.shape), total);
        return;
      }
      default: break;
    }
    slot_of_[std::size_t(id)] = new_slot(node, id, SlotRole::intermediate);
    switch (node.op) {
      case Op::matmul: {
        const Shape& a = operand_node(0).shape;
        const Shape& b = operand_node(1).shape;
        const Shape& c = node.shape;
        const bool bt = node.attributes.transpose_b;
        std::int64_t m = c.from_back(2), n = c.last(), k = a.last();
        // Batch: up to two leading dimensions of the result, with broadcast strides.
        Shape batch = c, a_batch = a, b_batch = b;
        batch.rank -= 2;
        a_batch.rank -= 2;
        b_batch.rank -= 2;
        std::int64_t outer = batch.rank >= 2 ? batch[0] : 1, inner = batch.rank >= 1 ? batch[batch.rank - 1] : 1;
        auto batch_strides = [&](const Shape& operand, std::int64_t matrix) {
          std::array<std::uint32_t, 2> st{0, 0};
          std::int64_t stride = matrix;
          for (int axis = operand.rank - 1; axis >= 0; --axis) {
            int result_axis = axis + batch.rank - operand.rank;  // 0 or 1 within batch
            int slot = batch.rank == 2 ? result_axis : 1;
            st[std::size_t(slot)] = operand[axis] == 1 ? 0 : u32(stride);
            stride *= operand[axis];
          }
          return st;
        };
        auto sa = batch_strides(a_batch, m * k);
        auto sb = batch_strides(b_batch, k * n);
        Dispatch& d = emit(Kernel::matmul, node, id, {operand(0), operand(1)});
        d.push_constants = {u32(m), u32(n), u32(k), u32(inner), sa[0], sa[1], sb[0], sb[1]};
        d.specialization = {bt ? 1u : 0u};
        d.workgroups = {ceil_div(n, matmul_tile), ceil_div(m, matmul_tile), u32(outer * inner)};
        d.flops = 2.0 * double(m) * double(n) * double(k) * double(outer * inner);
        return;
      }
      case Op::add: {
        Dispatch& d = emit(Kernel::add, node, id, {operand(0), operand(1)});
        auto dims = padded_dims(node.shape);
        auto sa = broadcast_strides(operand_node(0).shape, node.shape);
        auto sb = broadcast_strides(operand_node(1).shape, node.shape);
        d.push_constants = {u32(total), dims[1], dims[2], dims[3], sa[0], sa[1], sa[2], sa[3], sb[0], sb[1], sb[2], sb[3]};
        d.workgroups = linear_groups(total, linear_local_size);
        d.flops = double(total);
        return;
      }
      case Op::scale:
      case Op::relu:
      case Op::gelu: {
        Dispatch& d = emit(Kernel::elementwise, node, id, {operand(0)});
        std::uint32_t op = node.op == Op::scale ? 0 : node.op == Op::relu ? 1 : 2;
        d.push_constants = {u32(total), float_bits(node.attributes.factor)};
        d.specialization = {op};
        d.workgroups = linear_groups(total, linear_local_size);
        d.flops = double(total) * (op == 2 ? 20 : 1);
        return;
      }
      case Op::split_heads:
      case Op::merge_heads:
      case Op::repeat_heads:
      case Op::permute: {
        Dispatch& d = emit(Kernel::gather, node, id, {operand(0)});
        gather_constants(d, gather_view(node, operand_node(0).shape), total);
        return;
      }
      case Op::causal_mask:
      case Op::sliding_window_mask:
      case Op::padding_mask:
      case Op::boolean_mask:
      case Op::additive_mask: {
        bool has_operand = op_arity(node.op) == 2;
        Dispatch& d = has_operand ? emit(Kernel::mask, node, id, {operand(0), operand(1)})
                                  : emit(Kernel::mask, node, id, {operand(0)});
        std::uint32_t kind = node.op == Op::causal_mask ? 0 : node.op == Op::sliding_window_mask ? 1
                           : node.op == Op::padding_mask ? 2 : node.op == Op::boolean_mask ? 3 : 4;
        auto dims = padded_dims(node.shape);
        std::array<std::uint32_t, max_rank> ms{};
        if (kind >= 3) ms = broadcast_strides(operand_node(1).shape, node.shape);
        d.push_constants = {u32(total), u32(node.shape.from_back(2)), u32(node.shape.last()), u32(total / node.shape[0]),
                            u32(node.attributes.count), node.attributes.align == CausalAlign::bottom_right ? 1u : 0u,
                            dims[1], dims[2], ms[0], ms[1], ms[2], ms[3]};
        d.specialization = {kind};
        d.workgroups = linear_groups(total, linear_local_size);
        d.flops = double(total);
        return;
      }
      case Op::softmax: {
        Dispatch& d = emit(Kernel::softmax, node, id, {operand(0)});
        std::int64_t n = node.shape.last(), rows = total / n;
        d.push_constants = {u32(rows), u32(n)};
        d.workgroups = linear_groups(rows, row_local_size);
        d.flops = 5.0 * double(total);
        return;
      }
      case Op::layer_norm: {
        Dispatch& d = emit(Kernel::layer_norm, node, id, {operand(0), operand(1), operand(2)});
        std::int64_t n = node.shape.last(), rows = total / n;
        d.push_constants = {u32(rows), u32(n), float_bits(node.attributes.epsilon)};
        d.workgroups = linear_groups(rows, row_local_size);
        d.flops = 8.0 * double(total);
        return;
      }
      default: throw std::logic_error("vkattn: lower_unfused has no rule for " + std::string(op_name(node.op)));
    }
  }

  bool is_output_slot(int slot) const { return schedule_.slots[std::size_t(slot)].role == SlotRole::output; }

  // Push constants of shaders/gather.comp: total, rank, dims[6], strides[6].
  static void gather_constants(Dispatch& d, const GatherView& view, std::int64_t total) {
    constexpr std::size_t max_gather_rank = 6;
    if (view.dims.size() > max_gather_rank) throw std::logic_error("vkattn: gather view over 6 dimensions");
    d.push_constants = {u32(total), u32(std::int64_t(view.dims.size()))};
    for (std::size_t i = 0; i < max_gather_rank; ++i) d.push_constants.push_back(i < view.dims.size() ? u32(view.dims[i]) : 1);
    for (std::size_t i = 0; i < max_gather_rank; ++i) d.push_constants.push_back(i < view.strides.size() ? u32(view.strides[i]) : 0);
    d.workgroups = linear_groups(total, linear_local_size);
  }

  const Graph& graph_;
  Schedule schedule_;
  std::vector<int> slot_of_;
};

}  // namespace

Schedule lower_unfused(const Graph& graph) {
  if (graph.failed()) throw GraphError("vkattn: cannot lower a graph that failed its checks: " + std::string(graph.error()));
  return Lowering(graph).run();
}

}  // namespace vkattn
