#pragma once
// What the compiler compiles for: the facts of a device that decide how its kernels are
// shaped. A Target is plain data (a literal type), so a schedule can be compiled for a
// named target while the C++ compiles (vkattn/targets.hpp), or for the device at hand
// at run time (Context::target()). Passes 1-7 never read it; pass 8 (schedule) picks
// every dispatch's kernel variant and tiles from it (compiler/tuning/).
#include <cstdint>
#include <string_view>

#include "vkattn/text.hpp"

namespace vkattn {

enum class Vendor : std::uint8_t { nvidia, amd, intel, apple, mesa_llvmpipe, other };
inline constexpr int vendor_count = int(Vendor::other) + 1;

constexpr std::string_view vendor_name(Vendor vendor) {
  switch (vendor) {
    case Vendor::nvidia: return "nvidia";
    case Vendor::amd: return "amd";
    case Vendor::intel: return "intel";
    case Vendor::apple: return "apple";
    case Vendor::mesa_llvmpipe: return "llvmpipe";
    case Vendor::other: return "other";
  }
  return "?";
}

// In order of preference when a device is picked by default.
enum class DeviceType : std::uint8_t { discrete, integrated, virtual_gpu, cpu, other };

constexpr std::string_view device_type_name(DeviceType type) {
  switch (type) {
    case DeviceType::discrete: return "discrete GPU";
    case DeviceType::integrated: return "integrated GPU";
    case DeviceType::virtual_gpu: return "virtual GPU";
    case DeviceType::cpu: return "CPU";
    case DeviceType::other: return "other";
  }
  return "?";
}

using TargetName = FixedText<64>;

struct Target {
  TargetName name;  // "nvidia", or the device's name when derived from one
  Vendor vendor = Vendor::other;
  DeviceType device_type = DeviceType::other;
  // Subgroup sizes the device may run a compute shader with; a kernel is correct for
  // any size in between (the kernels never assume one).
  std::uint32_t subgroup_min = 1, subgroup_max = 1;
  bool subgroup_size_control = false;  // a size can be required per pipeline
  // Subgroup operations a compute shader may use (VkSubgroupFeatureFlags: arithmetic,
  // shuffle, ...).
  bool subgroup_arithmetic = false, subgroup_shuffle = false;
  std::uint32_t shared_memory_bytes = 16384;  // per workgroup
  std::uint32_t max_invocations = 128;        // per workgroup
  bool storage_16bit = false;
  bool f16_arithmetic = false;
  bool cooperative_matrix = false;  // VK_NV_cooperative_matrix or VK_KHR_cooperative_matrix reported
  std::uint64_t max_texel_buffer_elements = 65536;
  std::uint64_t max_storage_buffer_range = 134217728;

  constexpr bool operator==(const Target&) const = default;
};

// The named target's choices under the resources of `device`: every limit is the
// smaller of the two, every feature needs both, and the subgroup sizes are the device's, so a schedule made from the result
// runs on `device` with the named target's kernel variants (this is how lavapipe
// proves the GPU variants correct). The vendor, and so the tuning table, is the named
// target's.
constexpr Target within_limits_of(Target named, const Target& device) {
  auto smaller = [](auto a, auto b) { return a < b ? a : b; };
  // The device decides the subgroup size a pipeline runs with.
  named.subgroup_min = device.subgroup_min;
  named.subgroup_max = device.subgroup_max;
  named.subgroup_size_control = named.subgroup_size_control && device.subgroup_size_control;
  named.subgroup_arithmetic = named.subgroup_arithmetic && device.subgroup_arithmetic;
  named.subgroup_shuffle = named.subgroup_shuffle && device.subgroup_shuffle;
  named.shared_memory_bytes = smaller(named.shared_memory_bytes, device.shared_memory_bytes);
  named.max_invocations = smaller(named.max_invocations, device.max_invocations);
  named.storage_16bit = named.storage_16bit && device.storage_16bit;
  named.f16_arithmetic = named.f16_arithmetic && device.f16_arithmetic;
  named.cooperative_matrix = named.cooperative_matrix && device.cooperative_matrix;
  named.max_texel_buffer_elements = smaller(named.max_texel_buffer_elements, device.max_texel_buffer_elements);
  named.max_storage_buffer_range = smaller(named.max_storage_buffer_range, device.max_storage_buffer_range);
  return named;
}

}  // namespace vkattn
