#pragma once
// The SPIR-V of every kernel in shaders/, compiled at build time and embedded.
#include <cstdint>
#include <span>

#include "vkattn/schedule.hpp"

namespace vkattn {
std::span<const std::uint32_t> kernel_spirv(Kernel kernel);
}
