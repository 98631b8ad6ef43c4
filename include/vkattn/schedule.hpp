#pragma once
// The Schedule: what the compiler produces and the runtime executes. Plain data,
// independent of any device: tensor slots in two buffers (the arena for inputs,
// intermediates and outputs, placed by the memory planner; the weight buffer), and
// an ordered list of dispatches of the embedded kernels with their bindings,
// constants, workgroup counts and barriers. Every type here is a literal type, so a
// schedule compiled while the C++ compiles can be a constexpr variable.
#include <array>
#include <cstdint>
#include <string_view>
#include <vector>

#include "vkattn/codegen/expression.hpp"
#include "vkattn/fixed_vector.hpp"
#include "vkattn/graph.hpp"
#include "vkattn/kernels/registry.hpp"
#include "vkattn/target.hpp"

namespace vkattn {

// How a dispatch uses one binding. Texel bindings are viewed as RGBA32F (one fetch
// reads 4 consecutive elements: every offset and stride is a multiple of 4) or R32F.
enum class Access : std::uint8_t { unused, storage, texel_vec4, texel_scalar };

constexpr std::string_view access_name(Access access) {
  switch (access) {
    case Access::unused: return "unused";
    case Access::storage: return "storage";
    case Access::texel_vec4: return "texel_vec4";
    case Access::texel_scalar: return "texel_scalar";
  }
  return "?";
}

enum class Storage : std::uint8_t { arena, weights };

// state: a tensor kept on the device from run to run (Graph::state), in the arena.
enum class SlotRole : std::uint8_t { input, weight, intermediate, output, state };

constexpr std::string_view role_name(SlotRole role) {
  switch (role) {
    case SlotRole::input: return "input";
    case SlotRole::weight: return "weight";
    case SlotRole::intermediate: return "intermediate";
    case SlotRole::output: return "output";
    case SlotRole::state: return "state";
  }
  return "?";
}

inline constexpr std::size_t max_packed_parts = 4;

// One user weight inside a packed weight slot.
struct PackedPart {
  Name name;
  Shape shape;
  constexpr bool operator==(const PackedPart&) const = default;
};

// Where one tensor lives. On the device a tensor is f16 (an f16 value, or any float
// value of a schedule compiled with f16 storage), f32 or i32 (`element`); the runtime
// converts at upload and download. Every slot starts at a multiple of slot_alignment
// bytes, which satisfies every device's storage and texel buffer offset alignment (at
// most 256).
struct TensorSlot {
  Name name;
  ValueId value = no_value;  // the graph value, or no_value for a packed weight
  Shape shape;
  DType dtype = DType::f32;    // the graph's dtype
  DType element = DType::f32;  // the device's element type
  SlotRole role = SlotRole::intermediate;
  Storage storage = Storage::arena;
  std::int64_t offset = 0;  // bytes
  std::int64_t bytes = 0;
  // A packed weight: the user weights `parts`, concatenated along their first axis
  // (the runtime packs them when it uploads the weights). Empty otherwise.
  FixedVector<PackedPart, max_packed_parts> parts;
  // The dispatches between which the slot holds a live value (first writer, last
  // reader); -1 / dispatch count for inputs and outputs.
  int live_from = -1, live_to = -1;

