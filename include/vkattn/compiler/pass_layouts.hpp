#pragma once
// Pass 6, layouts: head split and merge, permutes and the column slices of a fused
// projection become strided views of their operand's storage instead of copies, where
// every consumer can read strided data (gemm operands and the flash-attention q, k, v
// read any strides with a unit last stride, as does a cache write its update; a copy
// reads anything). A flash attention
// whose only use is merge_heads writes straight into the merged [batch, seq, heads *
// head_dim] layout. A view that some consumer needs contiguous (an output, an
// elementwise op) stays a copy: a gather dispatch.
#include "vkattn/compiler/program.hpp"

namespace vkattn::passes {

namespace detail {

constexpr bool is_layout_op(const Step& step) {
  if (step.kind == StepKind::view) return true;
  return step.kind == StepKind::primitive &&
         (step.op == Op::split_heads || step.op == Op::merge_heads || step.op == Op::permute || step.op == Op::slice ||
          step.op == Op::unsqueeze);
}

// Whether `consumer` can read its operand `position` through `layout` (of `shape`).
constexpr bool reads_strided(const Step& consumer, int position, const Layout& layout, const Shape& shape) {
  bool unit_last = shape.rank >= 1 && layout.strides[std::size_t(shape.rank - 1)] == 1;
  switch (consumer.kind) {
    case StepKind::gemm: return unit_last && (position == operand::gemm_a || position == operand::gemm_b);
    case StepKind::flash_attention: return unit_last && position <= operand::attention_v;
    case StepKind::view: return true;
    case StepKind::primitive:
      return consumer.slice || in_group(consumer.op, OpGroup::layout) ||
             (is_cache_write(consumer.op) && position == 1 && unit_last);
    default: return false;
  }
}

constexpr bool every_use_reads_strided(const Program& p, int value, const Layout& layout) {
  if (p.is_output(value)) return false;
  for (const Step& step : p.steps) {
    if (step.kind == StepKind::removed) continue;
    for (int i = 0; i < int(max_step_operands); ++i)
      if (step.operands[std::size_t(i)] == value && !reads_strided(step, i, layout, p.value(value).shape)) return false;
    for (int read : step.program_reads)  // generated code reads its tensors contiguous
      if (read == value) return false;
  }
  return true;
}

// Whether every reader of `value` can read it through `layout`: strided readers
// anything, others a plain layout of storage that holds just these elements (not a
// column slice of a wider one); an output needs storage of its own.
constexpr bool every_use_reads(const Program& p, int value, const Layout& layout) {
  if (p.is_output(value)) return false;
  const Shape& shape = p.value(value).shape;
  const bool plain = plain_layout(layout, shape) && p.value(layout.root).shape.elements() == shape.elements();
  return plain || every_use_reads_strided(p, value, layout);
}

// The layout of `step`'s result as a view of its operand; false when it has none.
constexpr bool view_layout(const Program& p, const Step& step, Layout& out) {
  const ProgramValue& in = p.value(step.operands[0]);
  const Shape& result = p.value(step.result).shape;
  const auto& s = in.layout.strides;
  out = in.layout;
  out.strides = {};
  if (step.slice) {
    out.strides = s;
    out.offset += step.slice_offset * s[std::size_t(in.shape.rank - 1)];
    return true;
  }
  switch (step.op) {
    case Op::split_heads:  // [B, S, H*D] -> [B, H, S, D]
      out.strides = {s[0], result[3] * s[2], s[1], s[2]};
      return true;
    case Op::merge_heads:  // [B, H, S, D] -> [B, S, H*D]: heads and d must be one axis
      if (s[1] != in.shape[3] * s[3]) return false;
      out.strides = {s[0], s[2], s[3], 0};
      return true;
    case Op::permute:
      for (int k = 0; k < result.rank; ++k)
        out.strides[std::size_t(k)] = s[std::size_t(step.attributes.permutation[std::size_t(k)])];
      return true;
    case Op::unsqueeze:  // the new axis repeats nothing; the others keep their strides
      for (int k = 0, from = 0; k < result.rank; ++k)
        out.strides[std::size_t(k)] = k == step.attributes.count ? 0 : s[std::size_t(from++)];
      return true;
    case Op::slice:  // the same strides, from the first position kept
      out.strides = s;
      out.offset += slice_first(step.attributes, in.shape) * s[std::size_t(in.shape.rank + step.attributes.axis)];
      return true;
    default: return false;
  }
}

}  // namespace detail

// Whether `v` is an intermediate in storage of its own, row-major, read only by `step`
// (or, with `others`, by any reader) and no output.
constexpr bool owns_plain_storage(const Program& p, int v, int step, bool others) {
  const ProgramValue& value = p.value(v);
  return value.kind == ValueKind::intermediate && value.layout.root == v && plain_layout(value.layout, value.shape) &&
         !p.is_output(v) && (others || p.sole_consumer(v) == step);
}

// A repeated body's result is carried in the storage it is computed in when it owns
// that storage plainly (the next iteration reads it there). When the value after the
// body is a graph output, the result is computed in the output's storage (where the
// last iteration leaves it). Otherwise repeat_end copies it, inside the body.
constexpr void carry_repeat_result(Program& p, Step& step, int index) {
  const int result = step.operands[0];
  if (!owns_plain_storage(p, result, index, !p.is_output(step.result))) return;
  if (p.is_output(step.result)) p.value(result).layout = p.value(step.result).layout;
  else p.value(step.result).layout = p.value(result).layout;
  step.kind = StepKind::view;
}

// The value a body starts from is the storage of the value it starts with when that
// storage is its own and nothing else reads it; otherwise repeat_begin copies it in.
constexpr void carry_repeat_start(Program& p, Step& step, int index) {
  if (!owns_plain_storage(p, step.operands[0], index, false) || p.producer(step.operands[0]) < 0) return;
  p.value(step.result).layout = p.value(step.operands[0]).layout;
  step.kind = StepKind::view;
}

constexpr bool is_repeat_marker(const Step& step) {
  return step.kind == StepKind::primitive && (step.op == Op::repeat_begin || step.op == Op::repeat_end);
}

constexpr void carry_repeat_value(Program& p, Step& step, int index) {
  if (step.op == Op::repeat_begin) carry_repeat_start(p, step, index);
  else carry_repeat_result(p, step, index);
}

constexpr void assign_views(Program& p) {
  // A flash attention whose only use is merge_heads writes the merged layout itself.
  for (Step& merge : p.steps) {
    if (merge.kind != StepKind::primitive || merge.op != Op::merge_heads) continue;
    int context = merge.operands[0];
    int producer = p.producer(context);
    if (producer < 0 || p.steps[std::size_t(producer)].kind != StepKind::flash_attention ||
        p.sole_consumer(context) < 0)
      continue;
    const Shape& cs = p.value(context).shape;  // [B, H, S, D]
    Layout layout;
    layout.root = merge.result;
    layout.strides = {cs[2] * cs[1] * cs[3], cs[3], cs[1] * cs[3], 1};
    p.value(context).layout = layout;
    merge.kind = StepKind::view;
  }
  // In program order, so each value's layout is final before its readers' are chosen.
  for (std::size_t s = 0; s < p.steps.size(); ++s) {
    Step& step = p.steps[s];
    if (is_repeat_marker(step)) carry_repeat_value(p, step, int(s));
    if (!detail::is_layout_op(step)) continue;
    if (step.kind == StepKind::view && !step.slice) continue;  // written in place by its producer
    Layout layout;
    if (detail::view_layout(p, step, layout) && detail::every_use_reads(p, step.result, layout)) {
      p.value(step.result).layout = layout;
      step.kind = StepKind::view;
    } else {
      step.kind = StepKind::primitive;  // a copy; a slice keeps its flag
    }
  }
}

constexpr void assign_layouts(Program& p) {
  if (p.fused) return assign_views(p);
  for (std::size_t s = 0; s < p.steps.size(); ++s)
    if (is_repeat_marker(p.steps[s])) carry_repeat_value(p, p.steps[s], int(s));
}

}  // namespace vkattn::passes
