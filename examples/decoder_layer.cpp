// A post-norm Transformer decoder layer (PyTorch's nn.TransformerDecoderLayer): causal
// self-attention over the target, cross-attention from the target to an encoder's
// memory of another length with per-sequence padding, and the feed-forward block.
#include "example_support.hpp"

namespace va = vkattn;

constexpr va::Graph decoder_layer(std::int64_t batch, std::int64_t target, std::int64_t source, std::int64_t model) {
  va::Graph g{"decoder_layer"};
  auto x = g.input("x", {batch, target, model});
  auto memory = g.input("memory", {batch, source, model});
  auto memory_lengths = g.input("memory_lengths", {batch}, va::DType::i32);  // valid keys per sequence
  g.output("y", va::decoder_layer(g, x, memory,
                                  {.heads = 4, .ffn_hidden = 2 * model, .activation = va::Activation::gelu,
                                   .memory_lengths = memory_lengths}));
  return g;
}

// Two attentions, each one flash-attention dispatch: 12 in all.
constexpr auto plan = va::compile<[] { return decoder_layer(1, 256, 384, 512); }>();
static_assert(plan.dispatch_count() == 12);

int main(int argc, char** argv) {
  const bool small = example::small_sizes(argc, argv);
  return example::run_and_check(decoder_layer(small ? 2 : 2, small ? 11 : 96, small ? 17 : 160, small ? 32 : 256));
}
