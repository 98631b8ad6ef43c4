#pragma once
// How many workgroups of one pipeline a GPU's compute unit holds at once, and so how
// many waves each SIMD has to hide latency with, from what the shader compiler reported
// (registers, shared memory, wave size) and the unit's resources. On AMD: a work-group
// processor (WGP: 4 SIMD32s, 128 KiB LDS) on RDNA, a compute unit (4 SIMD16s, 64 KiB
// LDS) on GFX9. Whole workgroups are counted: a workgroup's waves all reside on one
// WGP/CU at once, so
//   workgroups = min(LDS / workgroup LDS, waves by registers * SIMDs / waves per workgroup,
//                    wave slots * SIMDs / waves per workgroup)
//   waves per SIMD = workgroups * waves per workgroup / SIMDs
// where a wave's registers are rounded up to the allocation granule. The register file
// and granule are given for wave64; a wave32 register is half as wide, so wave32 gets
// twice both. (RADV's own "Subgroups per SIMD" rounds LDS per SIMD and counts a wave64
// twice on RDNA, so it overstates occupancy.)
#include <cstdint>
#include <string_view>

namespace vkattn {

struct ComputeUnitResources {
  std::uint32_t simds = 4;                    // per WGP (RDNA) or CU (GFX9)
  std::uint32_t shared_bytes = 128 * 1024;    // LDS per WGP or CU
  std::uint32_t wave_slots_per_simd = 16;     // most waves one SIMD holds
  std::uint32_t wave64_vgprs_per_simd = 512;  // register file, in wave64 registers
  std::uint32_t wave64_vgpr_granule = 8;      // allocation granule, in wave64 registers
};

struct PipelineResources {
  std::uint32_t invocations = 64;   // the workgroup
  std::uint32_t wave_size = 64;     // the subgroup size the compiler chose
  std::uint32_t vgprs = 0;          // per invocation, as the compiler allocated them
  std::uint32_t shared_bytes = 0;   // per workgroup
};

struct Occupancy {
  std::uint32_t workgroups = 0;     // per WGP/CU
  std::uint32_t waves_per_workgroup = 0;
  double waves_per_simd = 0;
  std::string_view limit;           // "LDS", "VGPRs" or "wave slots": what stops one more workgroup
};

constexpr Occupancy occupancy(const ComputeUnitResources& unit, const PipelineResources& p) {
  Occupancy o;
  const std::uint32_t wave = p.wave_size == 0 ? 64 : p.wave_size;
  o.waves_per_workgroup = (p.invocations + wave - 1) / wave;
  if (o.waves_per_workgroup == 0) o.waves_per_workgroup = 1;
  const std::uint32_t scale = wave <= 32 ? 2 : 1;  // wave32 registers are half as wide
  const std::uint32_t file = unit.wave64_vgprs_per_simd * scale;
  const std::uint32_t granule = (unit.wave64_vgpr_granule == 0 ? 1 : unit.wave64_vgpr_granule) * scale;
  const std::uint32_t vgprs = p.vgprs == 0 ? granule : (p.vgprs + granule - 1) / granule * granule;
  std::uint32_t waves_by_vgprs = file / vgprs;
  if (waves_by_vgprs > unit.wave_slots_per_simd) waves_by_vgprs = unit.wave_slots_per_simd;
  const std::uint32_t by_vgprs = waves_by_vgprs * unit.simds / o.waves_per_workgroup;
  const std::uint32_t by_slots = unit.wave_slots_per_simd * unit.simds / o.waves_per_workgroup;
  const std::uint32_t by_lds = p.shared_bytes == 0 ? by_slots : unit.shared_bytes / p.shared_bytes;
  o.workgroups = by_slots < by_vgprs ? by_slots : by_vgprs;
  if (by_lds < o.workgroups) o.workgroups = by_lds;
  o.limit = p.shared_bytes != 0 && o.workgroups == by_lds                          ? "LDS"
            : o.workgroups == by_vgprs && waves_by_vgprs < unit.wave_slots_per_simd ? "VGPRs"
                                                                                   : "wave slots";
  o.waves_per_simd = double(o.workgroups) * o.waves_per_workgroup / unit.simds;
  return o;
}

}  // namespace vkattn
