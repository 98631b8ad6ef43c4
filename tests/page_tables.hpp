#pragma once
// Helpers of the paged-cache tests: shuffled page orders and the cache write of a state.
#include <cstdint>
#include <numeric>
#include <string_view>
#include <utility>
#include <vector>

#include <vkattn/vkattn.hpp>

namespace vkattn::testing {

// A random permutation of 0..n-1.
inline std::vector<std::int64_t> shuffled(std::int64_t n, std::uint64_t seed) {
  std::vector<std::int64_t> order(std::size_t(n), 0);
  std::iota(order.begin(), order.end(), std::int64_t(0));
  for (std::size_t i = order.size(); i > 1; --i) {
    seed = seed * 6364136223846793005ull + 1442695040888963407ull;
    std::swap(order[i - 1], order[std::size_t((seed >> 33) % i)]);
  }
  return order;
}

// The value node a graph's cache write of state `state` defines.
inline ValueId write_of(const Graph& g, std::string_view state) {
  for (std::size_t i = 0; i < g.size(); ++i) {
    const Node& node = g.node(ValueId(i));
    if (is_cache_write(node.op) && g.node(node.inputs[0]).name.view() == state) return ValueId(i);
  }
  return no_value;
}

}  // namespace vkattn::testing
