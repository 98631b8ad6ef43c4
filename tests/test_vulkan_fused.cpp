// Fused schedules against the CPU reference: flash attention with every mask kind,
// cross-attention, grouped-query attention, head widths that are and are not multiples
// of 4, fully masked rows, and GEMM epilogues at awkward sizes. Every check also runs
// the unfused schedule, poisons the arena with NaN and requires a silent validation
// layer (synchronization validation included).
#include <algorithm>

#include "vulkan_harness.hpp"

namespace va = vkattn;
using va::testing::check_on_device;
using va::testing::fused_kernels;

namespace {

bool has_kernel(const va::Graph& g, va::Kernel kernel) {
  auto kernels = fused_kernels(g);
  return std::find(kernels.begin(), kernels.end(), kernel) != kernels.end();
}

}  // namespace

TEST_CASE("fused attention with every mask kind at awkward sizes", "[vulkan]") {
  const va::Mask masks[] = {va::Mask::none, va::Mask::causal, va::Mask::padding, va::Mask::boolean,
                            va::Mask::additive, va::Mask::sliding_window, va::Mask::causal | va::Mask::padding};
  // (sequence, model, heads): head widths 8 (vector loads) and 5 (scalar loads).
  const std::int64_t sizes[][3] = {{1, 16, 2}, {7, 10, 2}, {33, 32, 4}, {129, 15, 3}};
  for (va::Mask mask : masks) {
    for (const auto& size : sizes) {
      const std::int64_t seq = size[0], model = size[1], heads = size[2];
      INFO("mask " << int(mask) << ", seq " << seq << ", model " << model << ", heads " << heads);
      va::Graph g{"fused_mha"};
      auto x = g.input("x", {2, seq, model});
      va::AttentionOptions options{.heads = heads, .mask = mask, .window = 3};
      if (va::has(mask, va::Mask::padding)) options.lengths = g.input("lengths", {2}, va::DType::i32);
      if (va::has(mask, va::Mask::boolean)) options.mask_values = g.input("keep", {2, 1, seq, seq});
      if (va::has(mask, va::Mask::additive)) options.mask_values = g.input("bias", {seq, seq});
      g.output("y", va::multi_head_attention(g, x, x, x, options));
      REQUIRE(has_kernel(g, va::Kernel::flash_attention));
      va::TensorMap bindings = va::random_bindings(g, std::uint64_t(seq));
      // An empty sequence (every key masked: its rows are zeros) beside a full one.
      if (va::has(mask, va::Mask::padding)) bindings["lengths"].values = {0, double(seq)};
      // Keep about half the keys, and hide every key from query 0 of batch 0.
      if (va::has(mask, va::Mask::boolean)) {
        auto& keep = bindings["keep"].values;
        for (std::size_t i = 0; i < keep.size(); ++i) keep[i] = keep[i] > 0 ? 1.0 : 0.0;
        for (std::int64_t j = 0; j < seq; ++j) keep[std::size_t(j)] = 0.0;
      }
      check_on_device(g, bindings);
    }
  }
}

TEST_CASE("fused causal cross-attention aligned top-left and bottom-right", "[vulkan]") {
  for (va::CausalAlign align : {va::CausalAlign::top_left, va::CausalAlign::bottom_right}) {
    for (std::int64_t queries : {5, 40}) {
      INFO("align " << va::align_name(align) << ", queries " << queries);
      va::Graph g{"causal_cross"};
      auto x = g.input("x", {1, queries, 24});
      auto memory = g.input("memory", {1, 19, 24});
      g.output("y", va::multi_head_attention(g, x, memory, memory,
                                             {.heads = 3, .mask = va::Mask::causal, .align = align}));
      REQUIRE(has_kernel(g, va::Kernel::flash_attention));
      check_on_device(g, 50);
    }
  }
}

