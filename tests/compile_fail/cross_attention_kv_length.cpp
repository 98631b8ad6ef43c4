// Cross-attention with 77 keys but 76 values.
#include <vkattn/vkattn.hpp>
namespace va = vkattn;

constexpr va::Graph graph() {
  va::Graph g{"cross"};
  auto x = g.input("x", {1, 128, 512});
  auto keys = g.input("keys", {1, 77, 768});
  auto values = g.input("values", {1, 76, 768});
  g.output("y", va::multi_head_attention(g, x, keys, values, {.heads = 8}));  // error: this line
  return g;
}

constexpr auto plan = va::freeze<graph>();
// expect: multi_head_attention: keys [1, 77, 768] have 77 positions but values [1, 76, 768] have 76
