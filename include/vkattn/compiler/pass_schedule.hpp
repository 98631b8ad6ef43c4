#pragma once
// Pass 8, schedule: one dispatch per remaining step, in program order, with its
// bindings (slots), push and specialization constants (the layouts each shader in
// shaders/ declares: keep the two in step), workgroup counts, FLOPs, bytes and the
// graph ops it covers; then a barrier after a dispatch only where a later one reads
// or overwrites what it wrote before another barrier intervenes.
#include <bit>

#include "vkattn/compiler/pass_plan_memory.hpp"
#include "vkattn/compiler/program.hpp"

namespace vkattn::passes {

// Tile and local sizes the shaders are compiled with.
namespace tiles {
inline constexpr std::uint32_t gemm_invocations = 8;   // shaders/gemm.comp: local_size_x
inline constexpr std::uint32_t gemm_columns = 8;       // columns per invocation
inline constexpr std::uint32_t attention_invocations = 8;
inline constexpr std::uint32_t linear_local_size = 64;
inline constexpr std::uint32_t row_local_size = 64;
inline constexpr std::uint32_t max_groups_x = 65535;
}  // namespace tiles

namespace detail {

constexpr std::uint32_t u32(std::int64_t v) {
  if (v < 0 || v > std::int64_t(0xffffffff)) compile_failure("a size or stride does not fit in 32 bits");
  return std::uint32_t(v);
}
constexpr std::uint32_t float_bits(double v) { return std::bit_cast<std::uint32_t>(float(v)); }
constexpr std::uint32_t ceil_div(std::int64_t a, std::int64_t b) { return u32((a + b - 1) / b); }

// A 1-D launch over `count` items, spread over x and y to stay under the x limit.
constexpr std::array<std::uint32_t, 3> linear_groups(std::int64_t count, std::uint32_t local_size) {
  std::uint32_t groups = ceil_div(count, local_size);
  std::uint32_t x = groups < tiles::max_groups_x ? groups : tiles::max_groups_x;
  if (x == 0) x = 1;
  return {x, ceil_div(groups, x), 1};
}

// Element strides of `operand` broadcast to `result` (dimensions aligned from the back,
// 0 where the operand has size 1 or no dimension), padded in front to max_rank.
constexpr std::array<std::uint32_t, max_rank> broadcast_strides(const Shape& operand, const Shape& result) {
  std::array<std::uint32_t, max_rank> strides{};
  std::int64_t stride = 1;
  for (int axis = operand.rank - 1; axis >= 0; --axis) {
    int result_axis = axis + (max_rank - operand.rank);
    strides[std::size_t(result_axis)] =
        operand[axis] == 1 && result[result.rank - operand.rank + axis] != 1 ? 0 : u32(stride);
    stride *= operand[axis];
  }
  return strides;
}

constexpr std::array<std::uint32_t, max_rank> padded_dims(const Shape& shape) {
  std::array<std::uint32_t, max_rank> dims{1, 1, 1, 1};
  for (int axis = 0; axis < shape.rank; ++axis) dims[std::size_t(axis + max_rank - shape.rank)] = u32(shape[axis]);
  return dims;
}

constexpr bool multiple_of_4(std::int64_t v) { return v % 4 == 0; }

class Scheduler {
 public:
  constexpr explicit Scheduler(Program& p) : p_(p), s_(p.schedule) {}

  constexpr void run() {
    for (const Step& step : p_.steps)
      if (detail::dispatches(step)) emit(step);
    place_barriers();
  }

 private:
  constexpr const ProgramValue& value(int v) const { return p_.value(v); }
  constexpr const Layout& layout(int v) const { return value(v).layout; }
  constexpr int slot(int v) const { return value(layout(v).root).slot; }
  constexpr std::int64_t slot_bytes(int v) const { return s_.slots[std::size_t(slot(v))].bytes; }

  constexpr void require_contiguous(const Step& step, int v) const {
    if (!p_.contiguous(v)) {
      Message m;
      m << "internal: " << step_kind_name(step.kind) << " step for '" << value(step.result).name.view()
        << "' reads '" << value(v).name.view() << "' as a strided view it cannot read";
      compile_failure(m.view());
    }
  }

