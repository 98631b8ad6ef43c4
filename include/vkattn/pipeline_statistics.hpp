#pragma once
// What a device's shader compiler made of each pipeline of a set of schedules, as the
// driver reports it through VK_KHR_pipeline_executable_properties: registers, spills,
// scratch, shared memory, code size (RADV/ACO names them "VGPRs", "Spilled VGPRs",
// "PrivMem VGPRs", "LDS size", ...). Each distinct (shader, element type,
// specialization constants) is compiled once, with the same layouts an Executable uses.
// The context must be made with ContextOptions::pipeline_statistics; no memory is
// allocated and nothing runs, so a device without hardware behind it (RADV with
// RADV_FORCE_FAMILY) serves.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "vkattn/occupancy.hpp"
#include "vkattn/runtime.hpp"

namespace vkattn {

struct DriverStatistic {
  std::string name;         // as the driver spells it: "VGPRs"
  std::string description;
  double value = 0;
};

struct PipelineStatistics {
  Shader shader = Shader::gemm_texel;
  DType element = DType::f32;
  std::vector<std::uint32_t> specialization;
  std::string generated;                  // the generated code it includes ("" for a prebuilt shader)
  std::uint32_t invocations = 0;          // the workgroup (LOCAL_SIZE)
  std::uint32_t declared_shared_bytes = 0;  // what the registry computes from the constants
  std::string config, reason;             // of the first dispatch that uses it
  std::string first_use;                  // "graph (fused, amd) #3 flash_attention ..."
  int uses = 0;                           // dispatches across the schedules
  std::vector<std::string> targets;       // the targets of the schedules that use it
  std::uint32_t subgroup_size = 0;        // of the executable the driver made
  std::vector<DriverStatistic> statistics;
  std::string error;                      // the pipeline did not compile: why

  // The statistic of that name, if the driver reported it.
  std::optional<double> value(std::string_view name) const;
};

// Compiles every distinct pipeline of `schedules` on the context's device and returns
// the driver's statistics for each, in order of first use. `describe[i]` names schedule
// i in first_use. A pipeline that fails to compile is reported with its error rather
// than thrown.
std::vector<PipelineStatistics> pipeline_statistics(Context& context, const std::vector<Schedule>& schedules,
                                                    const std::vector<std::string>& describe = {});

// The compute unit's resources as an AMD driver reports them (VK_AMD_shader_core_properties),
// grouped as workgroups are placed: per WGP on RDNA (2 CUs), per CU before. Empty on
// other devices.
std::optional<ComputeUnitResources> amd_compute_unit(const Context& context);

}  // namespace vkattn
