// Decoding on the device, validation and synchronization validation on: KV caches
// written and read in consecutive submissions, dynamic sequence lengths run by one
// compiled graph, and token-by-token steps against one causal prefill.
#include <algorithm>

#include "vkattn/decoder.hpp"
#include "vkattn/presets.hpp"
#include "graph_error_matchers.hpp"
#include "vulkan_harness.hpp"

namespace va = vkattn;
using va::testing::check_on_device;
using va::testing::compare;
using va::testing::rows_of;
using va::testing::require_no_validation_messages;
using va::testing::validated_context;

namespace {

// One graph of attention over a KV cache, written with the primitives.
va::Graph cached_attention(std::int64_t batch, std::int64_t seq, std::int64_t capacity, std::int64_t heads,
                           std::int64_t kv_heads, std::int64_t head_dim) {
  va::Graph g{"cached_attention"};
  auto q = g.input("q", {batch, heads, seq, head_dim});
  auto k = g.input("k", {batch, kv_heads, seq, head_dim});
  auto v = g.input("v", {batch, kv_heads, seq, head_dim});
  auto positions = g.input("positions", {batch}, va::DType::i32);
  auto keys = va::cache_write(g.state("k_cache", {batch, kv_heads, capacity, head_dim}), k, positions);
  auto values = va::cache_write(g.state("v_cache", {batch, kv_heads, capacity, head_dim}), v, positions);
  if (kv_heads != heads) {
    keys = va::repeat_heads(keys, heads / kv_heads);
    values = va::repeat_heads(values, heads / kv_heads);
  }
  auto scores = va::cache_causal_mask(va::scale(va::matmul(q, keys, va::Transpose::b), 0.3), positions);
  g.output("y", va::matmul(va::softmax(scores), values));
  return g;
}

}  // namespace

TEST_CASE("attention over a KV cache: each sequence at its own position, fused and unfused", "[vulkan]") {
  // (batch, new rows, capacity, heads, kv heads, head dim): awkward sizes, grouped heads,
  // one query (the split-over-keys form) and many.
  const std::int64_t cases[][6] = {{3, 5, 37, 4, 2, 12}, {2, 1, 1100, 2, 1, 64}, {1, 19, 19, 3, 3, 10},
                                   {2, 3, 1030, 4, 4, 16}};
  for (const auto& c : cases) {
    INFO("batch " << c[0] << ", rows " << c[1] << ", capacity " << c[2] << ", heads " << c[3] << "/" << c[4]
                  << ", head_dim " << c[5]);
    va::Graph g = cached_attention(c[0], c[1], c[2], c[3], c[4], c[5]);
    auto kernels = va::testing::fused_kernels(g);
    CHECK(std::count(kernels.begin(), kernels.end(), va::Kernel::cache_write) == 2);
    CHECK(std::count(kernels.begin(), kernels.end(), va::Kernel::flash_attention) == 1);
    // Few queries over a long cache: split over keys on the CPU form too.
    bool split = false;
    for (const va::Dispatch& d : va::compile(g, va::targets::llvmpipe).dispatches)
      split = split || d.kernel == va::Kernel::attention_combine;
    CHECK(split == (c[1] <= 16 && c[2] >= 1024));
    // The random positions leave room for the rows (0 to capacity - rows), a different
    // one per sequence; the caches start at zero on the device and in the reference.
    check_on_device(g, 91);
  }
}

