// Tensors held in f16 on the device: f16 graphs, and f32 graphs compiled with f16
// storage, against the CPU reference evaluated on the same f16-rounded inputs and
// weights, under every target (every kernel variant, both builds of each shader), every
// mask kind, at awkward sizes; scores far beyond f16's range; values f16 cannot hold.
// The kernels accumulate in f32, so the error is f16's rounding of each stored tensor:
// the bar is a normalised error of 2e-3 for a whole layer.
#include <cmath>

#include "vulkan_harness.hpp"

namespace va = vkattn;
using va::testing::check_schedule_on_device;

namespace {

constexpr double f16_tolerance = 2e-3;

// Both schedules, fused and unfused, under every target.
void check_f16(const va::Graph& g, const va::TensorMap& bindings, bool f16_storage = false) {
  const va::TensorMap rounded = va::testing::rounded_to_f16(bindings);
  check_schedule_on_device(g, false, rounded, f16_tolerance, f16_storage);
  check_schedule_on_device(g, true, rounded, f16_tolerance, f16_storage);
}

}  // namespace

TEST_CASE("f16 attention with every mask kind at awkward sizes", "[vulkan]") {
  const va::Mask masks[] = {va::Mask::none, va::Mask::causal, va::Mask::padding, va::Mask::boolean,
                            va::Mask::additive, va::Mask::sliding_window};
  const std::int64_t sizes[][3] = {{1, 16, 2}, {7, 10, 2}, {33, 32, 4}, {129, 15, 3}};
  for (va::Mask mask : masks) {
    for (const auto& size : sizes) {
      const std::int64_t seq = size[0], model = size[1], heads = size[2];
      INFO("mask " << int(mask) << ", seq " << seq << ", model " << model << ", heads " << heads);
      va::Graph g{"f16_mha"};
      auto x = g.input("x", {2, seq, model}, va::DType::f16);
      va::AttentionOptions options{.heads = heads, .mask = mask, .window = 3};
      if (va::has(mask, va::Mask::padding)) options.lengths = g.input("lengths", {2}, va::DType::i32);
      if (va::has(mask, va::Mask::boolean)) options.mask_values = g.input("keep", {2, 1, seq, seq}, va::DType::f16);
      if (va::has(mask, va::Mask::additive)) options.mask_values = g.input("bias", {seq, seq}, va::DType::f16);
      g.output("y", va::multi_head_attention(g, x, x, x, options));
      va::TensorMap bindings = va::random_bindings(g, std::uint64_t(seq) + 200);
      if (va::has(mask, va::Mask::padding)) bindings["lengths"].values = {0, double(seq)};
      if (va::has(mask, va::Mask::boolean))
        for (double& v : bindings["keep"].values) v = v > 0 ? 1.0 : 0.0;
      check_f16(g, bindings);
    }
  }
}

TEST_CASE("f16 decode-shaped attention, split over keys on GPU targets", "[vulkan]") {
  for (std::int64_t queries : {1, 9}) {
    INFO("queries " << queries);
    va::Graph g{"f16_decode"};
    auto x = g.input("x", {1, queries, 32}, va::DType::f16);
    auto memory = g.input("memory", {1, 1100, 32}, va::DType::f16);
    auto lengths = g.input("lengths", {1}, va::DType::i32);
    g.output("y", va::multi_head_attention(g, x, memory, memory,
                                           {.heads = 4, .kv_heads = 2, .mask = va::Mask::padding, .lengths = lengths}));
    va::TensorMap bindings = va::random_bindings(g, 210);
    bindings["lengths"].values = {777};
    check_schedule_on_device(g, true, bindings, f16_tolerance);
  }
}

TEST_CASE("an f32 layer compiled with f16 storage: half the bytes, within the f16 bar", "[vulkan]") {
  va::Graph g{"layers"};
  auto x = g.input("x", {2, 17, 24});
  auto memory = g.input("memory", {2, 11, 24});
  auto lengths = g.input("memory_lengths", {2}, va::DType::i32);
  auto e = va::encoder_layer(g, x, {.heads = 3, .ffn_hidden = 40, .activation = va::Activation::gelu,
                                    .mask = va::Mask::causal});
  g.output("y", va::decoder_layer(g, e, memory, {.heads = 3, .ffn_hidden = 40, .memory_lengths = lengths,
                                                 .prefix = "decoder"}));
  const va::Schedule f32 = va::compile(g), f16 = va::compile(g, va::CompileOptions{.f16_storage = true});
  CHECK(f16.weight_bytes <= f32.weight_bytes / 2 + 64 * va::slot_alignment);
  CHECK(f16.arena_bytes < f32.arena_bytes);
  for (const va::TensorSlot& slot : f16.slots) {
    CHECK(slot.element == (slot.dtype == va::DType::i32 ? va::DType::i32 : va::DType::f16));
    CHECK(slot.dtype == (slot.name.view() == "memory_lengths" ? va::DType::i32 : va::DType::f32));
  }
  va::TensorMap bindings = va::random_bindings(g, 220);
  bindings["memory_lengths"].values = {11, 4};
  check_f16(g, bindings, true);
}

TEST_CASE("scores far beyond f16's range stay finite: products accumulate in f32", "[vulkan]") {
  // |q|, |k| about 250 over 64 dimensions: scores near 4e6, which f16 cannot hold
  // (65504), while every stored tensor stays within it.
  va::Graph g{"large"};
  auto q = g.input("q", {1, 2, 13, 64}, va::DType::f16);
  auto k = g.input("k", {1, 2, 13, 64}, va::DType::f16);
  auto v = g.input("v", {1, 2, 13, 64}, va::DType::f16);
  g.output("y", va::scaled_dot_product_attention(q, k, v, {.mask = va::Mask::causal}));
  va::TensorMap bindings = va::random_bindings(g, 230);
  for (const char* name : {"q", "k"})
    for (double& x : bindings[name].values) x = std::round(x * 500.0);  // integers up to 500: exact in f16
  check_schedule_on_device(g, true, bindings, f16_tolerance);
}

TEST_CASE("a value f16 cannot hold is refused at upload, naming the tensor and the value", "[vulkan]") {
  va::Graph g{"range"};
  auto x = g.input("x", {4, 8});
  g.output("y", va::relu(x));
  va::TensorMap bindings = va::random_bindings(g, 240);
  bindings["x"].values[5] = 70000.0;
  va::Executable exe(va::testing::validated_context(), va::compile(g, va::CompileOptions{.f16_storage = true}),
                     bindings);
  CHECK_THROWS_WITH(exe.run(bindings), Catch::Contains("tensor 'x' holds 70000") &&
                                           Catch::Contains("at element 5, outside the range of f16"));
  va::testing::require_no_validation_messages();
}