  // "gemm self_attn.{q_proj,k_proj,v_proj}": the kernel and the user-given names of
  // the ops it covers, sharing their common dotted prefix ("a+b" when they share
  // none); the result's name when the user named none of them.
  constexpr Name dispatch_label(Kernel kernel, const Step& step) const {
    FixedVector<std::string_view, 32> named;
    for (ValueId id : step.covers) {
      std::string_view n = p_.value(int(id)).name.view();
      if (!is_generated_name(n)) named.push_back(n);
    }
    Name label;
    label.append(kernel_name(kernel)).append(" ");
    if (named.empty()) return label.append(value(step.result).name.view());
    if (named.size() == 1) return label.append(named[0]);
    // Shortens a prefix "a.b." to "a." (and "a." to "").
    auto shorter = [&](std::size_t prefix) -> std::size_t {
      if (prefix < 2) return 0;
      std::size_t dot = named[0].rfind('.', prefix - 2);
      return dot == std::string_view::npos ? 0 : dot + 1;
    };
    std::size_t prefix = shorter(named[0].size() + 1);
    for (std::string_view n : named)
      while (prefix > 0 && (n.size() < prefix || n.substr(0, prefix) != named[0].substr(0, prefix)))
        prefix = shorter(prefix);
    if (prefix == 0) {  // nothing shared: "a+b"
      for (std::size_t i = 0; i < named.size(); ++i) label.append(i ? "+" : "").append(named[i]);
      return label;
    }
    label.append(named[0].substr(0, prefix)).append("{");
    for (std::size_t i = 0; i < named.size(); ++i) label.append(i ? "," : "").append(named[i].substr(prefix));
    return label.append("}");
  }

  constexpr Dispatch& begin(Kernel kernel, const Step& step) {
    Dispatch d;
    d.kernel = kernel;
    d.label = dispatch_label(kernel, step);
    d.slots[0] = slot(step.result);
    d.access[0] = Access::storage;
    d.covers = step.covers;
    d.bytes = double(value(step.result).shape.elements() * device_element_bytes);
    s_.dispatches.push_back(d);
    return s_.dispatches.back();
  }

  // Binds operand value `v` at `binding` (contiguous unless the kernel reads views).
  constexpr void bind(Dispatch& d, int binding, int v, Access access = Access::storage) {
    d.slots[std::size_t(binding)] = slot(v);
    d.access[std::size_t(binding)] = access;
    d.bytes += double(value(v).shape.elements() * device_element_bytes);
  }

  constexpr void emit(const Step& step) {
    switch (step.kind) {
      case StepKind::gemm: return gemm(step);
      case StepKind::flash_attention: return attention(step);
      case StepKind::layer_norm: return layer_norm(step);
      case StepKind::primitive: return primitive(step);
      default: return;
    }
  }

