// Seven heads cannot split a model dimension of 512.
#include <vkattn/vkattn.hpp>
namespace va = vkattn;

constexpr va::Graph graph() {
  va::Graph g{"attention"};
  auto x = g.input("x", {1, 128, 512});
  g.output("y", va::multi_head_attention(g, x, x, x, {.heads = 7}));  // error: this line
  return g;
}

constexpr auto plan = va::freeze<graph>();
// expect: multi_head_attention: model dimension 512 of query [1, 128, 512] is not divisible by 7 heads
