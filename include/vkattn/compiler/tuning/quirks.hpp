#pragma once
// Driver quirks: facts about a vendor's drivers that override its tuning table, in one
// table. choose.hpp applies every entry that matches a target's vendor.
#include <cstdint>
#include <string_view>

#include "vkattn/target.hpp"

namespace vkattn::tuning {

struct Quirk {
  Vendor vendor = Vendor::other;
  std::string_view why;
  // Attention's lanes per query stay within this many invocations (a query's lanes
  // must share a subgroup); 0: no cap.
  std::uint32_t max_attention_lanes = 0;
};

inline constexpr Quirk quirks[] = {
    {.vendor = Vendor::intel,
     .why = "ANV compiles a compute pipeline at SIMD8, 16 or 32 as it sees fit: shuffles stay within 8 lanes",
     .max_attention_lanes = 8},
};

}  // namespace vkattn::tuning