TEST_CASE("one compiled graph runs at several lengths: what each length compiled alone gives", "[vulkan]") {
  va::Graph g{"dynamic"};
  auto x = g.input("x", {2, va::dyn("seq", 64), 32});
  g.output("y", va::multi_head_attention(g, x, x, x, {.heads = 4, .kv_heads = 2, .mask = va::Mask::causal}));
  va::TensorMap weights = va::random_bindings(g, 5);
  weights.erase("x");
  va::Executable executable(validated_context(), g, {.target = validated_context().target()}, weights);
  const va::ExecutableStats made = executable.stats();
  CHECK(made.recordings == 1);  // the bounds'
  CHECK(made.pipelines > 0);
  for (std::int64_t seq : {7, 31, 64, 1, 7}) {
    INFO("seq " << seq);
    va::DimSizes sizes;
    sizes.push_back({"seq", seq});
    const va::Graph sized = va::with_sizes(g, sizes);
    va::TensorMap inputs = va::random_bindings(sized, 100 + std::uint64_t(seq));
    for (auto& [name, tensor] : weights) inputs[name] = tensor;
    executable.poison_arena(std::numeric_limits<float>::quiet_NaN());
    const va::TensorMap dynamic = executable.run(inputs);
    // The same graph with seq fixed, compiled and loaded on its own.
    va::Graph fixed{"fixed"};
    auto xf = fixed.input("x", {2, seq, 32});
    fixed.output("y", va::multi_head_attention(fixed, xf, xf, xf, {.heads = 4, .kv_heads = 2, .mask = va::Mask::causal}));
    va::Executable alone(validated_context(), va::compile(fixed, validated_context().target()), weights);
    const va::TensorMap expected = alone.run(inputs);
    const va::ReferenceResult reference = va::run_reference(sized, inputs);
    CHECK(va::same_sizes(dynamic.at("y").shape, va::Shape{2, seq, 32}));
    auto c = compare(dynamic.at("y"), expected.at("y"));
    CHECK(c.nan_count == 0);
    CHECK(c.normalised_error <= 1e-5);
    auto r = compare(dynamic.at("y"), reference.outputs.at("y"));
    CHECK(r.nan_count == 0);
    CHECK(r.normalised_error <= 1e-5);
  }
  // Four new sizes (7, 31, 1 and the bounds' 64 already recorded): four recordings in
  // all, the second run at 7 replaying its own; not one pipeline more.
  CHECK(executable.stats().recordings == 4);
  CHECK(executable.stats().pipelines == made.pipelines);
  CHECK(executable.stats().runs == 5);
  require_no_validation_messages();
}

TEST_CASE("a run's sizes are checked before anything runs", "[vulkan]") {
  va::Graph g{"two_inputs"};
  auto x = g.input("x", {1, va::dyn("seq", 16), 8});
  auto y = g.input("y", {1, va::dyn("seq", 16), 8});
  g.output("z", x + y);
  va::Executable executable(validated_context(), g, {}, {});
  va::TensorMap inputs{{"x", va::Tensor::zeros({1, 5, 8})}, {"y", va::Tensor::zeros({1, 6, 8})}};
  CHECK_THROWS_WITH(executable.run(inputs), Catch::Matchers::Contains("gives `seq` = 6") &&
                                                Catch::Matchers::Contains("gives 5"));
  inputs = {{"x", va::Tensor::zeros({1, 17, 8})}, {"y", va::Tensor::zeros({1, 17, 8})}};
  CHECK_THROWS_WITH(executable.run(inputs), Catch::Matchers::Contains("which is 1 to 16"));
  require_no_validation_messages();
}

TEST_CASE("decoding token by token gives what one causal prefill gives", "[vulkan]") {
  struct Case {
    const char* preset;
    std::int64_t model, heads, kv_heads;
    bool f16;
    std::int64_t prompt, step;  // tokens of the prefill, then of each step
    std::int64_t capacity = 17;  // 1030: steps split the keys over invocations
  };
  const Case cases[] = {{"mha", 32, 4, 0, false, 5, 1},          {"gqa", 48, 4, 2, false, 1, 1},
                        {"gqa", 32, 8, 2, true, 4, 3},           {"decoder_layer", 24, 2, 0, false, 3, 2},
                        {"decoder_layer", 32, 4, 0, true, 6, 1},  {"llama_block", 32, 4, 2, false, 4, 1},
                        {"llama_block", 48, 4, 1, true, 2, 2},   {"gqa", 32, 4, 2, false, 9, 1, 1030}};
  const std::int64_t total = 13, batch = 2;
  for (const Case& c : cases) {
    const std::int64_t capacity = c.capacity;
    INFO(c.preset << " model " << c.model << ", heads " << c.heads << "/" << c.kv_heads << (c.f16 ? ", f16" : ", f32")
                  << ", prompt " << c.prompt << ", steps of " << c.step);
    va::PresetOptions o{.name = c.preset, .batch = batch, .seq = total, .kv_seq = 9, .model = c.model,
                        .heads = c.heads, .kv_heads = c.kv_heads, .mask = va::Mask::causal, .f16 = c.f16};
    if (std::string(c.preset) != "mha" && std::string(c.preset) != "gqa") o.ffn_hidden = 40;
    const va::Graph whole = va::build_preset(o);  // all tokens at once, causal, no cache
    o.cache = capacity;
    const va::Graph decoding = va::build_preset(o);
    va::TensorMap bindings = va::random_bindings(whole, 17);
    if (c.f16) bindings = va::testing::rounded_to_f16(bindings);
    const va::Tensor y = va::run_reference(whole, bindings).outputs.at("y");

    va::Decoder decoder(validated_context(), decoding, bindings,
                        {.compile = {.target = validated_context().target(), .f16_storage = c.f16},
                         .step_tokens = c.step});
    decoder.executable().poison_arena(std::numeric_limits<float>::quiet_NaN());
    const double tolerance = c.f16 ? 2e-2 : 1e-5;
    auto inputs_for = [&](std::int64_t first, std::int64_t count) {
      va::TensorMap inputs;
      inputs["x"] = rows_of(bindings.at("x"), first, count);
      if (bindings.count("memory")) inputs["memory"] = bindings.at("memory");
      return inputs;
    };
    std::int64_t done = 0;
    while (done < total) {
      const std::int64_t count = done == 0 ? c.prompt : std::min(c.step, total - done);
      INFO("tokens " << done << " to " << done + count - 1);
      va::TensorMap out = done == 0 ? decoder.prefill(inputs_for(0, count)) : decoder.step(inputs_for(done, count));
      auto cmp = compare(out.at("y"), rows_of(y, done, count));
      CHECK(cmp.nan_count == 0);
      CHECK(cmp.normalised_error <= tolerance);
      done += count;
      CHECK(decoder.lengths() == std::vector<std::int64_t>(std::size_t(batch), done));
    }
    // A full cache: one more token is refused, and nothing was written.
    for (std::int64_t b = 0; b < batch; ++b) decoder.set_length(b, capacity);
    CHECK_THROWS_WITH(decoder.step(inputs_for(0, 1)),
                      Catch::Matchers::Contains("exceed its cache of " + std::to_string(capacity) + " positions"));
    // Starting over: one prefill of every token.
    auto again = decoder.prefill(inputs_for(0, total));
    auto cmp = compare(again.at("y"), y);
    CHECK(cmp.nan_count == 0);
    CHECK(cmp.normalised_error <= tolerance);
    require_no_validation_messages();
  }
}