  // shaders/gemm.comp. Push: M, N, K, inner_count, a_offset, a_outer, a_inner, lda,
  // b_offset, b_outer, b_inner, ldb, alpha. Specialization: TRANSPOSE_B, A_VEC4, B_VEC4,
  // HAS_BIAS, HAS_RESIDUAL, ACTIVATION, ROWS.
  constexpr void gemm(const Step& step) {
    const int a = step.operands[operand::gemm_a], b = step.operands[operand::gemm_b];
    const int bias = step.operands[operand::gemm_bias], residual = step.operands[operand::gemm_residual];
    const Shape& c = value(step.result).shape;
    const Shape& as = value(a).shape;
    const Shape& bs = value(b).shape;
    const Layout& al = layout(a);
    const Layout& bl = layout(b);
    require_contiguous(step, step.result);
    std::int64_t m = c.from_back(2), n = c.last(), k = as.last();
    const int batch_rank = c.rank - 2;
    std::int64_t outer = batch_rank >= 2 ? c[0] : 1, inner = batch_rank >= 1 ? c[batch_rank - 1] : 1;
    // Batch strides of an operand: its layout's strides of the batch axes, aligned from
    // the back with the result's; 0 where it broadcasts.
    auto batch_stride = [&](const Shape& shape, const Layout& l, int result_axis) -> std::int64_t {
      int axis = result_axis - (batch_rank - (shape.rank - 2));
      if (axis < 0 || shape[axis] == 1) return 0;
      return l.strides[std::size_t(axis)];
    };
    std::int64_t a_outer = batch_rank >= 2 ? batch_stride(as, al, 0) : 0;
    std::int64_t a_inner = batch_rank >= 1 ? batch_stride(as, al, batch_rank - 1) : 0;
    std::int64_t b_outer = batch_rank >= 2 ? batch_stride(bs, bl, 0) : 0;
    std::int64_t b_inner = batch_rank >= 1 ? batch_stride(bs, bl, batch_rank - 1) : 0;
    const std::int64_t lda = al.strides[std::size_t(as.rank - 2)], ldb = bl.strides[std::size_t(bs.rank - 2)];
    // A shared 2-D B and rows of A that continue across the batch axes: one taller product.
    if (bs.rank == 2 && batch_rank >= 1 && a_inner == m * lda && (batch_rank == 1 || a_outer == inner * m * lda)) {
      m *= outer * inner;
      outer = inner = 1;
      a_outer = a_inner = 0;
    }
    const bool a_vec4 = multiple_of_4(k) && multiple_of_4(al.offset) && multiple_of_4(lda) &&
                        multiple_of_4(a_outer) && multiple_of_4(a_inner);
    const bool b_vec4 = multiple_of_4(step.transpose_b ? k : n) && multiple_of_4(bl.offset) && multiple_of_4(ldb) &&
                        multiple_of_4(b_outer) && multiple_of_4(b_inner);
    const std::uint32_t rows = m >= 32 ? 32 : 8;

    Dispatch& d = begin(Kernel::gemm, step);
    bind(d, 1, a, a_vec4 ? Access::texel_vec4 : Access::texel_scalar);
    bind(d, 2, b, b_vec4 ? Access::texel_vec4 : Access::texel_scalar);
    if (bias >= 0) {
      require_contiguous(step, bias);
      bind(d, 3, bias);
    }
    if (residual >= 0) {
      require_contiguous(step, residual);
      bind(d, 4, residual);
    }
    d.push_constants = {u32(m), u32(n), u32(k), u32(inner), u32(al.offset), u32(a_outer), u32(a_inner), u32(lda),
                        u32(bl.offset), u32(b_outer), u32(b_inner), u32(ldb), float_bits(step.alpha)};
    d.specialization = {step.transpose_b ? 1u : 0u, a_vec4 ? 1u : 0u, b_vec4 ? 1u : 0u, bias >= 0 ? 1u : 0u,
                        residual >= 0 ? 1u : 0u, std::uint32_t(step.activation), rows};
    d.workgroups = {ceil_div(n, tiles::gemm_invocations * tiles::gemm_columns), ceil_div(m, rows), u32(outer * inner)};
    d.flops = 2.0 * double(m) * double(n) * double(k) * double(outer * inner);
    if (step.activation == EpilogueActivation::gelu) d.flops += 20.0 * double(c.elements());
  }

