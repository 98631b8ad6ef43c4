#pragma once
// Pass 8, schedule: one dispatch per remaining step (two for attention split over keys),
// in program order, each lowered for the target (lower_*.hpp: the kernel variant and
// its configuration from tuning/choose.hpp, typed push and specialization constants
// from the kernel's interface header, workgroup counts, FLOPs and bytes); then a
// barrier after a dispatch only where a later one reads or overwrites what it wrote
// before another barrier intervenes. The only pass that reads the target.
#include "vkattn/compiler/lower_attention.hpp"
#include "vkattn/compiler/lower_elementwise.hpp"
#include "vkattn/compiler/lower_gemm.hpp"
#include "vkattn/compiler/lower_pointwise.hpp"
#include "vkattn/compiler/lower_rows.hpp"

namespace vkattn::passes {

namespace detail {

constexpr void lower_primitive(ScheduleBuilder& b, const Step& step) {
  if (step.slice) return lower_gather(b, step);
  const OpGroup group = op_group(step.op);
  // Copies: a view no reader can read, an output of a value with storage elsewhere, the
  // value a repeated body starts from, and a body's result it cannot carry in place.
  if (group == OpGroup::layout || group == OpGroup::marker || group == OpGroup::repeat) return lower_gather(b, step);
  if (group == OpGroup::state) return lower_cache_write(b, step);
  if (group == OpGroup::paging) return lower_paged_view(b, step);
  b.require_contiguous(step, step.result);
  for (int o : step.operands)
    if (o >= 0) b.require_contiguous(step, o);
  switch (group) {
    case OpGroup::index:
    case OpGroup::pointwise:
    case OpGroup::elementwise:
    case OpGroup::activation: break;  // pointwise steps (pass 5), never primitives
    case OpGroup::mask: return lower_mask(b, step);
    case OpGroup::position: return lower_rotary(b, step);
    case OpGroup::normalisation:
      if (step.op == Op::softmax || step.op == Op::softmax_with_sinks) return lower_softmax(b, step);
      break;  // layer_norm is a StepKind of its own
    case OpGroup::source:
    case OpGroup::state:
    case OpGroup::paging:
    case OpGroup::marker:
    case OpGroup::repeat:
    case OpGroup::layout:
    case OpGroup::contraction: break;  // sources are bound, not computed; matmul is a gemm step
  }
  Message m;
  m << "internal: no kernel for the op " << op_name(step.op);
  compile_failure(m.view());
}

constexpr void lower_step(ScheduleBuilder& b, const Step& step) {
  switch (step.kind) {
    case StepKind::gemm: return lower_gemm(b, step);
    case StepKind::flash_attention: return lower_attention(b, step);
    case StepKind::layer_norm: return lower_layer_norm(b, step);
    case StepKind::pointwise: return lower_pointwise(b, step);
    case StepKind::primitive: return lower_primitive(b, step);
    default: return;
  }
}

// Barriers only where needed: before a dispatch that reads or writes a slot range
// written since the last barrier, or writes one read since then.
constexpr void place_barriers(Schedule& s) {
  struct Range {
    Storage storage;
    std::int64_t begin, end;
  };
  auto range = [&](int slot) {
    const TensorSlot& t = s.slots[std::size_t(slot)];
    return Range{t.storage, t.offset, t.offset + t.bytes};
  };
  auto overlaps = [](const std::vector<Range>& set, const Range& r) {
    for (const Range& x : set)
      if (x.storage == r.storage && x.begin < r.end && r.begin < x.end) return true;
    return false;
  };
  std::vector<Range> written, read;
  for (std::size_t i = 0; i < s.dispatches.size(); ++i) {
    const Dispatch& d = s.dispatches[i];
    bool hazard = false;
    for (int b = 0; b < max_bindings; ++b) {
      if (d.slots[std::size_t(b)] < 0) continue;
      const Range r = range(d.slots[std::size_t(b)]);
      hazard = hazard || overlaps(written, r) || (s.writes(d, b) && overlaps(read, r));
    }
    if (hazard && i > 0) {
      s.dispatches[i - 1].barrier_after = true;
      written.clear();
      read.clear();
    }
    for (int b = 0; b < max_bindings; ++b)
      if (d.slots[std::size_t(b)] >= 0) (s.writes(d, b) ? written : read).push_back(range(d.slots[std::size_t(b)]));
  }
}

}  // namespace detail

constexpr void schedule(Program& p, const Target& target) {
  Schedule& s = p.schedule;
  s.fused = p.fused;
  s.target = target;
  ScheduleBuilder builder(p, target);
  // Pass 7 numbered live ranges by step; a step may lower to more than one dispatch.
  std::vector<int> first_dispatch, last_dispatch;
  const std::size_t planned_slots = s.slots.size();
  for (const Step& step : p.steps) {
    if (!detail::dispatches(step)) continue;
    const std::size_t slots_before = s.slots.size();
    first_dispatch.push_back(int(s.dispatches.size()));
    detail::lower_step(builder, step);
    last_dispatch.push_back(int(s.dispatches.size()) - 1);
    for (std::size_t w = slots_before; w < s.slots.size(); ++w)  // workspaces live within their step
      s.slots[w].live_from = first_dispatch.back(), s.slots[w].live_to = last_dispatch.back();
  }
  const int steps = int(first_dispatch.size()), total = int(s.dispatches.size());
  for (std::size_t i = 0; i < planned_slots; ++i) {
    TensorSlot& slot = s.slots[i];
    if (slot.live_from >= 0 && slot.live_from < steps) slot.live_from = first_dispatch[std::size_t(slot.live_from)];
    if (slot.live_to == steps) slot.live_to = total;
    else if (slot.live_to >= 0 && slot.live_to < steps) slot.live_to = last_dispatch[std::size_t(slot.live_to)];
  }
  for (const ProgramRepeat& r : p.repeats) {
    if (r.last < r.first || r.carried_out < 0) compile_failure("internal: a repeated body has no dispatch");
    if (s.repeats.size() == s.repeats.capacity()) {
      Message m;
      m << "a graph holds at most " << std::int64_t(max_repeats) << " repeated bodies";
      compile_failure(m.view());
    }
    RepeatRange range;
    range.first = first_dispatch[std::size_t(r.first)];
    range.count = last_dispatch[std::size_t(r.last)] + 1 - range.first;
    range.iterations = int(r.iterations);
    range.carried_in = p.value(r.carried_in).slot;
    range.carried_out = p.value(r.carried_out).slot;
    s.repeats.push_back(range);
  }
  detail::place_barriers(s);
  s.remarks = p.remarks;
}

}  // namespace vkattn::passes
