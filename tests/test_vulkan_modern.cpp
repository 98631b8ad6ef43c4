// The layers of current decoder models against the CPU reference, fused and unfused,
// under every target, arena poisoned, validation on: rotary embeddings (both layouts,
// partial, offset) alone and riding on the attention kernels' loads; ALiBi, the logit
// softcap and attention sinks inside flash attention with every mask kind; the gated
// (SwiGLU) GEMM; llama_block in f32 and f16. Hand-written primitives compile to the
// same schedule as the helpers.
#include <algorithm>

#include "vulkan_harness.hpp"

namespace va = vkattn;
using va::testing::check_on_device;
using va::testing::check_schedule_on_device;
using va::testing::fused_kernels;

namespace {

std::size_t count_kernel(const va::Graph& g, va::Kernel kernel) {
  auto kernels = fused_kernels(g);
  return std::size_t(std::count(kernels.begin(), kernels.end(), kernel));
}

// ALiBi slopes and sink logits as bindings (sinks around the scores' scale, so they
// take a visible share of each row).
void set_head_parameters(va::TensorMap& bindings, std::int64_t heads) {
  if (bindings.count("slopes")) {
    auto slopes = va::alibi_slopes(heads);
    bindings["slopes"].values.assign(slopes.begin(), slopes.end());
  }
  if (bindings.count("sinks"))
    for (std::size_t h = 0; h < bindings["sinks"].values.size(); ++h) bindings["sinks"].values[h] = 0.5 * double(h) - 0.3;
}

}  // namespace

TEST_CASE("rotary embedding alone: both layouts, partial dimensions, position offsets", "[vulkan]") {
  const std::int64_t sizes[][2] = {{8, 8}, {10, 6}, {64, 32}, {6, 2}};  // head_dim, rotary dims
  for (const auto& size : sizes) {
    for (va::RotaryLayout layout : {va::RotaryLayout::half_split, va::RotaryLayout::interleaved}) {
      for (std::int64_t offset : {std::int64_t(0), std::int64_t(37) + size[0]}) {
        INFO("head_dim " << size[0] << ", dims " << size[1] << ", " << va::rotary_layout_name(layout) << ", offset "
                         << offset);
        va::Graph g{"rotary"};
        auto x = g.input("x", {2, 3, 19, size[0]});
        g.output("y", va::rotary_embedding(x, {.dims = size[1], .theta = 500.0, .layout = layout, .offset = offset}));
        REQUIRE(count_kernel(g, va::Kernel::rotary) == 1);
        check_on_device(g, 60);
      }
    }
  }
}

TEST_CASE("rotary embedding rides on the attention kernels' loads of Q and K", "[vulkan]") {
  // (model, heads, kv_heads, rotary dims (0: all), layout): vec4 and scalar loads,
  // aligned and unaligned half-split partners, partial rotation, grouped heads.
  struct Case {
    std::int64_t model, heads, kv_heads, dims;
    va::RotaryLayout layout;
  };
  const Case cases[] = {{32, 4, 4, 0, va::RotaryLayout::half_split},  {32, 4, 2, 0, va::RotaryLayout::interleaved},
                        {48, 4, 1, 0, va::RotaryLayout::half_split},  {24, 2, 2, 6, va::RotaryLayout::half_split},
                        {18, 3, 3, 0, va::RotaryLayout::half_split},  {18, 3, 3, 4, va::RotaryLayout::interleaved},
                        {128, 2, 1, 32, va::RotaryLayout::half_split}};
  const std::int64_t sequences[] = {1, 23, 70};
  for (std::size_t i = 0; i < std::size(cases); ++i) {
    const Case& c = cases[i];
    {
      const std::int64_t seq = sequences[i % 3];
      INFO("model " << c.model << ", heads " << c.heads << "/" << c.kv_heads << ", dims " << c.dims << ", "
                    << va::rotary_layout_name(c.layout) << ", seq " << seq);
      va::Graph g{"rope_attention"};
      auto x = g.input("x", {2, seq, c.model});
      va::AttentionOptions options{.heads = c.heads, .kv_heads = c.kv_heads, .mask = va::Mask::causal,
                                   .rotary = va::RotaryOptions{.dims = c.dims, .theta = 10000.0, .layout = c.layout,
                                                               .offset = 11}};
      g.output("y", va::multi_head_attention(g, x, x, x, options));
      REQUIRE(count_kernel(g, va::Kernel::flash_attention) == 1);
      REQUIRE(count_kernel(g, va::Kernel::rotary) == 0);  // no pass of its own over Q or K
      check_on_device(g, 61);
    }
  }
}

