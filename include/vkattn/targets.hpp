#pragma once
// Named targets, for compiling ahead of time without a device:
//   constexpr auto plan = vkattn::compile<layer, vkattn::targets::nvidia>();
// Each describes the class of device as its Vulkan driver reports it; the runtime's
// Context::target() describes the device at hand. `generic` assumes only what every
// Vulkan 1.1 device guarantees, plus subgroup arithmetic and shuffles.
#include <array>
#include <string_view>

#include "vkattn/target.hpp"

namespace vkattn::targets {

inline constexpr Target llvmpipe{
    .name = "llvmpipe", .vendor = Vendor::mesa_llvmpipe, .device_type = DeviceType::cpu,
    .subgroup_min = 8, .subgroup_max = 8, .subgroup_size_control = true,
    .subgroup_arithmetic = true, .subgroup_shuffle = true,
    .shared_memory_bytes = 32768, .max_invocations = 1024,
    .storage_16bit = true, .f16_arithmetic = true, .cooperative_matrix = false,
    .max_texel_buffer_elements = 134217728, .max_storage_buffer_range = 134217728};

inline constexpr Target nvidia{
    .name = "nvidia", .vendor = Vendor::nvidia, .device_type = DeviceType::discrete,
    .subgroup_min = 32, .subgroup_max = 32, .subgroup_size_control = true,
    .subgroup_arithmetic = true, .subgroup_shuffle = true,
    .shared_memory_bytes = 49152, .max_invocations = 1024,
    .storage_16bit = true, .f16_arithmetic = true, .cooperative_matrix = true,
    .max_texel_buffer_elements = 134217728, .max_storage_buffer_range = 4294967295u};

inline constexpr Target amd{
    .name = "amd", .vendor = Vendor::amd, .device_type = DeviceType::discrete,
    .subgroup_min = 32, .subgroup_max = 64, .subgroup_size_control = true,
    .subgroup_arithmetic = true, .subgroup_shuffle = true,
    .shared_memory_bytes = 65536, .max_invocations = 1024,
    .storage_16bit = true, .f16_arithmetic = true, .cooperative_matrix = false,
    .max_texel_buffer_elements = 4294967295u, .max_storage_buffer_range = 4294967295u};

inline constexpr Target intel{
    .name = "intel", .vendor = Vendor::intel, .device_type = DeviceType::integrated,
    .subgroup_min = 8, .subgroup_max = 32, .subgroup_size_control = true,
    .subgroup_arithmetic = true, .subgroup_shuffle = true,
    .shared_memory_bytes = 65536, .max_invocations = 1024,
    .storage_16bit = true, .f16_arithmetic = true, .cooperative_matrix = false,
    .max_texel_buffer_elements = 134217728, .max_storage_buffer_range = 1073741824};

inline constexpr Target apple{
    .name = "apple", .vendor = Vendor::apple, .device_type = DeviceType::integrated,
    .subgroup_min = 32, .subgroup_max = 32, .subgroup_size_control = false,
    .subgroup_arithmetic = true, .subgroup_shuffle = true,
    .shared_memory_bytes = 32768, .max_invocations = 1024,
    .storage_16bit = true, .f16_arithmetic = true, .cooperative_matrix = false,
    .max_texel_buffer_elements = 67108864, .max_storage_buffer_range = 1073741824};

inline constexpr Target generic{
    .name = "generic", .vendor = Vendor::other, .device_type = DeviceType::other,
    .subgroup_min = 4, .subgroup_max = 128, .subgroup_size_control = false,
    .subgroup_arithmetic = true, .subgroup_shuffle = true,
    .shared_memory_bytes = 16384, .max_invocations = 128,
    .storage_16bit = false, .f16_arithmetic = false, .cooperative_matrix = false,
    .max_texel_buffer_elements = 65536, .max_storage_buffer_range = 134217728};

inline constexpr std::array<const Target*, 6> all{&llvmpipe, &nvidia, &amd, &intel, &apple, &generic};

// The named target, or nullptr.
constexpr const Target* find(std::string_view name) {
  for (const Target* t : all)
    if (t->name.view() == name) return t;
  return nullptr;
}

// "llvmpipe, nvidia, amd, intel, apple, generic"
constexpr std::string_view names_text = "llvmpipe, nvidia, amd, intel, apple, generic";

}  // namespace vkattn::targets
