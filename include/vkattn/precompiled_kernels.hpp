#pragma once
// Generated kernels compiled to SPIR-V while an application builds, so a deployed
// program compiles no shader at run time. The CMake function
// vkattn_precompile_kernels(TARGET GENERATOR source.cpp) builds the generator (whose
// main calls write_precompiled_kernels with the application's schedules, such as
// compile<fn>() results), runs it, and adds the C++ source it writes to TARGET; that
// source registers its SPIR-V when the program starts. An executable then finds each
// kernel there before the on-disk cache or glslang (ShaderCacheStats::precompiled).
// Kernels of other schedules still compile at run time as before.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "vkattn/schedule.hpp"

namespace vkattn {

struct PrecompiledKernel {
  std::uint64_t key = 0;  // of its template, element type and generated source
  const std::uint32_t* words = nullptr;
  std::size_t size = 0;   // in 32-bit words
};

// Makes `kernels` (static storage: they are kept by reference) found before any other cache.
void register_precompiled_kernels(std::span<const PrecompiledKernel> kernels);

// C++ source holding the SPIR-V of every generated kernel the schedules' dispatches run
// (each compiled now, or found in the caches), registered at static initialisation.
std::string precompiled_kernels_source(std::span<const Schedule> schedules);

// A generator's main: writes precompiled_kernels_source(schedules) to argv[1] (whole, or
// not at all). Returns 0, or prints the error and returns 1 (2 without a path).
int write_precompiled_kernels(int argc, char** argv, std::span<const Schedule> schedules);

}  // namespace vkattn
