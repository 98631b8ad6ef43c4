#pragma once
// Any other Vulkan device: shapes that fit the limits every Vulkan 1.1 device
// guarantees (16 KiB of shared memory, 128 invocations per workgroup) and are a
// reasonable start on a GPU.
#include "vkattn/compiler/tuning/tuning.hpp"

namespace vkattn::tuning {

inline constexpr VendorTuning generic_tuning{
    .vendor = Vendor::other,
    .gemm = GemmForm::tiled,
    .gemm_large = {.m = 64, .n = 32, .k = 16, .thread_m = 4, .thread_n = 4},
    .gemm_small = {.m = 16, .n = 32, .k = 16, .thread_m = 1, .thread_n = 4},
    .attention = AttentionForm::tiled,
    .attention_rows = 16,
    .attention_lanes = 4,
    .attention_keys = 16,
    .split_below_workgroups = 64,
    .rows = RowForm::workgroup_per_row,
    .row_invocations = 128,
    .linear_invocations = 128,
};

}  // namespace vkattn::tuning