TEST_CASE("a cache write beyond the capacity is refused before anything is written", "[vulkan]") {
  va::Graph g = cached_attention(2, 3, 8, 2, 2, 4);
  va::TensorMap bindings = va::random_bindings(g, 3);
  va::Executable executable(validated_context(), g, {}, {});
  bindings["positions"].values = {5, 6};  // sequence 1: rows 6..8 of a cache of 8
  CHECK_THROWS_WITH(executable.run(bindings), Catch::Matchers::Contains("puts sequence 1 at position 6") &&
                                                  Catch::Matchers::Contains("holds 8 positions"));
  // The caches are still empty: a run at valid positions matches the reference from zero.
  bindings["positions"].values = {5, 0};
  const va::TensorMap actual = executable.run(bindings);
  auto c = compare(actual.at("y"), va::run_reference(g, bindings).outputs.at("y"));
  CHECK(c.nan_count == 0);
  CHECK(c.normalised_error <= 1e-5);
  require_no_validation_messages();
}

TEST_CASE("sequences of one batch keep their own lengths", "[vulkan]") {
  va::PresetOptions o{.name = "gqa", .batch = 2, .seq = 10, .model = 32, .heads = 4, .kv_heads = 2,
                      .mask = va::Mask::causal};
  const va::Graph whole = va::build_preset(o);
  o.cache = 20;
  const va::Graph decoding = va::build_preset(o);
  const va::TensorMap bindings = va::random_bindings(whole, 23);
  const va::Tensor& x = bindings.at("x");
  const va::Tensor y = va::run_reference(whole, bindings).outputs.at("y");
  // Rows [first_b, first_b + count) of sequence b, for each b.
  auto rows = [](const va::Tensor& t, std::array<std::int64_t, 2> first, std::int64_t count) {
    va::Tensor out;
    out.shape = va::Shape{2, count, t.shape[2]};
    for (std::int64_t b = 0; b < 2; ++b)
      for (std::int64_t s = first[std::size_t(b)]; s < first[std::size_t(b)] + count; ++s)
        for (std::int64_t d = 0; d < t.shape[2]; ++d)
          out.values.push_back(t.values[std::size_t((b * t.shape[1] + s) * t.shape[2] + d)]);
    return out;
  };
  va::Decoder decoder(validated_context(), decoding, bindings, {.compile = {.target = validated_context().target()}});
  decoder.prefill({{"x", rows(x, {0, 0}, 6)}});
  decoder.set_length(1, 0);  // sequence 1 starts over; sequence 0 goes on at 6
  va::TensorMap out = decoder.step({{"x", rows(x, {6, 0}, 3)}});
  auto c = compare(out.at("y"), rows(y, {6, 0}, 3));
  CHECK(c.nan_count == 0);
  CHECK(c.normalised_error <= 1e-5);
  CHECK(decoder.lengths() == std::vector<std::int64_t>{9, 3});
  out = decoder.step({{"x", rows(x, {9, 3}, 1)}});
  c = compare(out.at("y"), rows(y, {9, 3}, 1));
  CHECK(c.normalised_error <= 1e-5);
  CHECK_THROWS_WITH(decoder.set_length(2, 0), Catch::Matchers::Contains("the batch has 2"));
  CHECK_THROWS_WITH(decoder.step({{"x", rows(x, {0, 0}, 1)}, {"positions", va::Tensor::zeros({2}, va::DType::i32)}}),
                    Catch::Matchers::Contains("is the decoder's to fill"));
  require_no_validation_messages();
}

