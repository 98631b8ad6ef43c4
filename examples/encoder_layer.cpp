// The main example: a post-norm Transformer encoder layer (PyTorch's
// nn.TransformerEncoderLayer, causal) written with the DSL, shape-checked and compiled
// while the C++ compiles, then run on a Vulkan device and checked against the CPU.
#include "example_support.hpp"

namespace va = vkattn;

constexpr va::Graph encoder_layer(std::int64_t batch, std::int64_t seq, std::int64_t model) {
  va::Graph g{"encoder_layer"};
  auto x = g.input("x", {batch, seq, model});  // [batch, sequence, model]
  g.output("y", va::encoder_layer(g, x, {.heads = 8, .ffn_hidden = 4 * model, .mask = va::Mask::causal}));
  return g;
}

// Compiled while the C++ compiles: a shape mistake above is a compile error naming its
// line, and the schedule can be asserted on.
constexpr auto plan = va::compile<[] { return encoder_layer(1, 1024, 512); }>();
static_assert(plan.dispatch_count() == 7, "QKV, attention, out-proj+residual, norm, FF1+relu, FF2+residual, norm");

int main(int argc, char** argv) {
  const bool small = example::small_sizes(argc, argv);
  return example::run_and_check(encoder_layer(small ? 2 : 1, small ? 19 : 128, small ? 64 : 256));
}
