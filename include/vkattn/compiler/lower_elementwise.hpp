#pragma once
// Pass 8 for the one-element-per-invocation kernels of unfused steps: the masks, the
// rotary embedding, cache writes, and gather (the strided copies: head split and merge,
// permute, slice, an output of an input).
#include "vkattn/compiler/schedule_builder.hpp"
#include "vkattn/kernels/encodings.h"

namespace vkattn::passes {

namespace detail {

// One invocation per element of `total`: the target's workgroup size, the launch, and
// the variant's interface.
template <Shader S>
constexpr void launch_per_element(ScheduleBuilder& b, Dispatch& d, std::int64_t total,
                                  const typename ShaderInterface<S>::Push& push,
                                  typename ShaderInterface<S>::Constants constants) {
  constants.LOCAL_SIZE = tuning::choose_linear_invocations(b.target());
  d.workgroups = linear_groups(total, constants.LOCAL_SIZE);
  ConfigText config;
  config.append("element per invocation, wg").append(std::int64_t(constants.LOCAL_SIZE));
  b.set_interface<S>(d, push, constants, config.view(), tuning::target_reason(b.target()).view());
}

}  // namespace detail

constexpr void lower_gather(ScheduleBuilder& b, const Step& step) {
  using detail::u32;
  const int in = step.operands[0];
  const Shape& out = b.value(step.result).shape;
  const Shape& is = b.value(in).shape;
  const Layout& l = b.layout(in);
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
      case Op::unsqueeze:  // the new axis has size 1; the others keep their strides
        for (int k = 0, from = 0; k < out.rank; ++k) {
          dims.push_back(out[k]);
          strides.push_back(k == step.attributes.count ? 0 : s[std::size_t(from++)]);
        }
        break;
      case Op::permute:
        for (int k = 0; k < out.rank; ++k) {
          dims.push_back(out[k]);
          strides.push_back(s[std::size_t(step.attributes.permutation[std::size_t(k)])]);
        }
        break;
      case Op::slice:
        for (int k = 0; k < out.rank; ++k) {
          dims.push_back(out[k]);
          strides.push_back(s[std::size_t(k)]);
        }
        offset += slice_first(step.attributes, is) * s[std::size_t(is.rank + step.attributes.axis)];
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
  Dispatch& d = b.begin(Kernel::gather, step);
  b.bind(d, 1, in);
  const std::int64_t total = out.elements();
  kernels::GatherPush push;
  push.total = u32(total);
  push.rank = u32(std::int64_t(dims.size()));
  for (std::size_t i = 0; i < 6; ++i) {
    push.dims[i] = i < dims.size() ? u32(dims[i]) : 1;
    push.strides[i] = i < strides.size() ? u32(strides[i]) : 0;
  }
  push.offset = u32(offset);
  detail::launch_per_element<Shader::gather>(b, d, total, push, {});
  d.bytes = double(2 * total * storage_bytes(b.slot_of(step.result).element));
}

// paged_view unfused: shaders/gather.comp over [S, H, T, P, D], the page axis T looked
// up in the block table (an entry outside the pool reads as zeros).
constexpr void lower_paged_view(ScheduleBuilder& b, const Step& step) {
  using detail::u32;
  const int pool = step.operands[0], table = step.operands[1];
  const Shape& out = b.value(step.result).shape;
  const Shape& ps = b.value(pool).shape;
  const Shape& ts = b.value(table).shape;
  b.require_contiguous(step, step.result);
  b.require_contiguous(step, table);
  const Layout& l = b.layout(pool);
  const auto& s = l.strides;
  const std::int64_t total = out.elements();
  Dispatch& d = b.begin(Kernel::gather, step);
  b.bind(d, 1, pool);
  b.bind(d, 2, table);
  kernels::GatherPush push;
  push.total = u32(total);
  push.rank = 5;
  const std::int64_t dims[5] = {out[0], out[1], ts[1], ps[2], ps[3]};
  const std::int64_t strides[5] = {0, s[1], s[0], s[2], s[3]};
  for (std::size_t i = 0; i < 6; ++i) {
    push.dims[i] = i < 5 ? u32(dims[i]) : 1;
    push.strides[i] = i < 5 ? u32(strides[i]) : 0;
  }
  push.offset = u32(l.offset);
  push.table_axis = 2;
  push.table_row = u32(ts[1]);
  push.table_bound = u32(ps[0]);
  detail::launch_per_element<Shader::gather>(b, d, total, push, {});
  d.bytes = double(2 * total * storage_bytes(b.slot_of(step.result).element));
}

// KIND: the mask's bit (kernels/encodings.h).
constexpr void lower_mask(ScheduleBuilder& b, const Step& step) {
  using detail::u32;
  const Shape& shape = b.value(step.result).shape;
  const std::int64_t total = shape.elements();
  Dispatch& d = b.begin(Kernel::mask, step);
  b.bind(d, 1, step.operands[0]);
  if (op_arity(step.op) == 2) b.bind(d, 2, step.operands[1]);
  kernels::MaskConstants constants;
  const Mask kind = mask_of(step.op);
  constants.KIND = std::uint32_t(kind);
  auto dims = detail::padded_dims(shape);
  std::array<std::uint32_t, max_rank> ms{};
  if (kind == Mask::boolean || kind == Mask::additive) ms = detail::broadcast_strides(b.value(step.operands[1]).shape, shape);
  if (kind == Mask::alibi) ms = detail::broadcast_strides(Shape{shape.from_back(3), 1, 1}, shape);  // slopes[h]
  kernels::MaskPush push;
  push.total = u32(total);
  push.queries = u32(shape.from_back(2));
  push.keys = u32(shape.last());
  push.per_batch = u32(total / shape[0]);
  push.window = u32(step.attributes.count);
  push.bottom_right = step.attributes.align == CausalAlign::bottom_right ? 1u : 0u;
  push.d1 = dims[1], push.d2 = dims[2];
  push.m_stride0 = ms[0], push.m_stride1 = ms[1], push.m_stride2 = ms[2], push.m_stride3 = ms[3];
  detail::launch_per_element<Shader::mask>(b, d, total, push, constants);
  d.flops = double(total) * (kind == Mask::alibi ? 2.0 : 1.0);
}

// rotary_embedding, unfused: shaders/rotary.comp, one element per invocation.
constexpr void lower_rotary(ScheduleBuilder& b, const Step& step) {
  using detail::u32;
  const Shape& shape = b.value(step.result).shape;
  const std::int64_t total = shape.elements();
  const Attributes& a = step.attributes;
  Dispatch& d = b.begin(Kernel::rotary, step);
  b.bind(d, 1, step.operands[0]);
  kernels::RotaryPush push;
  push.total = u32(total);
  push.sequence = u32(shape.from_back(2));
  push.dim = u32(shape.last());
  push.position_offset = u32(a.position_offset);
  push.per_batch = u32(total / shape[0]);
  kernels::RotaryConstants constants;
  if (step.op == Op::rotary_embedding_at) {
    b.bind(d, 2, step.operands[1]);
    constants.POSITIONS = 1;
  }
  constants.ROTARY_LAYOUT = a.rotary_layout == RotaryLayout::interleaved ? 1u : 0u;
  constants.ROTARY_DIMS = u32(a.rotary_dims);
  constants.ROTARY_THETA = std::bit_cast<std::uint32_t>(float(a.theta));
  detail::launch_per_element<Shader::rotary>(b, d, total, push, constants);
  d.bytes += double(total * storage_bytes(b.slot_of(step.result).element));  // each partner is read too
  d.flops = double(total) * 6.0;  // the angle, its sine and cosine, two products and a sum
}

// cache_write: shaders/cache_write.comp, one element of the update per invocation,
// writing into its state's storage (the step's result aliases it).
constexpr void lower_cache_write(ScheduleBuilder& b, const Step& step) {
  using detail::u32;
  const int update = step.operands[1], positions = step.operands[2];
  const Shape& cache = b.value(step.result).shape;
  const Shape& rows = b.value(update).shape;
  b.require_contiguous(step, step.result);
  b.require_contiguous(step, positions);
  const Layout& u = b.layout(update);
  if (u.strides[3] != 1) compile_failure("internal: a cache write reads an update without a unit last stride");
  const std::int64_t total = rows.elements();
  Dispatch& d = b.begin(Kernel::cache_write, step);
  b.bind(d, 1, update);
  b.bind(d, 2, positions);
  d.bytes = double(2 * total * storage_bytes(b.slot_of(step.result).element));
  kernels::CacheWritePush push;
  push.total = u32(total);
  push.heads = u32(rows[1]);
  push.rows = u32(rows[2]);
  push.dim = u32(rows[3]);
  push.capacity = u32(cache[2]);
  push.u_offset = u32(u.offset), push.u_batch = u32(u.strides[0]), push.u_head = u32(u.strides[1]);
  push.u_row = u32(u.strides[2]);
  push.rolling = step.attributes.rolling ? 1 : 0;
  if (step.op == Op::paged_cache_write) {  // the pool [pages, heads, page_size, dim] through the table
    const int table = step.operands[3];
    b.require_contiguous(step, table);
    b.bind(d, 3, table);
    const std::int64_t per_sequence = b.value(table).shape[1];
    push.page_size = u32(cache[2]);
    push.table_row = u32(per_sequence);
    push.pages = u32(cache[0]);
    push.capacity = u32(per_sequence * cache[2]);
  }
  detail::launch_per_element<Shader::cache_write>(b, d, total, push, {});
}

}  // namespace vkattn::passes
