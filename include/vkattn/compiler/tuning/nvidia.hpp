#pragma once
// NVIDIA (Turing to Hopper): warps of 32, 48 KiB of shared memory per workgroup through
// Vulkan, 64K 32-bit registers per SM. Big GEMM tiles (128 x 128, 8 x 8 per invocation)
// keep the FMA units fed from registers; attention gives each query 4 lanes so a warp
// covers 8 queries and K/V blocks are shared by 32 queries.
#include "vkattn/compiler/tuning/tuning.hpp"

namespace vkattn::tuning {

inline constexpr VendorTuning nvidia_tuning{
    .vendor = Vendor::nvidia,
    .gemm = GemmForm::tiled,
    .gemm_large = {.m = 128, .n = 128, .k = 16, .thread_m = 8, .thread_n = 8},
    .gemm_small = {.m = 32, .n = 128, .k = 16, .thread_m = 2, .thread_n = 8},
    .attention = AttentionForm::tiled,
    .attention_rows = 32,
    .attention_lanes = 4,
    .attention_keys = 64,
    .split_below_workgroups = 264,  // 132 SMs on an H100 / H200
    .rows = RowForm::workgroup_per_row,
    .row_invocations = 128,
    .linear_invocations = 256,
};

}  // namespace vkattn::tuning
