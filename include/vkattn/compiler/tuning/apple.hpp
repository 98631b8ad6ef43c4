#pragma once
// Apple GPUs through MoltenVK: SIMD groups of 32, 32 KiB of threadgroup memory.
#include "vkattn/compiler/tuning/tuning.hpp"

namespace vkattn::tuning {

inline constexpr VendorTuning apple_tuning{
    .vendor = Vendor::apple,
    .gemm = GemmForm::tiled,
    .gemm_large = {.m = 64, .n = 64, .k = 16, .thread_m = 4, .thread_n = 4},
    .gemm_small = {.m = 16, .n = 64, .k = 16, .thread_m = 1, .thread_n = 4},
    .attention = AttentionForm::tiled,
    .attention_rows = 16,
    .attention_lanes = 4,
    .attention_keys = 32,
    .split_below_workgroups = 64,
    .rows = RowForm::workgroup_per_row,
    .row_invocations = 128,
    .linear_invocations = 256,
};

}  // namespace vkattn::tuning
