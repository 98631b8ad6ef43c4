#pragma once
// The Schedule: what the compiler produces and the runtime executes. Plain data,
// independent of any device: tensor slots in two buffers (the arena for inputs,
// intermediates and outputs; the weight buffer), and an ordered list of dispatches of
// the embedded kernels with their bindings, constants and workgroup counts.
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "vkattn/graph.hpp"

namespace vkattn {

// The kernels in shaders/, one per file. Local sizes are fixed in each shader.
enum class Kernel : std::uint8_t { matmul, add, elementwise, gather, mask, softmax, layer_norm };
inline constexpr int kernel_count = int(Kernel::layer_norm) + 1;

std::string_view kernel_name(Kernel kernel);

enum class Storage : std::uint8_t { arena, weights };

enum class SlotRole : std::uint8_t { input, weight, intermediate, output };

// Where one graph value lives. Device tensors are f32 (f16 graph values are widened
// to f32 on upload) or i32; every slot starts at a multiple of slot_alignment bytes,
// which satisfies every device's storage-buffer offset alignment (at most 256).
struct TensorSlot {
  std::string name;
  ValueId value = no_value;
  Shape shape;
  DType dtype = DType::f32;  // the graph's dtype
  SlotRole role = SlotRole::intermediate;
  Storage storage = Storage::arena;
  std::int64_t offset = 0;  // bytes
  std::int64_t bytes = 0;
};

inline constexpr std::int64_t slot_alignment = 256;
inline constexpr std::int64_t device_element_bytes = 4;

// Binding 0 is the output; 1..3 are operands. -1: unused.
inline constexpr int max_bindings = 4;

struct Dispatch {
  Kernel kernel = Kernel::elementwise;
  std::string label;                            // e.g. "matmul self_attn.scores"
  std::array<int, max_bindings> slots{-1, -1, -1, -1};
  std::vector<std::uint32_t> push_constants;    // at most 32 words
  std::vector<std::uint32_t> specialization;    // constant_id i = specialization[i]
  std::array<std::uint32_t, 3> workgroups{1, 1, 1};
  std::vector<ValueId> covers;                  // the graph ops this dispatch computes
  double flops = 0;
  double bytes = 0;                             // bytes read and written
};

struct Schedule {
  std::string graph_name;
  std::vector<TensorSlot> slots;
  std::vector<Dispatch> dispatches;
  std::int64_t arena_bytes = 0;
  std::int64_t weight_bytes = 0;

  // The slot of an input, weight or output by name; -1 when there is none.
  int find_slot(std::string_view name, SlotRole role) const;
};

// One dispatch per primitive op; every value has its own arena slot. The reference
// point for fused schedules and the path that runs every graph the DSL can express.
Schedule lower_unfused(const Graph& graph);

}  // namespace vkattn
