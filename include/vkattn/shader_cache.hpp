#pragma once
// What the compiler of generated kernels did in this process (runtime/shader_compiler.cpp):
// each generated kernel is compiled to SPIR-V once, then found in memory or on disk.
#include <cstdint>

namespace vkattn {

struct ShaderCacheStats {
  std::uint64_t compiled = 0;     // compiled by glslang
  std::uint64_t from_disk = 0;    // read from the on-disk cache
  std::uint64_t from_memory = 0;  // already made in this process
  std::uint64_t precompiled = 0;  // SPIR-V made while the application built (precompiled_kernels.hpp)
  double compile_ms = 0;          // host time spent compiling
};

ShaderCacheStats shader_cache_stats();

}  // namespace vkattn