TEST_CASE("fused cross-attention over 1000 keys and grouped-query attention", "[vulkan]") {
  {
    va::Graph g{"cross_attention"};
    auto x = g.input("x", {2, 7, 32});
    auto memory = g.input("memory", {2, 1000, 20});
    g.output("y", va::multi_head_attention(g, x, memory, memory, {.heads = 4, .prefix = "cross"}));
    REQUIRE(has_kernel(g, va::Kernel::flash_attention));
    check_on_device(g, 51);
  }
  for (std::int64_t kv_heads : {1, 2, 4}) {
    INFO("kv_heads " << kv_heads);
    va::Graph g{"gqa"};
    auto x = g.input("x", {1, 65, 64});
    g.output("y", va::multi_head_attention(g, x, x, x, {.heads = 8, .kv_heads = kv_heads, .mask = va::Mask::causal}));
    REQUIRE(has_kernel(g, va::Kernel::flash_attention));
    check_on_device(g, 52);
  }
}

TEST_CASE("GEMM epilogues: bias, activation, residual, scale, at sizes off the tiles", "[vulkan]") {
  for (std::int64_t rows : {1, 31, 33, 130}) {
    for (std::int64_t inner : {3, 8, 37}) {
      INFO("rows " << rows << ", inner " << inner);
      va::Graph g{"epilogues"};
      auto x = g.input("x", {rows, inner});
      auto w1 = g.weight("w1", {67, inner});
      auto b1 = g.weight("b1", {67});
      auto w2 = g.weight("w2", {inner, 67});
      auto h = va::gelu(va::linear(x, w1, b1));
      auto y = va::linear(h, w2) * 0.5;
      g.output("y", va::relu(y) + x);
      // Non-transposed B (a plain product of activations) too.
      auto v = g.input("v", {inner, 9});
      g.output("xv", va::matmul(x, v) + g.weight("c", {9}));
      check_on_device(g, 53);
    }
  }
}

TEST_CASE("GEMM epilogues with silu and gelu_tanh, rms_norm with its residual, a SwiGLU MLP", "[vulkan]") {
  for (std::int64_t rows : {1, 33, 130}) {
    for (std::int64_t inner : {5, 37}) {
      INFO("rows " << rows << ", inner " << inner);
      va::Graph g{"modern"};
      auto x = g.input("x", {rows, inner});
      auto h = va::silu(va::linear(x, g.weight("w1", {67, inner}), g.weight("b1", {67})));
      auto y = va::gelu_tanh(va::linear(h, g.weight("w2", {inner, 67})));
      g.output("y", va::rms_norm(y + x, g.weight("norm.weight", {inner}), 1e-6));
      // SwiGLU: down(silu(x gate^T) * (x up^T))
      auto gate = va::silu(va::linear(x, g.weight("gate", {19, inner})));
      auto up = va::linear(x, g.weight("up", {19, inner}));
      g.output("mlp", va::linear(va::mul(gate, up), g.weight("down", {inner, 19})));
      check_on_device(g, 55);
    }
  }
}

TEST_CASE("fused encoder and decoder layers, post-norm and pre-norm", "[vulkan]") {
  for (bool norm_first : {false, true}) {
    INFO("norm_first " << norm_first);
    va::Graph g{"layers"};
    auto x = g.input("x", {2, 17, 24});
    auto memory = g.input("memory", {2, 11, 24});
    auto lengths = g.input("memory_lengths", {2}, va::DType::i32);
    auto e = va::encoder_layer(g, x, {.heads = 3, .ffn_hidden = 40, .norm_first = norm_first,
                                      .activation = va::Activation::gelu, .mask = va::Mask::causal});
    g.output("y", va::decoder_layer(g, e, memory,
                                    {.heads = 3, .ffn_hidden = 40, .norm_first = norm_first, .memory_lengths = lengths,
                                     .prefix = "decoder"}));
    check_on_device(g, 54);
  }
}