TEST_CASE("ALiBi, softcap and sinks with causal, padding and sliding-window masks", "[vulkan]") {
  const va::Mask masks[] = {va::Mask::none, va::Mask::causal, va::Mask::padding, va::Mask::sliding_window,
                            va::Mask::causal | va::Mask::sliding_window, va::Mask::boolean, va::Mask::additive};
  struct Modifiers {
    bool alibi, softcap, sinks;
  };
  const Modifiers modifiers[] = {{true, false, false}, {false, true, false}, {false, false, true}, {true, true, true}};
  // Each mask with all three modifiers, and with each one alone in turn.
  for (std::size_t i = 0; i < std::size(masks); ++i) {
    const va::Mask mask = masks[i];
    for (const Modifiers& m : {modifiers[3], modifiers[i % 3]}) {
      {
        const std::int64_t seq = m.alibi && m.softcap ? 66 : 9;
        INFO("mask " << int(mask) << ", alibi " << m.alibi << ", softcap " << m.softcap << ", sinks " << m.sinks
                     << ", seq " << seq);
        const std::int64_t heads = 3;
        va::Graph g{"modifiers"};
        auto x = g.input("x", {2, seq, 24});
        va::AttentionOptions options{.heads = heads, .mask = mask, .window = 4};
        if (m.alibi) {
          options.mask = options.mask | va::Mask::alibi;
          options.alibi_slopes = g.input("slopes", {heads});
        }
        if (m.softcap) options.softcap = 1.5;  // small, so the tanh saturates visibly
        if (m.sinks) options.sinks = g.weight("sinks", {heads});
        if (va::has(mask, va::Mask::padding)) options.lengths = g.input("lengths", {2}, va::DType::i32);
        if (va::has(mask, va::Mask::boolean)) options.mask_values = g.input("keep", {2, 1, seq, seq});
        if (va::has(mask, va::Mask::additive)) options.mask_values = g.input("bias", {seq, seq});
        g.output("y", va::multi_head_attention(g, x, x, x, options));
        REQUIRE(count_kernel(g, va::Kernel::flash_attention) == 1);
        REQUIRE(count_kernel(g, va::Kernel::softmax) == 0);
        va::TensorMap bindings = va::random_bindings(g, std::uint64_t(seq));
        set_head_parameters(bindings, heads);
        // A sequence with no keys at all: its rows are zeros (with sinks too: all the
        // weight goes to the sink).
        if (va::has(mask, va::Mask::padding)) bindings["lengths"].values = {0, double(seq - 2)};
        if (va::has(mask, va::Mask::boolean)) {
          auto& keep = bindings["keep"].values;
          for (double& k : keep) k = k > 0 ? 1.0 : 0.0;
          for (std::int64_t j = 0; j < seq; ++j) keep[std::size_t(j)] = 0.0;  // query 0 of batch 0 sees nothing
        }
        check_on_device(g, bindings, 2e-5);
      }
    }
  }
}

TEST_CASE("sinks and ALiBi on few queries over many keys, split over keys on GPU targets", "[vulkan]") {
  const std::int64_t heads = 4;
  va::Graph g{"decode_modifiers"};
  auto x = g.input("x", {1, 3, 32});
  auto memory = g.input("memory", {1, 700, 32});
  va::AttentionOptions options{.heads = heads, .mask = va::Mask::causal | va::Mask::alibi,
                               .align = va::CausalAlign::bottom_right, .prefix = "cross"};
  options.alibi_slopes = g.input("slopes", {heads});
  options.sinks = g.weight("sinks", {heads});
  options.softcap = 30.0;
  g.output("y", va::multi_head_attention(g, x, memory, memory, options));
  va::TensorMap bindings = va::random_bindings(g, 62);
  set_head_parameters(bindings, heads);
  check_on_device(g, bindings, 2e-5);
}

