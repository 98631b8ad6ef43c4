// unroll_repeats: a schedule's repeated bodies written out for the device.
#include "vkattn/unroll_repeats.hpp"

#include <algorithm>
#include <string>

#include "vkattn/compile.hpp"
#include "vkattn/schedule_check.hpp"

namespace vkattn {

namespace {

Name expanded(const Name& name, int iteration) { return Name{expand_iteration(name.view(), iteration)}; }

std::int64_t aligned(std::int64_t bytes) { return (bytes + slot_alignment - 1) / slot_alignment * slot_alignment; }


}  // namespace

Schedule unroll_repeats(const Schedule& schedule) {
  if (schedule.repeats.empty()) return schedule;
  Schedule out = schedule;
  out.repeats.clear();
  out.dispatches.clear();

  // Which repeat binds each per-iteration slot.
  std::vector<int> owner(schedule.slots.size(), -1);
  for (std::size_t d = 0; d < schedule.dispatches.size(); ++d) {
    const int r = schedule.repeat_of(d);
    for (int slot : schedule.dispatches[d].slots) {
      if (slot < 0 || !is_per_iteration(schedule.slots[std::size_t(slot)])) continue;
      const std::string name(schedule.slots[std::size_t(slot)].name.view());
      if (r < 0)
        throw ScheduleError("slot " + std::to_string(slot) + " ('" + name + "') is per iteration ({i}) but dispatch " +
                            std::to_string(d) + ", outside every repeated body, binds it");
      if (owner[std::size_t(slot)] >= 0 && owner[std::size_t(slot)] != r)
        throw ScheduleError("slot " + std::to_string(slot) + " ('" + name + "') is bound by two repeated bodies");
      owner[std::size_t(slot)] = r;
    }
  }
  // copies[slot][k]: the slot iteration k binds. Iteration 0 keeps the slot itself; the
  // later iterations' tensors follow the buffers, one iteration after another (a layer's
  // weights together, in the order the body reads them).
  std::vector<std::vector<int>> copies(schedule.slots.size());
  int most_iterations = 0;
  for (std::size_t slot = 0; slot < schedule.slots.size(); ++slot)
    if (owner[slot] >= 0) {
      TensorSlot& first = out.slots[slot];
      first.name = expanded(first.name, 0);
      for (PackedPart& part : first.parts) part.name = expanded(part.name, 0);
      copies[slot].push_back(int(slot));
      most_iterations = std::max(most_iterations, schedule.repeats[std::size_t(owner[slot])].iterations);
    }
  // Later iterations' states go first in the arena and everything the schedule placed
  // moves up past them: a state keeps its offset at every size of a graph with dynamic
  // dimensions (whose schedules differ past the planned arena, in workspaces), so the
  // caches persist from one recording to the next.
  std::int64_t states_bytes = 0;
  for (std::size_t slot = 0; slot < schedule.slots.size(); ++slot)
    if (owner[slot] >= 0 && schedule.slots[slot].storage == Storage::arena)
      states_bytes += aligned(schedule.slots[slot].bytes) * (schedule.repeats[std::size_t(owner[slot])].iterations - 1);
  for (TensorSlot& slot : out.slots)
    if (slot.storage == Storage::arena) slot.offset += states_bytes;
  out.arena_bytes += states_bytes;
  std::int64_t state_end = 0;
  for (int k = 1; k < most_iterations; ++k)
    for (std::size_t slot = 0; slot < schedule.slots.size(); ++slot) {
      if (owner[slot] < 0 || k >= schedule.repeats[std::size_t(owner[slot])].iterations) continue;
      TensorSlot copy = schedule.slots[slot];
      copy.name = expanded(copy.name, k);
      for (PackedPart& part : copy.parts) part.name = expanded(part.name, k);
      std::int64_t& end = copy.storage == Storage::weights ? out.weight_bytes : state_end;
      copy.offset = aligned(end);
      end = copy.offset + aligned(copy.bytes);
      copies[slot].push_back(int(out.slots.size()));
      out.slots.push_back(copy);
    }
  out.memory.peak_bytes = out.arena_bytes;

  const int total = int(schedule.executed_dispatch_count());
  for (std::size_t d = 0; d < schedule.dispatches.size();) {
    const int r = schedule.repeat_of(d);
    if (r < 0) {
      // Before a body with an even count, the value it starts from goes where its result
      // will be, so that the last iteration writes the result there.
      Dispatch dispatch = schedule.dispatches[d];
      for (const RepeatRange& range : schedule.repeats)
        if (int(d) < range.first && range.iterations % 2 == 0)
          for (int& slot : dispatch.slots)
            if (slot == range.carried_in) slot = range.carried_out;
      dispatch.barrier_after = false;
      out.dispatches.push_back(dispatch);
      ++d;
      continue;
    }
    const RepeatRange& range = schedule.repeats[std::size_t(r)];
    for (int k = 0; k < range.iterations; ++k)
      for (int body = 0; body < range.count; ++body) {
        Dispatch dispatch = schedule.dispatches[std::size_t(range.first + body)];
        // The last iteration reads carried_in and writes carried_out; those before it alternate.
        const bool swapped = (range.iterations - 1 - k) % 2 == 1;
        for (int& slot : dispatch.slots) {
          if (slot < 0) continue;
          if (!copies[std::size_t(slot)].empty()) slot = copies[std::size_t(slot)][std::size_t(k)];
          else if (swapped && slot == range.carried_in) slot = range.carried_out;
          else if (swapped && slot == range.carried_out) slot = range.carried_in;
        }
        dispatch.label = expanded(dispatch.label, k);
        dispatch.barrier_after = false;
        out.dispatches.push_back(dispatch);
      }
    d = std::size_t(range.first + range.count);
  }
  if (int(out.dispatches.size()) != total) throw ScheduleError("repeated bodies overlap or run past the dispatches");
  // Live ranges in the unrolled order: every slot's range covers whole iterations.
  for (TensorSlot& slot : out.slots) {
    slot.live_from = slot.live_from < 0 ? slot.live_from : 0;
    slot.live_to = total;
  }
  passes::detail::place_barriers(out);
  return out;
}

Graph unroll_repeats(const Graph& graph) {
  bool any = false;
  for (const Node& node : graph.nodes()) any = any || node.op == Op::repeat_begin;
  if (!any) return graph;
  if (graph.open_body() != no_value) throw GraphError("vkattn: graph '" + std::string(graph.name()) +
                                                      "' has a repeated body that is never closed");
  Graph out{graph.name()};
  std::vector<ValueId> written(graph.size(), no_value);  // each node's value in `out`
  // Appends node `n` with its operands mapped; `iteration` >= 0 inside a body.
  auto copy = [&](std::size_t n, std::int64_t iteration) {
    Node node = graph.node(ValueId(n));
    for (int i = 0; i < op_arity(node.op); ++i) node.inputs[std::size_t(i)] = written[std::size_t(node.inputs[std::size_t(i)])];
    node.body = no_value;
    if (iteration >= 0) {
      const std::string_view name = node.name.view();
      const bool leaf = node.op == Op::input || node.op == Op::weight || node.op == Op::state;
      if (has_iteration_placeholder(name)) node.name = Name{expand_iteration(name, iteration)};
      else if (is_generated_name(name)) node.name = Name{};
      else if (!leaf) node.name = Name{std::string(name) + "." + std::to_string(iteration)};
    } else if (is_generated_name(node.name.view())) {
      node.name = Name{};
    }
    written[n] = out.append(node, node.where).id();
  };
  for (std::size_t n = 0; n < graph.size(); ++n) {
    const Node& node = graph.node(ValueId(n));
    if (node.op != Op::repeat_begin) {
      copy(n, -1);
      continue;
    }
    std::size_t end = n + 1;
    while (!(graph.node(ValueId(end)).op == Op::repeat_end && graph.node(ValueId(end)).inputs[1] == ValueId(n))) ++end;
    ValueId carried = written[std::size_t(node.inputs[0])];
    for (std::int64_t k = 0; k < node.attributes.count; ++k) {
      written[n] = carried;
      for (std::size_t m = n + 1; m < end; ++m) copy(m, k);
      carried = written[std::size_t(graph.node(ValueId(end)).inputs[0])];
    }
    written[end] = carried;
    n = end;
  }
  return out;
}

}  // namespace vkattn
