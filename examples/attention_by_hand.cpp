// Causal multi-head self-attention written from primitives alone: projections as
// matmul + bias, heads split by hand, softmax(mask(q·kᵀ·scale))·v, heads merged, the
// output projection. No helper says "attention": the compiler finds the pattern and
// gives the same three dispatches (QKV GEMM, flash attention, output GEMM) as
// vkattn::multi_head_attention.
#include "example_support.hpp"

namespace va = vkattn;

constexpr va::Graph attention_by_hand(std::int64_t batch, std::int64_t seq, std::int64_t model, std::int64_t heads) {
  va::Graph g{"attention_by_hand"};
  auto x = g.input("x", {batch, seq, model});
  auto project = [&](std::string_view weight, std::string_view bias) {
    auto w = g.weight(weight, {model, model});  // [out, in], as PyTorch stores it
    auto b = g.weight(bias, {model});
    return va::add(va::matmul(x, w, va::Transpose::b), b);
  };
  auto q = va::split_heads(project("wq", "bq"), heads).named("q");  // [batch, heads, seq, head_dim]
  auto k = va::split_heads(project("wk", "bk"), heads).named("k");
  auto v = va::split_heads(project("wv", "bv"), heads).named("v");
  double scale = 1.0 / va::detail::constexpr_sqrt(double(model / heads));
  auto scores = va::scale(va::matmul(q, k, va::Transpose::b), scale).named("scores");
  auto weights = va::softmax(va::causal_mask(scores)).named("attention_weights");
  auto context = va::merge_heads(va::matmul(weights, v)).named("context");  // [batch, seq, model]
  auto wo = g.weight("wo", {model, model});
  auto bo = g.weight("bo", {model});
  g.output("y", va::add(va::matmul(context, wo, va::Transpose::b), bo).named("projected"));
  return g;
}

constexpr va::Graph with_helper(std::int64_t batch, std::int64_t seq, std::int64_t model, std::int64_t heads) {
  va::Graph g{"attention_helper"};
  auto x = g.input("x", {batch, seq, model});
  g.output("y", va::multi_head_attention(g, x, x, x, {.heads = heads, .mask = va::Mask::causal}));
  return g;
}

constexpr auto by_hand = va::compile<[] { return attention_by_hand(1, 256, 256, 4); }>();
constexpr auto helper = va::compile<[] { return with_helper(1, 256, 256, 4); }>();
static_assert(by_hand.dispatch_count() == 3 && helper.dispatch_count() == 3);
static_assert(by_hand.dispatches[1].kernel == va::Kernel::flash_attention);
static_assert(by_hand.dispatches[1].specialization == helper.dispatches[1].specialization);

int main(int argc, char** argv) {
  const bool small = example::small_sizes(argc, argv);
  return example::run_and_check(attention_by_hand(small ? 2 : 1, small ? 21 : 128, small ? 48 : 256, 4));
}
