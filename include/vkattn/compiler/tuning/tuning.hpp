#pragma once
// The shape of one vendor's tuning table: which form of each kernel its GPUs want and
// with which tiles. Each vendor's table is its own file beside this one; choose.hpp
// reads the table of a target's vendor, applies the driver quirks (quirks.hpp) and fits
// the tiles to the target's limits.
#include <cstdint>
#include <string_view>

#include "vkattn/target.hpp"

namespace vkattn::tuning {

// gemm.texel: register tiles of rows x 8 columns per invocation, A and B read through
// texel buffers, no shared memory (what a CPU device wants). gemm.tiled: workgroup tiles
// staged through shared memory (what a GPU wants).
enum class GemmForm : std::uint8_t { texel, tiled };
enum class AttentionForm : std::uint8_t { texel, tiled };
enum class RowForm : std::uint8_t { invocation_per_row, workgroup_per_row };

struct GemmTiles {
  std::uint32_t m = 64, n = 64, k = 16;         // the workgroup's block of C, and its k step
  std::uint32_t thread_m = 4, thread_n = 4;     // each invocation's block of C
  constexpr std::uint32_t invocations() const { return (m / thread_m) * (n / thread_n); }
  constexpr std::uint32_t shared_bytes() const { return 4u * k * (m + n); }
};

struct VendorTuning {
  Vendor vendor = Vendor::other;
  GemmForm gemm = GemmForm::tiled;
  GemmTiles gemm_large{};               // products of 64 rows or more
  GemmTiles gemm_small{};               // fewer rows (decoding, small batches)
  std::uint32_t gemm_texel_rows = 32;   // gemm.texel: rows per invocation (8 below 32 rows)
  AttentionForm attention = AttentionForm::tiled;
  std::uint32_t attention_rows = 16;    // tiled: queries per workgroup; texel: per invocation
  std::uint32_t attention_lanes = 4;    // tiled: invocations per query (a power of 2, at most 8)
  std::uint32_t attention_keys = 32;    // tiled: most keys per shared-memory block
  // tiled: shared memory the K/V blocks may take per invocation of the workgroup, so that
  // enough workgroups fit a compute unit at once (0: as much as the target has); `why`
  // says what it keeps, for the listing.
  std::uint32_t attention_shared_per_invocation = 0;
  std::string_view attention_shared_why{};
  // texel: with more keys than twice this, a workgroup of attention_texel_invocations
  // walks the keys in chunks of this many together (0: never).
  std::uint32_t attention_key_chunk = 0;
  std::uint32_t attention_texel_invocations = 8;
  // texel, few queries (decoding): each invocation takes this many keys of one block of
  // queries and the partial results are combined (0: never split).
  std::uint32_t attention_texel_split_keys = 0;
  // Split the keys of few-query attention (decoding) when it would launch fewer
  // workgroups than this: about two per compute unit.
  std::uint32_t split_below_workgroups = 0;
  RowForm rows = RowForm::workgroup_per_row;
  std::uint32_t row_invocations = 128;  // layer_norm, softmax
  std::uint32_t linear_invocations = 256;  // add, elementwise, mask, gather, attention_combine
};

}  // namespace vkattn::tuning