  constexpr bool operator==(const TensorSlot&) const = default;
};

inline constexpr std::int64_t slot_alignment = 256;
// Bytes of one element on the device: f16 storage holds 2, f32 and i32 hold 4.
constexpr std::int64_t storage_bytes(DType storage) { return storage == DType::f16 ? 2 : 4; }
// A fused attention covers its score program's ops too (up to max_expression_nodes).
inline constexpr std::size_t max_covers = 128;

using ConfigText = FixedText<112>;
using ReasonText = FixedText<96>;

struct Dispatch {
  Kernel kernel = Kernel::pointwise;          // what it computes
  Shader shader = Shader::pointwise;          // the kernel variant that computes it (kernels/registry.hpp)
  DType element = DType::f32;                   // its float tensors' element type: the f32 or f16 build of the shader
  ConfigText config;                            // the variant's configuration: "128x128x16 8x8 wg256"
  ReasonText reason;                            // why the target got it: "nvidia: subgroup 32, 48 KiB shared"
  Name label;                                   // e.g. "gemm self_attn.q_proj+k_proj+v_proj"
  std::array<int, max_bindings> slots = [] {
    std::array<int, max_bindings> none{};
    for (int& slot : none) slot = -1;
    return none;
  }();
  std::array<Access, max_bindings> access{};
  FixedVector<std::uint32_t, max_push_words> push_constants;
  // constant_id i = specialization[i]; [0] is the local size (local_size_x_id = 0).
  FixedVector<std::uint32_t, max_specialization> specialization;
  std::array<std::uint32_t, 3> workgroups{1, 1, 1};
  FixedVector<ValueId, max_covers> covers;      // the graph ops this dispatch computes
  // Generated code completing the shader: Schedule::programs[program] (a score program
  // of an attention kernel, the expression of a pointwise kernel); -1 for none.
  int program = -1;
  double flops = 0;
  double bytes = 0;                             // bytes read and written
  // A memory barrier after this dispatch: a later dispatch reads or overwrites what
  // this one wrote, before any other barrier.
  bool barrier_after = false;

  constexpr std::uint32_t local_size() const { return specialization.empty() ? 1u : specialization[0]; }
  constexpr std::uint32_t shared_bytes() const {
    return shared_memory_bytes(shader, std::span<const std::uint32_t>(specialization.data(), specialization.size()));
  }
  constexpr bool operator==(const Dispatch&) const = default;
};

// Why the compiler left an op outside a fused dispatch: `value` is the op's value, `text`
// the reason in plain words (the listing, the schedule JSON and the pass dumps show it).
using RemarkText = FixedText<200>;
struct Remark {
  Name value;
  RemarkText text;
  constexpr bool operator==(const Remark&) const = default;
};

// A repeated body (a stack of identical layers): dispatches [first, first + count) run
// `iterations` times in a row. Iteration k binds the k-th tensor of every weight and state
// slot whose name holds `{i}` (the name with `{i}` = k). The carried value alternates
// between two slots: the last iteration reads `carried_in` and writes `carried_out`, the
// one before it the reverse, and so on back; with an even count the dispatches before the
// body write the starting value into carried_out instead. After the body the result is
// in carried_out (which may be a graph output). The memory plan keeps both carried slots
// live from the starting value's first write to the body's end, and every value the
// body reads from before it to the body's end. unroll_repeats
// (vkattn/unroll_repeats.hpp) writes the iterations out for the device.
struct RepeatRange {
  int first = 0;
  int count = 0;
  int iterations = 1;
  int carried_in = -1, carried_out = -1;  // slots
  constexpr bool operator==(const RepeatRange&) const = default;
};

inline constexpr std::size_t max_repeats = 4;

// Whether a slot is one tensor per iteration of its repeated body: a weight or state
// whose name, or a packed part's, holds `{i}`.
constexpr bool is_per_iteration(const TensorSlot& slot) {
  if (slot.role != SlotRole::weight && slot.role != SlotRole::state) return false;
  if (has_iteration_placeholder(slot.name.view())) return true;
  for (const PackedPart& part : slot.parts)
    if (has_iteration_placeholder(part.name.view())) return true;
  return false;
}

struct MemoryPlan {
  std::int64_t peak_bytes = 0;   // the arena: every planned slot at its offset
  std::int64_t naive_bytes = 0;  // every arena value in its own allocation
  constexpr bool operator==(const MemoryPlan&) const = default;
};

struct Schedule {
  Name graph_name;
  bool fused = true;
  Target target;  // what the kernel variants were chosen for
  std::vector<TensorSlot> slots;
  std::vector<Dispatch> dispatches;
  std::vector<Expression> programs;  // generated code, shared by the dispatches that name it
  std::vector<Remark> remarks;       // fusions declined, and why
  std::int64_t arena_bytes = 0;
  std::int64_t weight_bytes = 0;
  MemoryPlan memory;
  FixedVector<RepeatRange, max_repeats> repeats;  // repeated bodies, in dispatch order

