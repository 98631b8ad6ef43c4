// Whole graphs, unfused, on the Vulkan device against the CPU reference.
#include <vkattn/vkattn.hpp>

#include "vulkan_harness.hpp"

namespace va = vkattn;
using va::testing::check_on_device;

TEST_CASE("encoder layers, post-norm and pre-norm", "[vulkan]") {
  for (bool norm_first : {false, true}) {
    va::Graph g{"encoder_layer"};
    auto x = g.input("x", {2, 33, 64});
    g.output("y", va::encoder_layer(g, x, {.heads = 4, .ffn_hidden = 129, .norm_first = norm_first,
                                           .activation = norm_first ? va::Activation::gelu : va::Activation::relu}));
    check_on_device(g, 31);
  }
}

TEST_CASE("decoder layer with cross-attention to a memory of another length", "[vulkan]") {
  va::Graph g{"decoder_layer"};
  auto x = g.input("x", {2, 7, 48});
  auto memory = g.input("memory", {2, 33, 48});
  auto memory_lengths = g.input("memory_lengths", {2}, va::DType::i32);
  g.output("y", va::decoder_layer(g, x, memory, {.heads = 6, .ffn_hidden = 96, .memory_lengths = memory_lengths}));
  check_on_device(g, 32);
}

TEST_CASE("grouped-query attention", "[vulkan]") {
  va::Graph g{"gqa"};
  auto x = g.input("x", {1, 129, 64});
  g.output("y", va::multi_head_attention(g, x, x, x, {.heads = 8, .kv_heads = 2, .mask = va::Mask::causal}));
  check_on_device(g, 33);
}

TEST_CASE("multi-head attention with every mask kind, and the probabilities as an output", "[vulkan]") {
  const va::Mask masks[] = {va::Mask::none, va::Mask::causal, va::Mask::padding, va::Mask::boolean, va::Mask::additive,
                            va::Mask::sliding_window | va::Mask::causal};
  for (va::Mask mask : masks) {
    INFO("mask " << int(mask));
    va::Graph g{"mha"};
    auto x = g.input("x", {2, 33, 32});
    va::AttentionOptions options{.heads = 4, .mask = mask, .window = 5};
    if (va::has(mask, va::Mask::padding)) options.lengths = g.input("lengths", {2}, va::DType::i32);
    if (va::has(mask, va::Mask::boolean)) options.mask_values = va::relu(g.input("keep", {2, 1, 33, 33}));
    if (va::has(mask, va::Mask::additive)) options.mask_values = g.input("bias", {33, 33});
    g.output("y", va::multi_head_attention(g, x, x, x, options));
    g.output("probabilities", g.find("self_attn.probs"));
    check_on_device(g, 34);
  }
}

TEST_CASE("cross-attention with fewer queries than keys and a different key width", "[vulkan]") {
  va::Graph g{"cross_attention"};
  auto x = g.input("x", {1, 7, 32});
  auto memory = g.input("memory", {1, 1000, 20});
  g.output("y", va::multi_head_attention(g, x, memory, memory, {.heads = 2, .prefix = "cross"}));
  check_on_device(g, 35);
}

TEST_CASE("an output that is an input is copied, not aliased", "[vulkan]") {
  va::Graph g{"identity"};
  auto x = g.input("x", {7, 3});
  g.output("same", x);
  g.output("doubled", x * 2.0);
  check_on_device(g, 36);
}

TEST_CASE("an f16 graph runs held in f16 on the device", "[vulkan]") {
  va::Graph g{"half"};
  auto x = g.input("x", {1, 9, 16}, va::DType::f16);
  g.output("y", va::multi_head_attention(g, x, x, x, {.heads = 2, .mask = va::Mask::causal}));
  for (const va::TensorSlot& slot : va::compile(g).slots) CHECK(slot.element == va::DType::f16);
  check_on_device(g, 37, 2e-3);
}