TEST_CASE("a rolling window cache equals full attention under the window mask, for three times the window",
          "[vulkan]") {
  // Grouped heads with RoPE, a window of 6 held in 6 + 3 - 1 rows, runs of up to 3 tokens:
  // 20 tokens wrap the cache twice.
  const std::int64_t batch = 2, window = 6, run = 3, total = 20, model = 24;
  for (bool f16 : {false, true}) {
    INFO((f16 ? "f16" : "f32"));
    const va::DType dtype = f16 ? va::DType::f16 : va::DType::f32;
    va::Graph whole{"whole"};
    {
      auto x = whole.input("x", {batch, total, model}, dtype);
      whole.output("y", va::multi_head_attention(whole, x, x, x,
                                                 {.heads = 4, .kv_heads = 2, .mask = va::Mask::causal | va::Mask::sliding_window,
                                                  .window = window, .rotary = va::RotaryOptions{}}));
    }
    va::Graph rolling{"rolling"};
    {
      auto x = rolling.input("x", {batch, va::dyn("seq", run), model}, dtype);
      auto positions = rolling.input("positions", {batch}, va::DType::i32);
      rolling.output("y", va::multi_head_attention(
                              rolling, x, x, x,
                              {.heads = 4, .kv_heads = 2, .mask = va::Mask::sliding_window, .window = window,
                               .rotary = va::RotaryOptions{},
                               .cache = {.capacity = window + run - 1, .positions = positions, .rolling = true}}));
    }
    REQUIRE_FALSE(rolling.failed());
    va::TensorMap bindings = va::random_bindings(whole, 23);
    if (f16) bindings = va::testing::rounded_to_f16(bindings);
    const va::Tensor y = va::run_reference(whole, bindings).outputs.at("y");
    for (const va::Target& target : va::testing::targets_to_prove()) {
      INFO(target.name.view());
      va::Decoder decoder(validated_context(), rolling, bindings, {.compile = {.target = target, .f16_storage = f16}});
      CHECK(decoder.capacity() == std::int64_t(1) << 24);
      // One attention kernel whose score program finds each row's position.
      const va::Schedule& schedule = decoder.executable().schedule();
      CHECK(std::count_if(schedule.dispatches.begin(), schedule.dispatches.end(), [](const va::Dispatch& d) {
              return d.kernel == va::Kernel::flash_attention && d.program >= 0;
            }) == 1);
      decoder.executable().poison_arena(std::numeric_limits<float>::quiet_NaN());
      for (std::int64_t done = 0; done < total;) {
        const std::int64_t count = std::min<std::int64_t>(done == 0 ? run : 1 + done % run, total - done);
        INFO("tokens " << done << " to " << done + count - 1);
        va::TensorMap inputs{{"x", rows_of(bindings.at("x"), done, count)}};
        const va::TensorMap out = done == 0 ? decoder.prefill(inputs) : decoder.step(inputs);
        const auto cmp = compare(out.at("y"), rows_of(y, done, count));
        CHECK(cmp.nan_count == 0);
        CHECK(cmp.normalised_error <= (f16 ? 2e-2 : 1e-5));
        done += count;
      }
    }
  }
  // A rolling cache too small for a window and a run is refused, naming both.
  va::Graph small{"small"};
  auto x = small.input("x", {1, va::dyn("seq", 4), 8});
  auto positions = small.input("positions", {1}, va::DType::i32);
  const va::AttentionOptions too_small{.heads = 2, .mask = va::Mask::sliding_window, .window = 6,
                                       .cache = {.capacity = 8, .positions = positions, .rolling = true}};
  REQUIRE_GRAPH_ERROR(va::multi_head_attention(small, x, x, x, too_small), "a capacity of at least window + the tokens of one run - 1 (6 + 4 - 1), not 8");
  va::testing::require_no_validation_messages();
}
