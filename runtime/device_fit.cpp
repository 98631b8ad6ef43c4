#include "device_fit.hpp"

#include <string>

#include "vkattn/host_memory.hpp"

#include "kernel_binaries.hpp"

namespace vkattn {

namespace {

std::string bytes_text(std::uint64_t bytes) { return std::to_string(bytes) + " bytes (" + byte_size_text(bytes) + ")"; }

// The device-local heaps' total and the largest one, and one allocation's limit.
void check_memory(const Context::State& context, const Schedule& schedule) {
  const std::string& device = context.info.name;
  std::uint64_t largest_heap = 0;
  for (std::uint32_t i = 0; i < context.memory.memoryHeapCount; ++i)
    if (context.memory.memoryHeaps[i].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT)
      largest_heap = std::max<std::uint64_t>(largest_heap, context.memory.memoryHeaps[i].size);
  const std::uint64_t max_allocation = context.info.max_allocation_bytes;
  const std::pair<const char*, std::int64_t> buffers[] = {
      {"the arena (inputs, intermediates and outputs)", schedule.arena_bytes},
      {"the weights", schedule.weight_bytes}};
  for (const auto& [what, size] : buffers) {
    const std::uint64_t bytes = std::uint64_t(size);
    if (max_allocation > 0 && bytes > max_allocation)
      throw VulkanError(std::string(what) + " of '" + std::string(schedule.graph_name.view()) + "' needs " +
                        bytes_text(bytes) + ", more than one allocation on " + device + " can hold (" +
                        bytes_text(max_allocation) + ", maxMemoryAllocationSize); make the graph smaller");
  }
  const std::uint64_t total = std::uint64_t(schedule.arena_bytes) + std::uint64_t(schedule.weight_bytes);
  if (largest_heap > 0 && total > largest_heap)
    throw VulkanError("'" + std::string(schedule.graph_name.view()) + "' needs " + bytes_text(total) +
                      " of device memory (arena and weights), more than the " + bytes_text(largest_heap) +
                      " device-local heap of " + device + "; make the graph smaller");
}

void check_dispatch(const Context::State& context, const Schedule& schedule, const Dispatch& d) {
  auto label = [](const Dispatch& dispatch) { return std::string(dispatch.label.view()); };
  auto name = [&](int slot) { return std::string(schedule.slots[std::size_t(slot)].name.view()); };
  const VkPhysicalDeviceLimits& limits = context.properties.limits;
  for (int axis = 0; axis < 3; ++axis)
    if (d.workgroups[std::size_t(axis)] > limits.maxComputeWorkGroupCount[axis])
      throw VulkanError("dispatch '" + label(d) + "' needs " + std::to_string(d.workgroups[std::size_t(axis)]) +
                        " workgroups along axis " + std::to_string(axis) + ", more than " + context.info.name +
                        " allows (" + std::to_string(limits.maxComputeWorkGroupCount[axis]) + ")");
  for (int b = 0; b < max_bindings; ++b) {
    int slot = d.slots[std::size_t(b)];
    if (slot < 0) continue;
    std::uint64_t bytes = std::uint64_t(schedule.slots[std::size_t(slot)].bytes);
    if (d.access[std::size_t(b)] == Access::storage && bytes > limits.maxStorageBufferRange)
      throw VulkanError("tensor '" + name(slot) + "' of dispatch '" + label(d) + "' has " + std::to_string(bytes) +
                        " bytes, more than one storage buffer binding of " + context.info.name + " can hold (" +
                        std::to_string(limits.maxStorageBufferRange) + ")");
    const std::uint64_t element = std::uint64_t(storage_bytes(schedule.slots[std::size_t(slot)].element));
    std::uint64_t texels = d.access[std::size_t(b)] == Access::texel_vec4 ? bytes / (4 * element) : bytes / element;
    if (d.access[std::size_t(b)] != Access::storage && texels > limits.maxTexelBufferElements)
      throw VulkanError("tensor '" + name(slot) + "' of dispatch '" + label(d) + "' has " + std::to_string(texels) +
                        " texels, more than one texel buffer of " + context.info.name + " can hold (" +
                        std::to_string(limits.maxTexelBufferElements) + ")");
  }
  if (d.push_constants.size() * 4 > max_push_bytes)
    throw VulkanError("dispatch '" + label(d) + "' has over 128 bytes of push constants");
  // The variant's resources against the device's: a schedule made for another target
  // (compile(graph, targets::nvidia)) can ask for more than this device has.
  const ShaderInfo& shader = shader_info(d.shader);
  const Target& device = context.info.target;
  auto mismatch = [&](const std::string& what) {
    return VulkanError("dispatch '" + label(d) + "' (" + std::string(shader.name) + ", made for target '" +
                       std::string(schedule.target.name.view()) + "') " + what + " on " + context.info.name +
                       "; compile the graph for this device (compile(graph, context.target())) or force the "
                       "target within its limits (vkattn::within_limits_of(target, context.target()))");
  };
  if (d.local_size() > device.max_invocations)
    throw mismatch("needs " + std::to_string(d.local_size()) + " invocations per workgroup, more than the " +
                   std::to_string(device.max_invocations) + " allowed");
  if (d.shared_bytes() > device.shared_memory_bytes)
    throw mismatch("needs " + std::to_string(d.shared_bytes()) + " bytes of shared memory, more than the " +
                   std::to_string(device.shared_memory_bytes) + " available");
  if (shader.subgroup.arithmetic && !device.subgroup_arithmetic)
    throw mismatch("uses subgroup arithmetic, which compute shaders cannot use");
  if (shader.subgroup.shuffle && !device.subgroup_shuffle)
    throw mismatch("uses subgroup shuffles, which compute shaders cannot use");
  // Every binding of the shader's set is declared (unused ones repeat the output).
  std::uint32_t storage = 0, texel = 0;
  for (Descriptor descriptor : shader.descriptors) (descriptor == Descriptor::texel ? texel : storage) += 1;
  if (storage > limits.maxPerStageDescriptorStorageBuffers || storage > limits.maxDescriptorSetStorageBuffers)
    throw VulkanError("kernel " + std::string(shader.name) + " of dispatch '" + label(d) + "' declares " +
                      std::to_string(storage) + " storage buffers, more than " + context.info.name +
                      " allows in one compute stage (" + std::to_string(limits.maxPerStageDescriptorStorageBuffers) +
                      ")");
  if (texel > limits.maxPerStageDescriptorSampledImages || texel > limits.maxDescriptorSetSampledImages)
    throw VulkanError("kernel " + std::string(shader.name) + " of dispatch '" + label(d) + "' declares " +
                      std::to_string(texel) + " texel buffers, more than " + context.info.name +
                      " allows in one compute stage (" + std::to_string(limits.maxPerStageDescriptorSampledImages) +
                      ")");
  if (d.element == DType::f16 && !context.f16_storage_enabled)
    throw VulkanError("dispatch '" + label(d) + "' reads and writes f16 tensors, but " + context.info.name +
                      " has no 16-bit storage buffer access (storageBuffer16BitAccess); compile the graph with "
                      "f32 values and without f16 storage");
}

}  // namespace

void check_fits_device(const Context::State& context, const Schedule& schedule) {
  check_memory(context, schedule);
  for (const Dispatch& d : schedule.dispatches) check_dispatch(context, schedule, d);
}

void Context::check_fits(const Schedule& schedule) const { check_fits_device(*state_, schedule); }

}  // namespace vkattn
