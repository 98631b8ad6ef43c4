#pragma once
// Mesa's llvmpipe (lavapipe), a CPU: each 8 consecutive invocations are the SIMD lanes
// of one thread. Texel-buffer loads beat SSBO loads 2-2.5x, and shared memory, barriers
// and subgroup operations are slow (shared/notes/lavapipe.md has the measurements), so
// every kernel takes the texel / invocation-per-row form with big register tiles. Long
// attention walks keys in chunks that stay cached (one barrier per chunk); attention of
// few queries over many keys gives each invocation a range of keys instead.
#include "vkattn/compiler/tuning/tuning.hpp"

namespace vkattn::tuning {

inline constexpr VendorTuning llvmpipe_tuning{
    .vendor = Vendor::mesa_llvmpipe,
    .gemm = GemmForm::texel,
    .gemm_texel_rows = 32,
    .attention = AttentionForm::texel,
    .attention_rows = 4,
    // 512 keys of K and V at head width 64 are 256 KiB, which stay in a core's L2 while
    // the 8 SIMD chunks of a 64-invocation workgroup read them in turn.
    .attention_key_chunk = 512,
    .attention_texel_invocations = 64,
    // Decoding: one query per head leaves the SIMD lanes idle; 64 keys per invocation
    // spread a long cache over every lane of both cores.
    .attention_texel_split_keys = 256,
    .rows = RowForm::invocation_per_row,
    .row_invocations = 64,
    .linear_invocations = 64,
};

}  // namespace vkattn::tuning
