// compile<fn>() of a stack of Llama decoder layers (model 512, 8 query and 2 key/value
// heads, ffn 1376) as one repeated body: the body is compiled once, so 32 layers cost
// about what one does and fit the compilers' default constant-evaluation limits (this
// file is compiled without raising them). LAYERS is set by the test (1, 12 or 32).
#include <vkattn/vkattn.hpp>

#ifndef LAYERS
#define LAYERS 32
#endif

namespace va = vkattn;

constexpr va::Graph llama_stack() {
  va::Graph g{"llama_stack"};
  auto x = g.input("x", {1, 128, 512});
  va::LlamaOptions layer{.heads = 8, .kv_heads = 2, .ffn_hidden = 1376, .prefix = "model.layers.{i}"};
  g.output("y", va::repeat(x, LAYERS, [&](va::Value h) { return va::llama_block(g, h, layer); }));
  return g;
}

constexpr auto plan = va::compile<llama_stack>();
// A copy of x (an input) into the carried value and the layer's 7 dispatches (input norm, QKV GEMM,
// flash attention, output GEMM + residual, post-attention norm, gated up GEMM, down
// GEMM + residual, the last iteration's writing the output).
static_assert(plan.dispatch_count() == 8);
static_assert(plan.repeats.size() == 1 && plan.repeats[0].iterations == LAYERS && plan.repeats[0].count == 7);
static_assert(plan.executed_dispatch_count() == 1 + 7 * LAYERS);

int main() { return 0; }