  constexpr std::size_t dispatch_count() const { return dispatches.size(); }
  // Dispatches a run executes: each repeated body once per iteration.
  constexpr std::size_t executed_dispatch_count() const {
    std::size_t n = dispatches.size();
    for (const RepeatRange& r : repeats) n += std::size_t(r.count) * std::size_t(r.iterations - 1);
    return n;
  }
  // The index of `e` in programs, added when new.
  constexpr int add_program(const Expression& e) {
    for (std::size_t i = 0; i < programs.size(); ++i)
      if (programs[i] == e) return int(i);
    programs.push_back(e);
    return int(programs.size()) - 1;
  }
  // Whether dispatch `d` writes the tensor at `binding`: its result (binding 0), or a
  // further output of a pointwise kernel's program.
  constexpr bool writes(const Dispatch& d, int binding) const {
    if (binding == 0) return true;
    if (d.kernel != Kernel::pointwise || d.program < 0 || std::size_t(d.program) >= programs.size()) return false;
    for (const ExprOutput& out : programs[std::size_t(d.program)].outputs)
      if (out.binding == binding) return true;
    return false;
  }
  // The repeated body dispatch `i` is in (an index into repeats), or -1.
  constexpr int repeat_of(std::size_t i) const {
    for (std::size_t r = 0; r < repeats.size(); ++r)
      if (int(i) >= repeats[r].first && int(i) < repeats[r].first + repeats[r].count) return int(r);
    return -1;
  }
  // How many times a run executes dispatch `i`: a repeated body's iterations, else 1.
  constexpr int executions(std::size_t i) const {
    const int r = repeat_of(i);
    return r < 0 ? 1 : repeats[std::size_t(r)].iterations;
  }
  // FLOPs of one run (a repeated body's once per iteration).
  constexpr double total_flops() const {
    double sum = 0;
    for (std::size_t i = 0; i < dispatches.size(); ++i) sum += dispatches[i].flops * executions(i);
    return sum;
  }
  // The slot of an input, weight or output by name; -1 when there is none.
  constexpr int find_slot(std::string_view name, SlotRole role) const {
    for (std::size_t i = 0; i < slots.size(); ++i)
      if (slots[i].role == role && slots[i].name.view() == name) return int(i);
    return -1;
  }
  constexpr bool operator==(const Schedule&) const = default;
};

// A schedule frozen into fixed-size arrays (the result of vkattn::compile<fn>()).
template <std::size_t SlotCount, std::size_t DispatchCount, std::size_t ProgramCount = 0>
struct FrozenSchedule {
  Name graph_name;
  bool fused = true;
  Target target;
  std::array<TensorSlot, SlotCount> slots{};
  std::array<Dispatch, DispatchCount> dispatches{};
  std::array<Expression, ProgramCount> programs{};
  std::int64_t arena_bytes = 0;
  std::int64_t weight_bytes = 0;
  MemoryPlan memory;
  FixedVector<RepeatRange, max_repeats> repeats;

  static constexpr std::size_t dispatch_count() { return DispatchCount; }
  static constexpr std::size_t slot_count() { return SlotCount; }
  constexpr std::size_t executed_dispatch_count() const {
    std::size_t n = DispatchCount;
    for (const RepeatRange& r : repeats) n += std::size_t(r.count) * std::size_t(r.iterations - 1);
    return n;
  }
  constexpr Schedule thaw() const {
    Schedule s;
    s.graph_name = graph_name;
    s.fused = fused;
    s.target = target;
    s.slots.assign(slots.begin(), slots.end());
    s.dispatches.assign(dispatches.begin(), dispatches.end());
    s.programs.assign(programs.begin(), programs.end());
    s.arena_bytes = arena_bytes;
    s.weight_bytes = weight_bytes;
    s.memory = memory;
    s.repeats = repeats;
    return s;
  }
};

}  // namespace vkattn
