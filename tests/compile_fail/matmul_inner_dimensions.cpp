// A projection whose weight has the wrong input width.
#include <vkattn/vkattn.hpp>
namespace va = vkattn;

constexpr va::Graph graph() {
  va::Graph g{"projection"};
  auto x = g.input("x", {1, 128, 512});
  auto w = g.weight("w", {256, 64});
  g.output("y", va::matmul(x, w));  // error: this line
  return g;
}

constexpr auto plan = va::freeze<graph>();
// expect: matmul: inner dimensions differ: a is [1, 128, 512] and b is [256, 64]
// expect: the last dimension of a (512) must equal the second-to-last dimension of b (256)
