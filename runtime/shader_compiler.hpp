#pragma once
// SPIR-V of a kernel template completed by generated code (codegen/render.hpp), made
// when an executable is: the template's embedded source (shaders/embed_sources.cmake)
// with the generated functions as "vkattn_generated.glsl", compiled by glslang
// (Debian's glslang-dev, linked statically). Each result is kept in memory and on disk
// ($XDG_CACHE_HOME/vkattn/spirv or ~/.cache/vkattn/spirv), keyed by a hash of every
// embedded source, the defines and the generated text, so a warm start compiles nothing.
#include <cstdint>
#include <string>
#include <vector>

#include "vkattn/kernels/registry.hpp"
#include "vkattn/shape.hpp"
#include "vkattn/precompiled_kernels.hpp"
#include "vkattn/shader_cache.hpp"

namespace vkattn {

// The SPIR-V of `shader` (f16 storage when element is f16) with `generated` included.
// Throws std::runtime_error with the compiler's message (and the generated source) when
// it does not compile.
std::vector<std::uint32_t> generated_spirv(Shader shader, DType element, const std::string& generated);

// The key of that SPIR-V in every cache: a hash of the embedded sources, the shader, the
// element type and the generated text.
std::uint64_t generated_kernel_key(Shader shader, DType element, const std::string& generated);

}  // namespace vkattn
