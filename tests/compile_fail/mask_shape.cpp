// A boolean mask over 100 keys applied to scores over 128 keys.
#include <vkattn/vkattn.hpp>
namespace va = vkattn;

constexpr va::Graph graph() {
  va::Graph g{"masked"};
  auto q = g.input("q", {1, 8, 128, 64});
  auto k = g.input("k", {1, 8, 128, 64});
  auto keep = g.input("keep", {1, 128, 100});
  auto scores = va::matmul(q, k, va::Transpose::b);
  g.output("y", va::softmax(va::boolean_mask(scores, keep)));  // error: this line
  return g;
}

constexpr auto plan = va::freeze<graph>();
// expect: boolean_mask: mask shape [1, 128, 100] does not broadcast to the scores [1, 8, 128, 128]
