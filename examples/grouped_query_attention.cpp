// Grouped-query attention: 8 query heads share 2 key/value heads (each group of 4
// consecutive query heads reads one), so the K and V projections are a quarter of the
// width of Q. The compiler folds the head sharing into the flash-attention kernel
// instead of copying K and V four times.
#include "example_support.hpp"

namespace va = vkattn;

constexpr va::Graph gqa(std::int64_t batch, std::int64_t seq, std::int64_t model) {
  va::Graph g{"grouped_query_attention"};
  auto x = g.input("x", {batch, seq, model});
  g.output("y", va::multi_head_attention(g, x, x, x, {.heads = 8, .kv_heads = 2, .mask = va::Mask::causal}));
  return g;
}

// QKV GEMM (q: model columns, k and v: model / 4 each), attention, output projection.
constexpr auto plan = va::compile<[] { return gqa(1, 512, 512); }>();
static_assert(plan.dispatch_count() == 3);
static_assert(plan.slots[std::size_t(plan.dispatches[0].slots[0])].shape[2] == 512 + 2 * 128);

int main(int argc, char** argv) {
  const bool small = example::small_sizes(argc, argv);
  return example::run_and_check(gqa(small ? 2 : 1, small ? 23 : 256, small ? 64 : 512));
}
