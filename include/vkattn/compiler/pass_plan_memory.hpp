#pragma once
// Pass 7, plan memory. Every value that owns storage gets a slot. Weights (and packed
// weights) go one after another in the weight buffer. Inputs, intermediates and
// outputs share one arena: each is live from the dispatch that first writes it (inputs:
// before the first) to the last dispatch that reads it (outputs: after the last), and
// is placed first-fit, largest first, at the lowest offset that overlaps no value live
// at the same time; a state tensor is live throughout, and keeps its place from run to
// run. Sizes are those of the bounds of dynamic dimensions. The plan reports the arena's
// size (peak) beside the sum of every value allocated on its own (naive).
// In place: a generated elementwise kernel reads each tensor it reads at exactly the
// element it writes when the tensor has the result's shape, so a value it writes may
// take the very bytes of an intermediate or input it reads there for the last time
// (each invocation reads the element before it overwrites it; the host uploads every
// input before each run). Only such a pair may share bytes while both are live, and
// only at the same offset.
#include <algorithm>

#include "vkattn/compiler/program.hpp"

namespace vkattn::passes {

namespace detail {

constexpr std::int64_t aligned_bytes(std::int64_t bytes) {
  return (bytes + slot_alignment - 1) / slot_alignment * slot_alignment;
}

constexpr bool dispatches(const Step& step) { return step.kind != StepKind::removed && step.kind != StepKind::view; }

constexpr bool lifetimes_overlap(const TensorSlot& a, const TensorSlot& b) {
  return a.live_from <= b.live_to && b.live_from <= a.live_to;
}

// The repeated bodies: each body's dispatching steps (numbered as below), the value it
// starts from and the root its result is carried in.
constexpr void find_repeats(Program& p) {
  p.repeats.clear();
  int dispatch = 0;
  for (const Step& step : p.steps) {
    if (step.kind != StepKind::removed && step.op == Op::repeat_begin && step.body == no_value) {
      ProgramRepeat r;
      r.carried_in = p.value(step.result).layout.root;
      r.iterations = step.attributes.count;
      r.first = dispatch + (dispatches(step) ? 1 : 0);
      p.repeats.push_back(r);
    }
    if (step.kind != StepKind::removed && step.op == Op::repeat_end && step.body != no_value && !p.repeats.empty())
      p.repeats.back().carried_out = p.value(step.result).layout.root;
    if (dispatches(step)) {
      if (step.body != no_value && !p.repeats.empty()) p.repeats.back().last = dispatch;
      ++dispatch;
    }
  }
}

// A body runs its dispatches again and again: what it reads from before it stays live
// to its end, and both carried roots from the first write of the value it starts from
// (an even count starts it in the result's storage) to the body's end.
constexpr void keep_live_across_repeats(const Program& p, std::vector<int>& first_write, std::vector<int>& last_read) {
  for (const ProgramRepeat& r : p.repeats) {
    int dispatch = 0;
    for (const Step& step : p.steps) {
      if (!dispatches(step)) continue;
      if (dispatch >= r.first && dispatch <= r.last) {
        auto read = [&](int o) {
          if (o < 0) return;
          const int root = p.value(o).layout.root;
          if (first_write[std::size_t(root)] < r.first || first_write[std::size_t(root)] == 1 << 30)
            last_read[std::size_t(root)] = std::max(last_read[std::size_t(root)], r.last);
        };
        for (int o : step.operands) read(o);
        for (int o : step.program_reads) read(o);
      }
      ++dispatch;
    }
    const auto in = std::size_t(r.carried_in), out = std::size_t(r.carried_out);
    first_write[out] = std::min({first_write[out], first_write[in], r.first});
    last_read[out] = std::max(last_read[out], r.last);
    last_read[in] = std::max(last_read[in], r.last);
  }
}

// The dispatch index of each dispatching step (-1 for the others).
constexpr std::vector<int> dispatch_numbers(const Program& p) {
  std::vector<int> numbers;
  int dispatch = 0;
  for (const Step& step : p.steps) numbers.push_back(dispatches(step) ? dispatch++ : -1);
  return numbers;
}

struct InPlace {
  int read_root = -1, written_root = -1;
};

// Pairs (an intermediate or input a pointwise step reads for the last time, a value it
// writes) that may share bytes: the read is not gathered, has the written value's shape
// and plain layout over all of its root, both hold the same element type, and the step
// runs outside a repeated body (whose later iterations read again what it read). The
// root read must be read nowhere else by the step, and must not be an output. An input
// may be overwritten: the host uploads every input before each run.
constexpr std::vector<InPlace> in_place_pairs(const Program& p, const std::vector<int>& first_write,
                                              const std::vector<int>& last_read) {
  std::vector<InPlace> pairs;
  const std::vector<int> numbers = dispatch_numbers(p);
  auto element = [&](int v) {
    const DType t = p.value(v).dtype;
    return !is_float(t) ? DType::i32 : t == DType::f16 || p.f16_storage ? DType::f16 : DType::f32;
  };
  auto is_output = [&](int root) {
    for (const ProgramOutput& out : p.outputs)
      if (p.value(out.value).layout.root == root) return true;
    return false;
  };
  auto paired = [&](int root) {
    for (const InPlace& pair : pairs)
      if (pair.read_root == root || pair.written_root == root) return true;
    return false;
  };
  for (std::size_t s = 0; s < p.steps.size(); ++s) {
    const Step& step = p.steps[s];
    const int d = numbers[s];
    if (d < 0 || step.kind != StepKind::pointwise || step.program < 0 || step.body != no_value) continue;
    const Expression& e = p.programs[std::size_t(step.program)].expression;
    FixedVector<int, max_expression_outputs + 1> written;
    written.push_back(step.result);
    for (int w : step.also_writes) written.push_back(w);
    for (int w : written) {
      const int w_root = p.value(w).layout.root;
      if (w_root != w || first_write[std::size_t(w_root)] != d || paired(w_root)) continue;
      const Shape& shape = p.value(w).shape;
      for (std::size_t t = 0; t < step.program_reads.size(); ++t) {
        const int r = step.program_reads[t];
        const ProgramValue& read = p.value(r);
        const int r_root = read.layout.root;
        const ProgramValue& root = p.value(r_root);
        bool fits = e.tensors[t].gathered < 0 &&
                    (root.kind == ValueKind::intermediate || root.kind == ValueKind::input) &&
                    last_read[std::size_t(r_root)] == d && !is_output(r_root) && !paired(r_root) &&
                    same_sizes(read.shape, shape) && plain_layout(read.layout, read.shape) &&
                    root.shape.at_bounds().elements() == shape.at_bounds().elements() && element(r) == element(w);
        // Every read of that root by this step is such a read; none of its writes is it.
        for (std::size_t u = 0; fits && u < step.program_reads.size(); ++u)
          if (p.value(step.program_reads[u]).layout.root == r_root)
            fits = e.tensors[u].gathered < 0 && same_sizes(p.value(step.program_reads[u]).shape, shape) &&
                   plain_layout(p.value(step.program_reads[u]).layout, p.value(step.program_reads[u]).shape);
        for (int o : step.operands)
          fits = fits && (o < 0 || p.value(o).layout.root != r_root ||
                          std::find(step.program_reads.begin(), step.program_reads.end(), o) != step.program_reads.end());
        for (int other : written) fits = fits && p.value(other).layout.root != r_root;
        if (!fits) continue;
        pairs.push_back({r_root, w_root});
        break;
      }
    }
  }
  return pairs;
}

}  // namespace detail

constexpr void plan_memory(Program& p) {
  Schedule& schedule = p.schedule;
  const int n = int(p.values.size());
  // Which roots are used, and over which dispatches.
  std::vector<int> first_write(std::size_t(n), 1 << 30), last_read(std::size_t(n), -2);
  // char, not bool: libstdc++'s std::vector<bool> is not usable in constant evaluation under clang.
  std::vector<char> used(std::size_t(n), false);
  int dispatch = 0;
  for (const Step& step : p.steps) {
    if (!detail::dispatches(step)) continue;
    auto write = [&](int v) {
      const int root = p.value(v).layout.root;
      used[std::size_t(root)] = true;
      first_write[std::size_t(root)] = std::min(first_write[std::size_t(root)], dispatch);
    };
    write(step.result);
    for (int v : step.also_writes) write(v);
    auto read = [&](int o) {
      if (o < 0) return;
      int r = p.value(o).layout.root;
      used[std::size_t(r)] = true;
      last_read[std::size_t(r)] = std::max(last_read[std::size_t(r)], dispatch);
    };
    for (int o : step.operands) read(o);
    for (int o : step.program_reads) read(o);
    ++dispatch;
  }
  const int dispatch_count = dispatch;
  for (const ProgramOutput& out : p.outputs) {
    int root = p.value(out.value).layout.root;
    used[std::size_t(root)] = true;
    last_read[std::size_t(root)] = dispatch_count;
  }
  detail::find_repeats(p);
  detail::keep_live_across_repeats(p, first_write, last_read);
  const std::vector<detail::InPlace> in_place = detail::in_place_pairs(p, first_write, last_read);

  for (int v = 0; v < n; ++v) {
    ProgramValue& value = p.value(v);
    if (!used[std::size_t(v)] || value.layout.root != v) continue;
    TensorSlot slot;
    slot.name = value.name;
    slot.value = value.node;
    slot.shape = value.shape;
    slot.dtype = value.dtype;
    // i32 stays i32 (and bool is 0 or 1 in i32); f16 values, and every float value
    // under f16 storage, hold f16.
    slot.element = !is_float(value.dtype) ? DType::i32
                   : value.dtype == DType::f16 || p.f16_storage ? DType::f16 : DType::f32;
    // Planned for the bounds of dynamic dimensions, so one plan serves every size.
    slot.bytes = value.shape.at_bounds().elements() * storage_bytes(slot.element);
    bool weight = value.kind == ValueKind::weight || value.kind == ValueKind::packed_weight;
    slot.storage = weight ? Storage::weights : Storage::arena;
    slot.role = value.kind == ValueKind::input   ? SlotRole::input
                : value.kind == ValueKind::state ? SlotRole::state
                : weight                         ? SlotRole::weight
                                                 : SlotRole::intermediate;
    for (int part : value.parts) slot.parts.push_back({p.value(part).name, p.value(part).shape});
    for (const ProgramOutput& out : p.outputs)
      if (out.value == v) {
        slot.role = SlotRole::output;
        slot.name = out.name;
        value.output_name = out.name;
      }
    slot.live_from = value.kind == ValueKind::input ? -1 : first_write[std::size_t(v)];
    // A value nothing reads is live while its writer runs (it still writes there).
    slot.live_to = std::max(last_read[std::size_t(v)], slot.live_from);
    if (value.kind == ValueKind::state) {  // kept from run to run
      slot.live_from = -1;
      slot.live_to = dispatch_count;
    }
    if (weight) {
      slot.live_from = -1;
      slot.live_to = dispatch_count;
      slot.offset = schedule.weight_bytes;
      schedule.weight_bytes += detail::aligned_bytes(slot.bytes);
    }
    value.slot = int(schedule.slots.size());
    schedule.slots.push_back(slot);
  }

  // First fit, largest first (ties in slot order, so the plan is deterministic).
  std::vector<int> order;
  for (std::size_t s = 0; s < schedule.slots.size(); ++s)
    if (schedule.slots[s].storage == Storage::arena) order.push_back(int(s));
  for (std::size_t i = 1; i < order.size(); ++i)  // a stable insertion sort (constexpr)
    for (std::size_t j = i; j > 0 && schedule.slots[std::size_t(order[j])].bytes >
                                         schedule.slots[std::size_t(order[j - 1])].bytes;
         --j)
      std::swap(order[j], order[j - 1]);
  // In-place partners, by slot.
  auto partners = [&](int a, int b) {
    for (const detail::InPlace& pair : in_place) {
      const int r = p.value(pair.read_root).slot, w = p.value(pair.written_root).slot;
      if ((r == a && w == b) || (r == b && w == a)) return true;
    }
    return false;
  };
  std::vector<int> placed;
  // Whether `slot` at `offset` shares bytes with a placed slot live at the same time
  // (its in-place partner at the same offset does not count).
  auto conflict = [&](int s, std::int64_t offset, std::int64_t& past) {
    const TensorSlot& slot = schedule.slots[std::size_t(s)];
    const std::int64_t size = detail::aligned_bytes(slot.bytes);
    for (int other : placed) {
      const TensorSlot& o = schedule.slots[std::size_t(other)];
      if (!detail::lifetimes_overlap(slot, o) || (o.offset == offset && partners(s, other))) continue;
      const std::int64_t o_end = o.offset + detail::aligned_bytes(o.bytes);
      if (offset < o_end && o.offset < offset + size) {
        past = o_end;
        return true;
      }
    }
    return false;
  };
  for (int s : order) {
    TensorSlot& slot = schedule.slots[std::size_t(s)];
    const std::int64_t size = detail::aligned_bytes(slot.bytes);
    schedule.memory.naive_bytes += size;
    std::int64_t offset = -1, past = 0;
    for (int other : placed)  // the partner's bytes first, where nothing else is in the way
      if (offset < 0 && partners(s, other) && !conflict(s, schedule.slots[std::size_t(other)].offset, past))
        offset = schedule.slots[std::size_t(other)].offset;
    if (offset < 0)
      for (offset = 0; conflict(s, offset, past);) offset = past;
    slot.offset = offset;
    schedule.arena_bytes = std::max(schedule.arena_bytes, offset + size);
    placed.push_back(s);
  }
  schedule.memory.peak_bytes = schedule.arena_bytes;
}

}  // namespace vkattn::passes