  // shaders/flash_attention.comp. Push: heads, Sq, Sk, kv_group, then offset and
  // batch/head/row strides of q, k, v and the output, scale, window, and the element
  // strides (batch, head, query, key) of the boolean and of the additive mask.
  // Specialization: VEC4, MASKS, ALIGN, HEAD_DIM, VALUE_DIM, ROWS.
  constexpr void attention(const Step& step) {
    const int q = step.operands[operand::attention_q], k = step.operands[operand::attention_k],
              v = step.operands[operand::attention_v];
    const Shape& qs = value(q).shape;
    const Shape& ks = value(k).shape;
    const Shape& vs = value(v).shape;
    const bool rank4 = qs.rank == 4;
    const std::int64_t batch = rank4 ? qs[0] : 1, heads = qs.from_back(3), sq = qs.from_back(2), sk = ks.from_back(2);
    const std::int64_t head_dim = qs.last(), value_dim = vs.last();
    // offset, batch, head and row strides of a [B, H, S, D] (or [H, S, D]) layout.
    auto strides = [&](int val) {
      const Layout& l = layout(val);
      std::array<std::int64_t, 4> r{l.offset, 0, 0, 0};
      if (rank4) {
        r[1] = l.strides[0];
        r[2] = l.strides[1];
        r[3] = l.strides[2];
      } else {
        r[2] = l.strides[0];
        r[3] = l.strides[1];
      }
      return r;
    };
    auto qst = strides(q), kst = strides(k), vst = strides(v), ost = strides(step.result);
    bool vec4 = multiple_of_4(head_dim) && multiple_of_4(value_dim);
    for (const auto& st : {qst, kst, vst})
      for (std::int64_t x : st) vec4 = vec4 && multiple_of_4(x);
    const Access texel = vec4 ? Access::texel_vec4 : Access::texel_scalar;
    const std::uint32_t rows = 4;

    Dispatch& d = begin(Kernel::flash_attention, step);
    bind(d, 1, q, texel);
    bind(d, 2, k, texel);
    bind(d, 3, v, texel);
    std::array<std::uint32_t, max_rank> boolean{}, additive{};
    const Shape scores{batch, heads, sq, sk};
    if (int lengths = step.operands[operand::attention_lengths]; lengths >= 0) {
      require_contiguous(step, lengths);
      bind(d, 4, lengths);
    }
    if (int mask = step.operands[operand::attention_boolean]; mask >= 0) {
      require_contiguous(step, mask);
      bind(d, 5, mask);
      boolean = broadcast_strides(value(mask).shape, rank4 ? scores : Shape{heads, sq, sk});
    }
    if (int mask = step.operands[operand::attention_additive]; mask >= 0) {
      require_contiguous(step, mask);
      bind(d, 6, mask);
      additive = broadcast_strides(value(mask).shape, rank4 ? scores : Shape{heads, sq, sk});
    }
    d.push_constants = {u32(heads), u32(sq), u32(sk), u32(step.kv_group)};
    for (const auto& st : {qst, kst, vst, ost})
      for (std::int64_t x : st) d.push_constants.push_back(u32(x));
    d.push_constants.push_back(float_bits(step.scale));
    d.push_constants.push_back(u32(step.window));
    for (std::uint32_t x : boolean) d.push_constants.push_back(x);
    for (std::uint32_t x : additive) d.push_constants.push_back(x);
    d.specialization = {vec4 ? 1u : 0u, step.masks, step.align == CausalAlign::bottom_right ? 1u : 0u,
                        u32(head_dim), u32(value_dim), rows};
    d.workgroups = {ceil_div(sq, tiles::attention_invocations * rows), u32(heads), u32(batch)};
    d.flops = 2.0 * double(batch * heads * sq * sk) * double(head_dim + value_dim);
  }

  // shaders/layer_norm.comp. Push: rows, n, epsilon. Specialization: HAS_RESIDUAL.
  constexpr void layer_norm(const Step& step) {
    const Shape& shape = value(step.result).shape;
    const std::int64_t n = shape.last(), rows = shape.elements() / n;
    int residual = step.operands[operand::norm_residual];
    Dispatch& d = begin(Kernel::layer_norm, step);
    for (int i = 0; i < 3; ++i) {
      require_contiguous(step, step.operands[std::size_t(i)]);
      bind(d, i + 1, step.operands[std::size_t(i)]);
    }
    if (residual >= 0) {
      require_contiguous(step, residual);
      bind(d, 4, residual);
    }
    d.push_constants = {u32(rows), u32(n), float_bits(step.attributes.epsilon)};
    d.specialization = {residual >= 0 ? 1u : 0u};
    d.workgroups = linear_groups(rows, tiles::row_local_size);
    d.flops = (residual >= 0 ? 9.0 : 8.0) * double(shape.elements());
  }

