#pragma once
// Intel (Xe through ANV): SIMD8, 16 or 32 chosen per pipeline by the driver, 64 KiB of
// shared local memory, fewer registers per lane than NVIDIA or AMD: smaller register
// tiles (4 x 4) and 64 x 64 GEMM tiles.
#include "vkattn/compiler/tuning/tuning.hpp"

namespace vkattn::tuning {

inline constexpr VendorTuning intel_tuning{
    .vendor = Vendor::intel,
    .gemm = GemmForm::tiled,
    .gemm_large = {.m = 64, .n = 64, .k = 16, .thread_m = 4, .thread_n = 4},
    .gemm_small = {.m = 16, .n = 64, .k = 16, .thread_m = 1, .thread_n = 4},
    .attention = AttentionForm::tiled,
    .attention_rows = 16,
    .attention_lanes = 4,
    .attention_keys = 32,
    .split_below_workgroups = 128,
    .rows = RowForm::workgroup_per_row,
    .row_invocations = 128,
    .linear_invocations = 128,
};

}  // namespace vkattn::tuning
