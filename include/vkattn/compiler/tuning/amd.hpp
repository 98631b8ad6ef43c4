#pragma once
// AMD (RDNA and CDNA through RADV or AMDVLK): wavefronts of 32 or 64 (the driver picks),
// 64 KiB of LDS per workgroup. 256-invocation GEMM workgroups are four wave64s; the
// attention workgroup of 128 invocations is two.
#include "vkattn/compiler/tuning/tuning.hpp"

namespace vkattn::tuning {

inline constexpr VendorTuning amd_tuning{
    .vendor = Vendor::amd,
    .gemm = GemmForm::tiled,
    .gemm_large = {.m = 128, .n = 128, .k = 16, .thread_m = 8, .thread_n = 8},
    .gemm_small = {.m = 32, .n = 128, .k = 16, .thread_m = 2, .thread_n = 8},
    .attention = AttentionForm::tiled,
    .attention_rows = 32,
    .attention_lanes = 4,
    .attention_keys = 64,
    // From ACO's statistics alone (docs/gpu-compile.md, tools/gpu_compile/run.sh): with
    // the whole 64 KiB, attention at head dims 96-256 ran 1 wave64 per SIMD on RDNA3
    // (0.5 in the 64-invocation decoding form), LDS-bound, half the SIMDs idle. 256 bytes
    // per invocation (32 KiB at 128 invocations, 16 KiB at 64) fits 4 or 8 workgroups
    // in a WGP's 128 KiB: 2 waves per SIMD. Shorter key blocks mean more barriers per
    // key; no GPU run has yet weighed that against the occupancy.
    .attention_shared_per_invocation = 256,
    .attention_shared_why = "2 waves/SIMD RDNA3",
    .split_below_workgroups = 192,
    .rows = RowForm::workgroup_per_row,
    .row_invocations = 256,
    .linear_invocations = 256,
};

}  // namespace vkattn::tuning