  // shaders/gather.comp: out (contiguous) = in[offset + sum(index_k * strides_k)] over
  // up to 6 dimensions. Push: total, rank, dims[6], strides[6], offset.
  constexpr void gather(const Step& step) {
    const int in = step.operands[0];
    const Shape& out = value(step.result).shape;
    const Shape& is = value(in).shape;
    const Layout& l = layout(in);
    const auto& s = l.strides;
    FixedVector<std::int64_t, 6> dims, strides;
    std::int64_t offset = l.offset;
    if (step.slice) {
      for (int k = 0; k < out.rank; ++k) {
        dims.push_back(out[k]);
        strides.push_back(s[std::size_t(k)]);
      }
      offset += step.slice_offset * s[std::size_t(is.rank - 1)];
    } else {
      switch (step.op) {
        case Op::split_heads:  // out[b, h, s, d] = in[b, s, h*D + d]
          dims = {out[0], out[1], out[2], out[3]};
          strides = {s[0], out[3] * s[2], s[1], s[2]};
          break;
        case Op::merge_heads:  // out[b, s, h, d] = in[b, h, s, d]
          dims = {is[0], is[2], is[1], is[3]};
          strides = {s[0], s[2], s[1], s[3]};
          break;
        case Op::repeat_heads:  // out[b, hk, r, s, d] = in[b, hk, s, d]
          dims = {is[0], is[1], step.attributes.count, is[2], is[3]};
          strides = {s[0], s[1], 0, s[2], s[3]};
          break;
        case Op::permute:
          for (int k = 0; k < out.rank; ++k) {
            dims.push_back(out[k]);
            strides.push_back(s[std::size_t(step.attributes.permutation[std::size_t(k)])]);
          }
          break;
        default:  // a copy (an output of an input or weight)
          for (int k = 0; k < out.rank; ++k) {
            dims.push_back(out[k]);
            strides.push_back(s[std::size_t(k)]);
          }
          if (out.rank == 0) {
            dims.push_back(1);
            strides.push_back(0);
          }
      }
    }
    Dispatch& d = begin(Kernel::gather, step);
    bind(d, 1, in);
    const std::int64_t total = out.elements();
    d.push_constants = {u32(total), u32(std::int64_t(dims.size()))};
    for (std::size_t i = 0; i < 6; ++i) d.push_constants.push_back(i < dims.size() ? u32(dims[i]) : 1);
    for (std::size_t i = 0; i < 6; ++i) d.push_constants.push_back(i < strides.size() ? u32(strides[i]) : 0);
    d.push_constants.push_back(u32(offset));
    d.workgroups = linear_groups(total, tiles::linear_local_size);
    d.bytes = double(2 * total * device_element_bytes);
  }

