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
    .split_below_workgroups = 192,
    .rows = RowForm::workgroup_per_row,
    .row_invocations = 256,
    .linear_invocations = 256,
};

}  // namespace vkattn::tuning
