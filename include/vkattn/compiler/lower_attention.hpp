#pragma once
// Pass 8 for a flash_attention step: shaders/flash_attention_texel.comp or
// flash_attention_tiled.comp as the target's tuning picks; for few queries the tiled
// form may split the keys over several workgroups and merge them in a second dispatch
// (shaders/attention_combine.comp) through a workspace at the end of the arena.
#include "vkattn/compiler/schedule_builder.hpp"
#include "vkattn/compiler/visible_fraction.hpp"

namespace vkattn::passes {

constexpr void lower_attention(ScheduleBuilder& b, const Step& step) {
  using detail::u32;
  using detail::multiple_of_4;
  const int q = step.operands[operand::attention_q], k = step.operands[operand::attention_k],
            v = step.operands[operand::attention_v];
  const Shape& qs = b.value(q).shape;
  const Shape& ks = b.value(k).shape;
  const Shape& vs = b.value(v).shape;
  const bool rank4 = qs.rank == 4;
  // A paged KV cache: k and v are pools [pages, kv_heads, page_size, dim], and each
  // sequence's keys are the table_row pages its block table row names.
  const int table = step.operands[operand::attention_table];
  const std::int64_t page_size = table >= 0 ? ks[2] : 0, table_row = table >= 0 ? b.value(table).shape[1] : 0;
  const std::int64_t batch = rank4 ? qs[0] : 1, heads = qs.from_back(3), sq = qs.from_back(2);
  const std::int64_t sk = table >= 0 ? table_row * page_size : ks.from_back(2);
  const std::int64_t head_dim = qs.last(), value_dim = vs.last();
  // Kernel choices see dynamic lengths at their tuned size (Program::tuned).
  const std::int64_t tuned_sq = b.tuned(qs, qs.rank - 2), tuned_sk = table >= 0 ? sk : b.tuned(ks, ks.rank - 2);
  // offset, batch, head and row strides of a [B, H, S, D] (or [H, S, D]) layout.
  auto strides = [&](int val) {
    const Layout& l = b.layout(val);
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
  const auto qst = strides(q), kst = strides(k), vst = strides(v), ost = strides(step.result);
  bool vec4 = multiple_of_4(head_dim) && multiple_of_4(value_dim);
  // A half-split rotation reads each vec4's partners as one vec4 when they are aligned.
  const Attributes& rotary = step.attributes;
  if (step.rotary != 0 && rotary.rotary_layout == RotaryLayout::half_split && !multiple_of_4(rotary.rotary_dims / 2))
    vec4 = false;
  for (const auto& st : {qst, kst, vst})
    for (std::int64_t x : st) vec4 = vec4 && multiple_of_4(x);
  const tuning::AttentionChoice choice =
      tuning::choose_attention(b.target(), batch * heads, tuned_sq, tuned_sk, head_dim, value_dim, step.kv_group);
  const bool texel = choice.shader == Shader::flash_attention_texel;
  const Access read = !texel ? Access::storage : vec4 ? Access::texel_vec4 : Access::texel_scalar;

  kernels::AttentionPush push;
  push.heads = u32(heads);
  push.sq = u32(sq);
  push.sk = u32(sk);
  push.kv_group = u32(step.kv_group);
  push.q_offset = u32(qst[0]), push.q_batch = u32(qst[1]), push.q_head = u32(qst[2]), push.q_row = u32(qst[3]);
  push.k_offset = u32(kst[0]), push.k_batch = u32(kst[1]), push.k_head = u32(kst[2]), push.k_row = u32(kst[3]);
  push.v_offset = u32(vst[0]), push.v_batch = u32(vst[1]), push.v_head = u32(vst[2]), push.v_row = u32(vst[3]);
  push.o_offset = u32(ost[0]), push.o_batch = u32(ost[1]), push.o_head = u32(ost[2]), push.o_row = u32(ost[3]);
  push.scale = float(step.scale);
  push.rotary_offset = step.rotary != 0 ? u32(rotary.position_offset) : 0;
  if (table >= 0) {
    push.table_row = u32(table_row);
    push.pages = u32(ks[0]);
  }

  // Keys per split: a whole number of blocks; the shader derives the split count from it.
  std::uint32_t splits = 1, keys_per_split = 0;
  if (choice.splits > 1) {
    keys_per_split = detail::ceil_div(detail::ceil_div(tuned_sk, choice.splits), choice.keys) * choice.keys;
    splits = detail::ceil_div(sk, keys_per_split);
    if (detail::ceil_div(tuned_sk, keys_per_split) <= 1) keys_per_split = 0, splits = 1;
  }
  push.keys_per_split = keys_per_split;

  Dispatch& d = b.begin(Kernel::flash_attention, step);
  b.bind(d, 1, q, read);
  b.bind(d, 2, k, read);
  b.bind(d, 3, v, read);
  if (int sinks = step.operands[operand::attention_sinks]; sinks >= 0) {
    b.require_contiguous(step, sinks);
    b.bind(d, 4, sinks);
  }
  if (table >= 0) {
    b.require_contiguous(step, table);
    b.bind(d, 5, table);
  }
  if (step.program >= 0) {  // the score program's tensors, at the bindings it reads them from
    const StepProgram& attached = b.program().programs[std::size_t(step.program)];
    for (std::size_t t = 0; t < step.program_reads.size(); ++t) {
      b.require_contiguous(step, step.program_reads[t]);
      b.bind(d, attached.expression.tensors[t].binding, step.program_reads[t]);
    }
    d.program = b.add_program(attached.expression, step.program_reads);
  }
  auto common = [&](auto& constants) {
    constants.VEC4 = vec4 ? 1u : 0u;
    constants.HEAD_DIM = u32(head_dim);
    constants.VALUE_DIM = u32(value_dim);
    if (step.rotary != 0) {
      constants.ROTARY = step.rotary | (rotary.rotary_layout == RotaryLayout::interleaved
                                            ? std::uint32_t(VKATTN_ATTENTION_ROTARY_INTERLEAVED) : 0u);
      constants.ROTARY_DIMS = u32(rotary.rotary_dims);
      constants.ROTARY_THETA = std::bit_cast<std::uint32_t>(float(rotary.theta));
    }
    constants.SINKS = step.operands[operand::attention_sinks] >= 0 ? 1u : 0u;
    constants.PAGE_SIZE = u32(page_size);
  };
  d.flops = 2.0 * double(batch * heads * sq * sk) * double(head_dim + value_dim);
  // A score program's predicate over index values rules out blocks: count those that run.
  const double visible = d.program >= 0 ? passes::detail::visible_fraction(b.schedule().programs[std::size_t(d.program)], sq, sk, heads, batch)
                                        : 1.0;
  d.flops *= visible;
  ConfigText config;
  // The fused score modifiers, ahead of the kernel's own configuration.
  if (step.rotary != 0) {
    config.append("rope ");
    if (step.rotary & VKATTN_ATTENTION_ROTARY_Q) config.append("q");
    if (step.rotary == (VKATTN_ATTENTION_ROTARY_Q | VKATTN_ATTENTION_ROTARY_K)) config.append(",");
    if (step.rotary & VKATTN_ATTENTION_ROTARY_K) config.append("k");
    config.append(" ").append(rotary_layout_name(rotary.rotary_layout)).append(" ");
    config.append(rotary.rotary_dims).append(" dims, ");
  }
  if (step.program >= 0) {
    config.append("score program");
    if (visible < 1.0) config.append(" (").append(std::int64_t(visible * 100.0 + 0.5)).append("% of blocks)");
    config.append(", ");
  }
  if (step.operands[operand::attention_sinks] >= 0) config.append("sinks, ");
  if (table >= 0) config.append("paged ").append(page_size).append(", ");
  // The form follows the tuned sizes: a run with fewer keys keeps it, even with 1 split.
  const bool split_form = keys_per_split > 0;
  // Grouped (kernels/attention.h GROUPED): workgroup y is a KV head, the rows are (query,
  // head) pairs of its query heads; the texel form groups only in its split form.
  const bool grouped = choice.grouped && (split_form || !texel);
  const std::int64_t group = grouped ? step.kv_group : 1, grouped_rows = sq * group;
  if (texel) {
    kernels::AttentionTexelConstants constants;
    common(constants);
    constants.LOCAL_SIZE = choice.invocations;
    constants.ROWS = choice.rows;
    constants.KEY_CHUNK = split_form ? 0u : choice.key_chunk;
    constants.SPLIT = split_form ? 1u : 0u;
    constants.GROUPED = grouped ? 1u : 0u;
    // Split: invocation x is (row block, split), splits fastest.
    const std::int64_t invocations = std::int64_t(detail::ceil_div(grouped_rows, choice.rows)) * splits;
    d.workgroups = {detail::ceil_div(split_form ? invocations : grouped_rows, constants.LOCAL_SIZE * (split_form ? 1u : choice.rows)),
                    u32(heads / group), u32(batch)};
    config.append("rows ").append(std::int64_t(choice.rows)).append(" per invocation, wg");
    config.append(std::int64_t(choice.invocations));
    if (constants.KEY_CHUNK > 0) config.append(", key chunks ").append(std::int64_t(choice.key_chunk));
    if (split_form)
      config.append(", ").append(std::int64_t(splits)).append(splits == 1 ? " split of " : " splits of ")
          .append(std::int64_t(keys_per_split)).append(" keys");
    if (grouped) config.append(", ").append(group).append(" heads per KV read");
    b.set_interface<Shader::flash_attention_texel>(d, push, constants, config.view(), choice.reason.view());
  } else {
  kernels::AttentionTiledConstants constants;
  common(constants);
  constants.ROWS = choice.rows;
  constants.LANES = choice.lanes;
  constants.KEYS = choice.keys;
  constants.LOCAL_SIZE = choice.rows * choice.lanes;
  constants.SPLIT = split_form ? 1u : 0u;
  constants.GROUPED = grouped ? 1u : 0u;
  d.workgroups = {detail::ceil_div(grouped_rows, choice.rows) * splits, u32(heads / group), u32(batch)};
  config.append(std::int64_t(choice.rows)).append(" queries x ").append(std::int64_t(choice.lanes));
  config.append(" lanes, ").append(std::int64_t(choice.keys)).append(" keys, wg");
  config.append(std::int64_t(constants.LOCAL_SIZE));
  if (split_form) config.append(", ").append(std::int64_t(splits)).append(splits == 1 ? " split" : " splits");
  if (grouped) config.append(", ").append(group).append(" heads per KV read");
  b.set_interface<Shader::flash_attention_tiled>(d, push, constants, config.view(), choice.reason.view());
  }
  if (!split_form) return;

  // The partials go to a workspace; the combine dispatch writes the step's result.
  const std::int64_t rows = batch * heads * sq;
  Name workspace_name{b.value(step.result).name.view()};
  workspace_name.append(".partials");
  const int workspace = b.workspace(workspace_name.view(), std::int64_t(splits) * rows * (value_dim + 2));
  Dispatch& split = b.schedule().dispatches.back();
  const int result_slot = split.slots[0];
  split.slots[0] = workspace;
  const double workspace_bytes = double(b.schedule().slots[std::size_t(workspace)].bytes);
  split.bytes += workspace_bytes - double(b.value(step.result).shape.elements() *
                                         storage_bytes(b.slot_of(step.result).element));

  Dispatch& combine = b.begin(Kernel::attention_combine, step);
  combine.slots[0] = result_slot;
  combine.slots[1] = workspace;
  combine.access[1] = Access::storage;
  combine.bytes += workspace_bytes;
  combine.covers = {};
  kernels::CombinePush combine_push;
  combine_push.rows = u32(rows);
  combine_push.splits = splits;
  combine_push.value_dim = u32(value_dim);
  combine_push.heads = u32(heads);
  combine_push.sq = u32(sq);
  combine_push.o_offset = push.o_offset, combine_push.o_batch = push.o_batch;
  combine_push.o_head = push.o_head, combine_push.o_row = push.o_row;
  kernels::CombineConstants combine_constants;
  combine_constants.LOCAL_SIZE = tuning::choose_linear_invocations(b.target());
  combine.workgroups = detail::linear_groups(rows * value_dim, combine_constants.LOCAL_SIZE);
  combine.flops = 4.0 * double(splits) * double(rows * value_dim);
  ConfigText combine_config;
  combine_config.append(std::int64_t(splits)).append(" splits, wg").append(std::int64_t(combine_constants.LOCAL_SIZE));
  b.set_interface<Shader::attention_combine>(combine, combine_push, combine_constants, combine_config.view(),
                                             choice.reason.view());
}

}  // namespace vkattn::passes