  constexpr void primitive(const Step& step) {
    const Shape& shape = value(step.result).shape;
    const std::int64_t total = shape.elements();
    if (step.slice) return gather(step);
    switch (step.op) {
      case Op::output:
      case Op::split_heads:
      case Op::merge_heads:
      case Op::repeat_heads:
      case Op::permute: return gather(step);
      default: break;
    }
    require_contiguous(step, step.result);
    for (int o : step.operands)
      if (o >= 0) require_contiguous(step, o);
    switch (step.op) {
      case Op::add: {  // shaders/add.comp. Push: total, dims[1..3], a strides[4], b strides[4].
        Dispatch& d = begin(Kernel::add, step);
        bind(d, 1, step.operands[0]);
        bind(d, 2, step.operands[1]);
        auto dims = padded_dims(shape);
        auto sa = broadcast_strides(value(step.operands[0]).shape, shape);
        auto sb = broadcast_strides(value(step.operands[1]).shape, shape);
        d.push_constants = {u32(total), dims[1], dims[2], dims[3], sa[0], sa[1], sa[2], sa[3], sb[0], sb[1], sb[2], sb[3]};
        d.workgroups = linear_groups(total, tiles::linear_local_size);
        d.flops = double(total);
        return;
      }
      case Op::scale:
      case Op::relu:
      case Op::gelu: {  // shaders/elementwise.comp. Push: total, factor. Specialization: OP.
        Dispatch& d = begin(Kernel::elementwise, step);
        bind(d, 1, step.operands[0]);
        std::uint32_t op = step.op == Op::scale ? 0 : step.op == Op::relu ? 1 : 2;
        d.push_constants = {u32(total), float_bits(step.attributes.factor)};
        d.specialization = {op};
        d.workgroups = linear_groups(total, tiles::linear_local_size);
        d.flops = double(total) * (op == 2 ? 20 : 1);
        return;
      }
      case Op::causal_mask:
      case Op::sliding_window_mask:
      case Op::padding_mask:
      case Op::boolean_mask:
      case Op::additive_mask: {
        // shaders/mask.comp. Push: total, Sq, Sk, per-batch elements, window, align,
        // dims[1..2], mask strides[4]. Specialization: KIND.
        Dispatch& d = begin(Kernel::mask, step);
        bind(d, 1, step.operands[0]);
        const bool has_operand = op_arity(step.op) == 2;
        if (has_operand) bind(d, 2, step.operands[1]);
        std::uint32_t kind = step.op == Op::causal_mask ? 0 : step.op == Op::sliding_window_mask ? 1
                           : step.op == Op::padding_mask ? 2 : step.op == Op::boolean_mask ? 3 : 4;
        auto dims = padded_dims(shape);
        std::array<std::uint32_t, max_rank> ms{};
        if (kind >= 3) ms = broadcast_strides(value(step.operands[1]).shape, shape);
        d.push_constants = {u32(total), u32(shape.from_back(2)), u32(shape.last()), u32(total / shape[0]),
                            u32(step.attributes.count), step.attributes.align == CausalAlign::bottom_right ? 1u : 0u,
                            dims[1], dims[2], ms[0], ms[1], ms[2], ms[3]};
        d.specialization = {kind};
        d.workgroups = linear_groups(total, tiles::linear_local_size);
        d.flops = double(total);
        return;
      }
      case Op::softmax: {  // shaders/softmax.comp. Push: rows, n.
        Dispatch& d = begin(Kernel::softmax, step);
        bind(d, 1, step.operands[0]);
        const std::int64_t n = shape.last(), rows = total / n;
        d.push_constants = {u32(rows), u32(n)};
        d.workgroups = linear_groups(rows, tiles::row_local_size);
        d.flops = 5.0 * double(total);
        return;
      }
      default: {
        Message m;
        m << "internal: no kernel for the op " << op_name(step.op);
        compile_failure(m.view());
      }
    }
  }

  // Barriers only where needed: before a dispatch that reads or writes a slot range
  // written since the last barrier, or writes one read since then.
  constexpr void place_barriers() {
    struct Range {
      Storage storage;
      std::int64_t begin, end;
    };
    auto range = [&](int slot) {
      const TensorSlot& t = s_.slots[std::size_t(slot)];
      return Range{t.storage, t.offset, t.offset + t.bytes};
    };
    auto overlaps = [](const std::vector<Range>& set, const Range& r) {
      for (const Range& x : set)
        if (x.storage == r.storage && x.begin < r.end && r.begin < x.end) return true;
      return false;
    };
    std::vector<Range> written, read;
    for (std::size_t i = 0; i < s_.dispatches.size(); ++i) {
      const Dispatch& d = s_.dispatches[i];
      Range out = range(d.slots[0]);
      bool hazard = overlaps(written, out) || overlaps(read, out);
      for (int b = 1; b < max_bindings; ++b)
        if (d.slots[std::size_t(b)] >= 0 && overlaps(written, range(d.slots[std::size_t(b)]))) hazard = true;
      if (hazard && i > 0) {
        s_.dispatches[i - 1].barrier_after = true;
        written.clear();
        read.clear();
      }
      written.push_back(out);
      for (int b = 1; b < max_bindings; ++b)
        if (d.slots[std::size_t(b)] >= 0) read.push_back(range(d.slots[std::size_t(b)]));
    }
  }

  Program& p_;
  Schedule& s_;
};

}  // namespace detail

constexpr void schedule(Program& p) {
  p.schedule.fused = p.fused;
  detail::Scheduler(p).run();
}

}  // namespace vkattn::passes
