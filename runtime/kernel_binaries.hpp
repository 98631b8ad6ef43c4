#pragma once
// The SPIR-V of every shader in shaders/, compiled at build time and embedded, once
// for f32 storage and once for f16 storage (shaders/storage.glsl).
#include <cstdint>
#include <span>

#include "vkattn/kernels/registry.hpp"

namespace vkattn {
std::span<const std::uint32_t> shader_spirv(Shader shader, bool f16);
}
