// Padding lengths for 3 sequences given to a batch of 2.
#include <vkattn/vkattn.hpp>
namespace va = vkattn;

constexpr va::Graph graph() {
  va::Graph g{"padded"};
  auto x = g.input("x", {2, 16, 64});
  auto lengths = g.input("lengths", {3}, va::DType::i32);
  auto y = va::multi_head_attention(g, x, x, x, {.heads = 4, .mask = va::Mask::padding, .lengths = lengths});  // error: this line
  g.output("y", y);
  return g;
}

constexpr auto plan = va::freeze<graph>();
// expect: padding_mask: lengths must be an i32 tensor of shape [2]
