#pragma once
// The SPIR-V of every shader in shaders/, compiled at build time and embedded.
#include <cstdint>
#include <span>

#include "vkattn/kernels/registry.hpp"

namespace vkattn {
std::span<const std::uint32_t> shader_spirv(Shader shader);
}