TEST_CASE("grouped-query decoding: the query heads of a KV head share one read of it, CPU and GPU forms", "[vulkan]") {
  // Per-head parts of the program (ALiBi's slopes, the sinks) must follow each row's own
  // head when the rows of an invocation are the heads of a group; a sequence whose
  // queries see no key (length 0) still gives zeros.
  for (std::int64_t queries : {1, 3, 16}) {
    for (bool f16 : {false, true}) {
      INFO("queries " << queries << (f16 ? ", f16" : ""));
      const std::int64_t heads = 8, kv_heads = 2, keys = 1100;
      va::Graph g{"grouped_decode"};
      auto x = g.input("x", {2, queries, 64});
      auto memory = g.input("memory", {2, keys, 64});
      va::AttentionOptions options{.heads = heads, .kv_heads = kv_heads,
                                   .mask = va::Mask::causal | va::Mask::alibi | va::Mask::padding,
                                   .align = va::CausalAlign::bottom_right, .prefix = "cross"};
      options.alibi_slopes = g.input("slopes", {heads});
      options.lengths = g.input("lengths", {2}, va::DType::i32);
      options.sinks = g.weight("sinks", {heads});
      options.softcap = 30.0;
      g.output("y", va::multi_head_attention(g, x, memory, memory, options));
      const va::Schedule cpu = va::compile(g, va::targets::llvmpipe);
      bool grouped = false;
      for (const va::Dispatch& d : cpu.dispatches)
        if (d.shader == va::Shader::flash_attention_texel) {
          const auto c = va::constants_of<va::Shader::flash_attention_texel>(
              {d.specialization.data(), d.specialization.size()});
          grouped = c.GROUPED == 1 && c.SPLIT == 1 && d.workgroups[1] == kv_heads;
        }
      CHECK(grouped);
      grouped = false;  // the GPU form too: a workgroup's rows are the group's heads
      for (const va::Dispatch& d : va::compile(g, va::targets::nvidia).dispatches)
        if (d.shader == va::Shader::flash_attention_tiled) {
          const auto c = va::constants_of<va::Shader::flash_attention_tiled>(
              {d.specialization.data(), d.specialization.size()});
          grouped = c.GROUPED == 1 && d.workgroups[1] == kv_heads;
        }
      CHECK(grouped);
      va::TensorMap bindings = va::random_bindings(g, std::uint64_t(queries) + 7);
      set_head_parameters(bindings, heads);
      bindings["lengths"].values = {0, 1033};
      check_schedule_on_device(g, true, bindings, f16 ? 5e-3 : 2e-5, f16);
    }
  }
}

TEST_CASE("hand-written RoPE, softcap, ALiBi and sinks compile to the helpers' schedule", "[vulkan]") {
  auto build = [](bool by_hand) {
    va::Graph g{"attention"};
    auto x = g.input("x", {1, 20, 32});
    auto slopes = g.input("slopes", {4});
    auto sinks = g.weight("sinks", {4});
    if (!by_hand) {
      va::AttentionOptions options{.heads = 4, .kv_heads = 2, .mask = va::Mask::causal | va::Mask::alibi,
                                   .bias = false, .rotary = va::RotaryOptions{.theta = 1e4}, .alibi_slopes = slopes,
                                   .softcap = 20.0, .sinks = sinks};
      g.output("y", va::multi_head_attention(g, x, x, x, options));
      return g;
    }
    auto q = va::split_heads(va::linear(x, g.weight("self_attn.q_proj.weight", {32, 32})), 4);
    auto k = va::split_heads(va::linear(x, g.weight("self_attn.k_proj.weight", {16, 32})), 2);
    auto v = va::split_heads(va::linear(x, g.weight("self_attn.v_proj.weight", {16, 32})), 2);
    q = va::rotary_embedding(q, {.theta = 1e4});
    k = va::repeat_heads(va::rotary_embedding(k, {.theta = 1e4}), 2);
    v = va::repeat_heads(v, 2);
    auto s = va::matmul(q, k, va::Transpose::b) * (1.0 / std::sqrt(8.0));
    s = va::scale(va::tanh(va::scale(s, 1.0 / 20.0)), 20.0);
    s = va::alibi(va::causal_mask(s), slopes);
    auto context = va::matmul(va::softmax_with_sinks(s, sinks), v);
    g.output("y", va::linear(va::merge_heads(context), g.weight("self_attn.out_proj.weight", {32, 32})));
    return g;
  };
  const va::Graph helper = build(false), hand = build(true);
  for (const va::Target* target : va::targets::all) {
    INFO("target " << target->name.view());
    va::Schedule a = va::compile(helper, *target), b = va::compile(hand, *target);
    REQUIRE(a.dispatches.size() == b.dispatches.size());
    REQUIRE(a.dispatches.size() == 3);  // QKV, attention, output projection
    for (std::size_t i = 0; i < a.dispatches.size(); ++i) {
      CHECK(a.dispatches[i].shader == b.dispatches[i].shader);
      CHECK(a.dispatches[i].specialization == b.dispatches[i].specialization);
      CHECK(a.dispatches[i].push_constants == b.dispatches[i].push_constants);
    }
  }
  va::TensorMap bindings = va::random_bindings(hand, 63);
  set_head_parameters(bindings, 4);
  check_on_device(hand, bindings, 2e-5);
}