TEST_CASE("decode-shaped attention: few queries over many keys, split over keys on GPU targets", "[vulkan]") {
  // 1 to 16 queries against a long memory: the tiled variant splits the keys and a
  // second dispatch merges the splits (attention_combine).
  const va::Mask masks[] = {va::Mask::none, va::Mask::causal, va::Mask::padding, va::Mask::boolean,
                            va::Mask::additive, va::Mask::sliding_window};
  for (std::int64_t queries : {1, 7, 16}) {
    for (va::Mask mask : masks) {
      INFO("queries " << queries << ", mask " << int(mask));
      const std::int64_t keys = 1031;
      va::Graph g{"decode"};
      auto x = g.input("x", {2, queries, 32});
      auto memory = g.input("memory", {2, keys, 32});
      va::AttentionOptions options{.heads = 4, .kv_heads = 2, .mask = mask, .align = va::CausalAlign::bottom_right,
                                   .window = 300};
      if (va::has(mask, va::Mask::padding)) options.lengths = g.input("lengths", {2}, va::DType::i32);
      if (va::has(mask, va::Mask::boolean)) options.mask_values = g.input("keep", {2, 1, queries, keys});
      if (va::has(mask, va::Mask::additive)) options.mask_values = g.input("bias", {queries, keys});
      g.output("y", va::multi_head_attention(g, x, memory, memory, options));
      REQUIRE(has_kernel(g, va::Kernel::flash_attention));
      const va::Schedule nvidia = va::compile(g, va::targets::nvidia);
      bool split = false;
      for (const va::Dispatch& d : nvidia.dispatches) split = split || d.kernel == va::Kernel::attention_combine;
      CHECK(split);
      split = false;  // the CPU form splits too (texel, 256 keys per invocation)
      for (const va::Dispatch& d : va::compile(g, va::targets::llvmpipe).dispatches)
        split = split || d.kernel == va::Kernel::attention_combine;
      CHECK(split);
      va::TensorMap bindings = va::random_bindings(g, std::uint64_t(queries) + 90);
      // One sequence sees no key at all, the other 700 of them.
      if (va::has(mask, va::Mask::padding)) bindings["lengths"].values = {0, 700};
      if (va::has(mask, va::Mask::boolean)) {
        auto& keep = bindings["keep"].values;
        for (std::size_t i = 0; i < keep.size(); ++i) keep[i] = keep[i] > 0.5 ? 1.0 : 0.0;
      }
      va::testing::check_schedule_on_device(g, true, bindings, 1e-5);
    }
  }
}

TEST_CASE("long causal self-attention with grouped heads under every target", "[vulkan]") {
  va::Graph g{"long_causal"};
  auto x = g.input("x", {1, 1100, 32});
  g.output("y", va::multi_head_attention(g, x, x, x, {.heads = 4, .kv_heads = 2, .mask = va::Mask::causal}));
  va::testing::check_schedule_on_device(g, true, 60, 1e-5);
}

TEST_CASE("amd attention within its shared-memory budget: short key blocks at head dims 96 and 256", "[vulkan]") {
  // The amd table gives attention 256 bytes of shared memory per invocation (2 waves per
  // SIMD on RDNA3, tools/gpu_compile): wide heads get key blocks of 8 or 16 keys, which
  // must stay exact, prefill and decoding (split over keys) alike.
  for (std::int64_t head_dim : {96, 256}) {
    for (std::int64_t queries : {1, 37}) {
      INFO("head dim " << head_dim << ", queries " << queries);
      va::Graph g{"wide_heads"};
      auto x = g.input("x", {1, queries, 2 * head_dim});
      auto memory = g.input("memory", {1, 600, 2 * head_dim});
      g.output("y", va::multi_head_attention(g, x, memory, memory,
                                             {.heads = 2, .mask = va::Mask::causal,
                                              .align = va::CausalAlign::bottom_right}));
      bool attention = false;
      for (const va::Dispatch& d : va::compile(g, va::targets::amd).dispatches) {
        if (d.kernel != va::Kernel::flash_attention) continue;
        attention = true;
        CHECK(d.shared_bytes() <= 256u * d.local_size());
        CHECK(std::string_view(d.reason.view()).find("2 waves/SIMD RDNA3") != std::string_view::npos);
      }
      CHECK(attention);
      va::testing::check_schedule_on_device(g, true, 70 + std::uint64_t(queries + head_dim), 1e-5);
    }
  }
}
