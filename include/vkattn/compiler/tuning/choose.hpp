#pragma once
// Picks each kernel's form and configuration for a target: the vendor's table
// (<vendor>.hpp), the driver quirks (quirks.hpp), then the target's limits (shared
// memory, invocations per workgroup, subgroup operations). Every choice comes with a
// short reason that the listing prints ("nvidia: subgroup 32, 48 KiB shared").
#include "vkattn/compiler/tuning/amd.hpp"
#include "vkattn/compiler/tuning/apple.hpp"
#include "vkattn/compiler/tuning/generic.hpp"
#include "vkattn/compiler/tuning/intel.hpp"
#include "vkattn/compiler/tuning/llvmpipe.hpp"
#include "vkattn/compiler/tuning/nvidia.hpp"
#include "vkattn/compiler/tuning/quirks.hpp"
#include "vkattn/kernels/registry.hpp"

namespace vkattn::tuning {

using Reason = FixedText<96>;

constexpr const VendorTuning& vendor_tuning(Vendor vendor) {
  switch (vendor) {
    case Vendor::nvidia: return nvidia_tuning;
    case Vendor::amd: return amd_tuning;
    case Vendor::intel: return intel_tuning;
    case Vendor::apple: return apple_tuning;
    case Vendor::mesa_llvmpipe: return llvmpipe_tuning;
    case Vendor::other: return generic_tuning;
  }
  return generic_tuning;
}

// "nvidia: subgroup 32, 48 KiB shared"
constexpr Reason target_reason(const Target& target) {
  Reason r;
  r.append(vendor_name(target.vendor)).append(": subgroup ");
  r.append(std::int64_t(target.subgroup_min));
  if (target.subgroup_max != target.subgroup_min) r.append("-").append(std::int64_t(target.subgroup_max));
  r.append(", ").append(std::int64_t(target.shared_memory_bytes / 1024)).append(" KiB shared");
  return r;
}

constexpr std::uint32_t largest_power_of_2_at_most(std::uint32_t v) {
  std::uint32_t p = 1;
  while (p * 2 <= v) p *= 2;
  return p;
}

struct GemmChoice {
  Shader shader = Shader::gemm_texel;
  GemmTiles tiles;                // gemm.tiled
  std::uint32_t texel_rows = 32;  // gemm.texel
  Reason reason;
};

constexpr GemmChoice choose_gemm(const Target& target, std::int64_t m) {
  const VendorTuning& t = vendor_tuning(target.vendor);
  GemmChoice c;
  c.reason = target_reason(target);
  if (t.gemm == GemmForm::texel) {
    c.shader = Shader::gemm_texel;
    c.texel_rows = m >= 32 ? t.gemm_texel_rows : 8;
    return c;
  }
  c.shader = Shader::gemm_tiled;
  c.tiles = m >= 64 ? t.gemm_large : t.gemm_small;
  if (m < 64) c.reason.append(", few rows");
  // Fit the target: halve the block (n first) until its tiles and invocations fit.
  while ((c.tiles.shared_bytes() > target.shared_memory_bytes || c.tiles.invocations() > target.max_invocations) &&
         (c.tiles.n > 4 * c.tiles.thread_n || c.tiles.m > c.tiles.thread_m)) {
    if (c.tiles.n >= c.tiles.m && c.tiles.n > 4 * c.tiles.thread_n) c.tiles.n /= 2;
    else c.tiles.m /= 2;
  }
  return c;
}

inline constexpr std::int64_t max_split_queries = 16;

struct AttentionChoice {
  Shader shader = Shader::flash_attention_texel;
  std::uint32_t rows = 4;    // texel: per invocation; tiled: per workgroup
  std::uint32_t lanes = 1;   // tiled: invocations per query
  std::uint32_t keys = 32;   // tiled: keys per shared-memory block; texel split: keys per split
  std::uint32_t splits = 1;  // key ranges computed apart, then combined
  std::uint32_t invocations = 8;  // texel: the workgroup
  std::uint32_t key_chunk = 0;    // texel: keys walked together between barriers (0: none)
  bool grouped = false;  // the query heads of a KV head share an invocation (texel, split) or workgroup (tiled)
  Reason reason;
};

// batch_heads: batch * heads; the head and value widths decide how many keys fit in
// shared memory; kv_group: query heads per key/value head.
constexpr AttentionChoice choose_attention(const Target& target, std::int64_t batch_heads, std::int64_t queries,
                                           std::int64_t keys, std::int64_t head_dim, std::int64_t value_dim,
                                           std::int64_t kv_group = 1) {
  const VendorTuning& t = vendor_tuning(target.vendor);
  AttentionChoice c;
  c.reason = target_reason(target);
  if (t.attention == AttentionForm::texel || !target.subgroup_shuffle) {
    if (t.attention != AttentionForm::texel) c.reason.append(", no subgroup shuffle");
    c.shader = Shader::flash_attention_texel;
    c.rows = t.attention == AttentionForm::texel ? t.attention_rows : 4;
    // Few queries over many keys: ranges of keys per invocation, combined after.
    const std::uint32_t split_keys = t.attention == AttentionForm::texel ? t.attention_texel_split_keys : 0;
    if (split_keys > 0 && queries <= max_split_queries && keys >= 4 * std::int64_t(split_keys)) {
      c.splits = std::uint32_t((keys + split_keys - 1) / split_keys);
      c.keys = split_keys;
      // Grouped-query attention: an invocation's rows are the group's heads, so each key
      // read serves every query head that shares it.
      c.grouped = kv_group > 1;
      const std::int64_t rows = queries * (c.grouped ? kv_group : 1);
      if (rows < std::int64_t(c.rows)) c.rows = std::uint32_t(rows < 1 ? 1 : rows);  // no idle rows
      c.invocations = t.attention_texel_invocations <= target.max_invocations ? t.attention_texel_invocations : 8;
      c.reason.append(", keys split for few queries");
      if (c.grouped) c.reason.append(", query heads of a KV head read it once");
      return c;
    }
    if (t.attention_key_chunk > 0 && keys >= 2 * std::int64_t(t.attention_key_chunk) &&
        t.attention_texel_invocations <= target.max_invocations) {
      c.key_chunk = t.attention_key_chunk;
      c.invocations = t.attention_texel_invocations;
      c.reason.append(", long keys walked in cached chunks");
    }
    return c;
  }
  c.shader = Shader::flash_attention_tiled;
  c.lanes = t.attention_lanes;
  for (const Quirk& q : quirks)
    if (q.vendor == target.vendor && q.max_attention_lanes != 0 && c.lanes > q.max_attention_lanes)
      c.lanes = q.max_attention_lanes;
  // A query's lanes must lie in one subgroup whatever size the device picks.
  if (c.lanes > target.subgroup_min) c.lanes = largest_power_of_2_at_most(target.subgroup_min);
  c.rows = t.attention_rows;
  while (c.rows * c.lanes > target.max_invocations && c.rows > 1) c.rows /= 2;
  // Few queries with grouped heads: a workgroup's rows are (query, head) pairs of one KV
  // head's query heads, so each staged block of K and V serves the whole group.
  c.grouped = kv_group > 1 && queries <= max_split_queries;
  const std::int64_t rows = queries * (c.grouped ? kv_group : 1), row_heads = batch_heads / (c.grouped ? kv_group : 1);
  // Fewer rows than a workgroup holds: a smaller workgroup (at least one subgroup).
  while (c.rows > 1 && std::int64_t(c.rows / 2) >= rows && (c.rows / 2) * c.lanes >= target.subgroup_max) c.rows /= 2;
  const std::uint32_t bytes_per_key = 16u * std::uint32_t((head_dim + 3) / 4 + (value_dim + 3) / 4);
  auto keys_within = [&](std::uint32_t bytes) {
    const std::uint32_t fit = bytes / bytes_per_key;
    return largest_power_of_2_at_most(fit < t.attention_keys ? (fit == 0 ? 1 : fit) : t.attention_keys);
  };
  c.keys = keys_within(target.shared_memory_bytes);
  // The vendor's budget per invocation keeps several workgroups resident per compute unit.
  const std::uint32_t budget = t.attention_shared_per_invocation * c.rows * c.lanes;
  if (budget > 0 && budget < target.shared_memory_bytes && keys_within(budget) < c.keys) {
    c.keys = keys_within(budget);
    c.reason.append(", LDS ").append(std::int64_t(c.keys * bytes_per_key / 1024)).append("K: ");
    c.reason.append(t.attention_shared_why);
  }
  // Few queries (decoding, at most max_split_queries): split the keys so that the
  // launch still fills the device.
  const std::int64_t blocks = (rows + c.rows - 1) / c.rows;
  const std::int64_t workgroups = row_heads * blocks;
  if (queries <= max_split_queries && t.split_below_workgroups > 0 && workgroups < t.split_below_workgroups &&
      keys > 2 * c.keys) {
    std::int64_t splits = (t.split_below_workgroups + workgroups - 1) / workgroups;
    std::int64_t most = keys / (2 * c.keys);  // each split keeps at least two blocks of keys
    if (splits > most) splits = most;
    if (splits > 1) {
      c.splits = std::uint32_t(splits);
      c.reason.append(", keys split for few queries");
    }
  }
  if (c.grouped) c.reason.append(", query heads of a KV head read it once");
  return c;
}

struct RowChoice {
  RowForm form = RowForm::invocation_per_row;
  std::uint32_t invocations = 64;
  Reason reason;
};

constexpr RowChoice choose_rows(const Target& target) {
  const VendorTuning& t = vendor_tuning(target.vendor);
  RowChoice c{t.rows, t.row_invocations, target_reason(target)};
  if (c.invocations > target.max_invocations) c.invocations = largest_power_of_2_at_most(target.max_invocations);
  if (c.form == RowForm::workgroup_per_row && !target.subgroup_arithmetic) {
    c.form = RowForm::invocation_per_row;
    c.reason.append(", no subgroup arithmetic");
  }
  return c;
}

constexpr std::uint32_t choose_linear_invocations(const Target& target) {
  std::uint32_t n = vendor_tuning(target.vendor).linear_invocations;
  return n > target.max_invocations ? largest_power_of_2_at_most(target.max_invocations) : n;
}

}  // namespace vkattn::tuning