TEST_CASE("SwiGLU's gate and up projections run as one gated GEMM", "[vulkan]") {
  for (std::int64_t rows : {1, 130}) {
    for (std::int64_t inner : {5, 36}) {
      {
        const bool bias = (rows + inner) % 2 == 0;
        INFO("rows " << rows << ", inner " << inner << ", bias " << bias);
        va::Graph g{"swiglu"};
        auto x = g.input("x", {rows, inner});
        auto gate = va::linear(g, x, "gate_proj", 67, bias);
        auto up = va::linear(g, x, "up_proj", 67, bias);
        auto y = va::linear(g, va::mul(va::silu(gate), up), "down_proj", inner, bias) + x;
        g.output("y", y);
        // GeGLU, the product written up * act(gate).
        auto up2 = va::linear(g, y, "up2", 9, false);
        auto gate2 = va::linear(g, y, "gate2", 9, false);
        g.output("z", va::mul(up2, va::gelu_tanh(gate2)));
        // gemm (gated), gemm (down, residual), gemm (gated, for up2 and gate2 packed in graph order).
        CHECK(fused_kernels(g).size() == 3);
        check_on_device(g, 64);
      }
    }
  }
}

TEST_CASE("llama_block: seven dispatches, against the reference in f32 and f16", "[vulkan]") {
  struct Case {
    std::int64_t seq, model, heads, kv_heads, ffn;
  };
  for (const Case& c : {Case{1, 32, 4, 2, 40}, Case{37, 64, 4, 1, 96}, Case{70, 48, 6, 3, 100}}) {
    INFO("seq " << c.seq << ", model " << c.model << ", heads " << c.heads << "/" << c.kv_heads);
    va::Graph g{"llama_block"};
    auto x = g.input("x", {2, c.seq, c.model});
    g.output("y", va::llama_block(g, x, {.heads = c.heads, .kv_heads = c.kv_heads, .ffn_hidden = c.ffn,
                                         .rope_theta = 500000.0, .position_offset = 3}));
    const auto kernels = fused_kernels(g);
    CHECK(kernels.size() <= 7);
    CHECK(count_kernel(g, va::Kernel::flash_attention) == 1);
    check_on_device(g, 65);
    const va::TensorMap rounded = va::testing::rounded_to_f16(va::random_bindings(g, 66));
    check_schedule_on_device(g, true, rounded, 2e-3, true);
  }
}

TEST_CASE("LayerNorm without a bias, alone and taking its residual", "[vulkan]") {
  for (std::int64_t width : {1, 37, 300}) {
    INFO("width " << width);
    va::Graph g{"layer_norm_no_bias"};
    auto x = g.input("x", {33, width});
    auto r = g.input("r", {33, width});
    auto gamma = g.weight("norm.weight", {width});
    g.output("alone", va::layer_norm_no_bias(x, gamma));
    g.output("with_residual", va::layer_norm_no_bias(x + r, gamma, 1e-6));
    CHECK(fused_kernels(g).size() == 2);  // the residual add rides in its norm's dispatch
    check_on_device(g, 67);
  }
}
