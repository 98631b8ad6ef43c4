// Paged KV caches on the device, validation and synchronization validation on: one pool
// of pages shared by the sequences of a batch through a block table, against the
// reference and against a contiguous cache, under every target, f32 and f16; the
// decoder's page allocator, prefix forks and refusals.
#include <algorithm>
#include <numeric>

#include "vkattn/decoder.hpp"
#include "vkattn/presets.hpp"
#include "graph_error_matchers.hpp"
#include "page_tables.hpp"
#include "vulkan_harness.hpp"

namespace va = vkattn;
using va::testing::compare;
using va::testing::require_no_validation_messages;
using va::testing::shuffled;
using va::testing::validated_context;
using va::testing::write_of;

namespace {

struct Sizes {
  std::int64_t batch, rows, capacity, heads, kv_heads, head_dim, page_size, pages;
};

// Attention over a KV cache written with the primitives, paged (page_size > 0) or
// contiguous; q, k and v hold up to `rows` new tokens per sequence.
va::Graph cache_graph(const Sizes& s, bool paged) {
  va::Graph g{paged ? "paged" : "contiguous"};
  auto q = g.input("q", {s.batch, s.heads, va::dyn("seq", s.rows), s.head_dim});
  auto k = g.input("k", {s.batch, s.kv_heads, va::dyn("seq", s.rows), s.head_dim});
  auto v = g.input("v", {s.batch, s.kv_heads, va::dyn("seq", s.rows), s.head_dim});
  auto positions = g.input("positions", {s.batch}, va::DType::i32);
  va::Value keys, values;
  if (paged) {
    auto table = g.input("block_table", {s.batch, s.capacity / s.page_size}, va::DType::i32);
    const va::Shape pool{s.pages, s.kv_heads, s.page_size, s.head_dim};
    keys = va::paged_view(va::paged_cache_write(g.state("k_cache", pool), k, positions, table), table);
    values = va::paged_view(va::paged_cache_write(g.state("v_cache", pool), v, positions, table), table);
  } else {
    const va::Shape cache{s.batch, s.kv_heads, s.capacity, s.head_dim};
    keys = va::cache_write(g.state("k_cache", cache), k, positions);
    values = va::cache_write(g.state("v_cache", cache), v, positions);
  }
  if (s.kv_heads != s.heads) {
    keys = va::repeat_heads(keys, s.heads / s.kv_heads);
    values = va::repeat_heads(values, s.heads / s.kv_heads);
  }
  auto scores = va::cache_causal_mask(va::scale(va::matmul(q, keys, va::Transpose::b), 0.3), positions);
  g.output("y", va::matmul(va::softmax(scores), values));
  return g;
}

}  // namespace

TEST_CASE("a paged cache equals a contiguous one: shuffled pages of 1, 16 and 32 positions, every target, f32 and f16",
          "[vulkan]") {
  // Three sequences starting at different lengths, grouped heads, an awkward head
  // dimension; runs of 1 to 5 tokens. The pool holds more pages than the sequences use,
  // given to them in a shuffled order, and starts with random contents (pages another
  // sequence wrote before): only the table decides what a sequence reads.
  const std::int64_t steps[] = {5, 1, 3, 1, 4, 1, 2};
  for (std::int64_t page_size : {1, 16, 32}) {
    const Sizes s{.batch = 3, .rows = 5, .capacity = 64, .heads = 4, .kv_heads = 2, .head_dim = 12,
                  .page_size = page_size, .pages = 3 * 64 / page_size + 3};
    const va::Graph paged = cache_graph(s, true), contiguous = cache_graph(s, false);
    REQUIRE_FALSE(paged.failed());
    // One attention kernel reads the pool through the table: no copy of the pages.
    const auto kernels = va::testing::fused_kernels(paged);
    CHECK(std::count(kernels.begin(), kernels.end(), va::Kernel::flash_attention) == 1);
    CHECK(std::count(kernels.begin(), kernels.end(), va::Kernel::gather) == 0);
    // Fused under every target, and the unfused schedule (the paged view gathered).
    std::vector<std::pair<va::Target, bool>> plans;
    for (const va::Target& target : va::testing::targets_to_prove()) plans.emplace_back(target, true);
    plans.emplace_back(validated_context().target(), false);
    for (bool f16 : {false, true}) {
      for (const auto& [target, fuse] : plans) {
        INFO("page size " << page_size << (f16 ? ", f16, " : ", f32, ") << target.name.view()
                          << (fuse ? ", fused" : ", unfused"));
        const std::int64_t per_sequence = s.capacity / page_size;
        const std::vector<std::int64_t> order = shuffled(s.pages, std::uint64_t(page_size) * 31 + (f16 ? 7 : 0));
        va::Tensor table = va::Tensor::zeros({s.batch, per_sequence}, va::DType::i32);
        for (std::size_t i = 0; i < table.values.size(); ++i) table.values[i] = double(order[i]);
        va::TensorMap pools{{"k_cache", va::Tensor::random({s.pages, s.kv_heads, page_size, s.head_dim}, 5, -1, 1)},
                            {"v_cache", va::Tensor::random({s.pages, s.kv_heads, page_size, s.head_dim}, 6, -1, 1)}};
        // The contiguous caches hold what the pages hold, sequence by sequence.
        va::TensorMap caches;
        for (const char* name : {"k_cache", "v_cache"}) {
          va::Tensor c = va::Tensor::zeros({s.batch, s.kv_heads, s.capacity, s.head_dim});
          const va::Tensor& pool = pools.at(name);
          for (std::int64_t b = 0; b < s.batch; ++b)
            for (std::int64_t h = 0; h < s.kv_heads; ++h)
              for (std::int64_t r = 0; r < s.capacity; ++r)
                for (std::int64_t d = 0; d < s.head_dim; ++d) {
                  const std::int64_t page = std::int64_t(table.values[std::size_t(b * per_sequence + r / page_size)]);
                  c.values[std::size_t(((b * s.kv_heads + h) * s.capacity + r) * s.head_dim + d)] =
                      pool.values[std::size_t(((page * s.kv_heads + h) * page_size + r % page_size) * s.head_dim + d)];
                }
          caches[name] = c;
        }
        if (f16) pools = va::testing::rounded_to_f16(pools), caches = va::testing::rounded_to_f16(caches);
        va::Executable executable(validated_context(), paged, {.fuse = fuse, .target = target, .f16_storage = f16}, {});
        for (const auto& [name, contents] : pools) executable.write_state(name, contents);
        executable.poison_arena(std::numeric_limits<float>::quiet_NaN());
        std::vector<std::int64_t> lengths{0, 9, 30};
        std::uint64_t seed = 100;
        for (std::int64_t count : steps) {
          INFO("lengths " << lengths[0] << ", " << lengths[1] << ", " << lengths[2] << ", " << count << " more");
          va::TensorMap inputs{{"q", va::Tensor::random({s.batch, s.heads, count, s.head_dim}, ++seed, -1, 1)},
                               {"k", va::Tensor::random({s.batch, s.kv_heads, count, s.head_dim}, ++seed, -1, 1)},
                               {"v", va::Tensor::random({s.batch, s.kv_heads, count, s.head_dim}, ++seed, -1, 1)}};
          if (f16) inputs = va::testing::rounded_to_f16(inputs);
          va::Tensor positions = va::Tensor::zeros({s.batch}, va::DType::i32);
          for (std::size_t b = 0; b < lengths.size(); ++b) positions.values[b] = double(lengths[b]);
          inputs["positions"] = positions;
          inputs["block_table"] = table;
          va::TensorMap paged_bindings = inputs, contiguous_bindings = inputs;
          for (const auto& [name, contents] : pools) paged_bindings[name] = contents;
          for (const auto& [name, contents] : caches) contiguous_bindings[name] = contents;
          const va::DimSizes sizes{{"seq", count}};
          const va::ReferenceResult expected = va::run_reference(va::with_sizes(paged, sizes), paged_bindings);
          const va::ReferenceResult unpaged = va::run_reference(va::with_sizes(contiguous, sizes), contiguous_bindings);
          // The paged reference is the contiguous one: the table only moves positions.
          CHECK(compare(expected.outputs.at("y"), unpaged.outputs.at("y")).normalised_error <= 1e-12);
          const va::TensorMap actual = executable.run(inputs);
          const auto cmp = compare(actual.at("y"), expected.outputs.at("y"));
          CHECK(cmp.nan_count == 0);
          CHECK(cmp.normalised_error <= (f16 ? 2e-2 : 1e-5));
          for (const char* name : {"k_cache", "v_cache"}) {
            pools[name] = expected.values[std::size_t(write_of(paged, name))];
            caches[name] = unpaged.values[std::size_t(write_of(contiguous, name))];
          }
          for (std::int64_t& length : lengths) length += count;
        }
        // The pools on the device hold what the reference wrote.
        for (const char* name : {"k_cache", "v_cache"})
          CHECK(compare(executable.read_state(name), pools.at(name)).normalised_error <= (f16 ? 1e-3 : 1e-7));
        require_no_validation_messages();
      }
    }
  }
}

TEST_CASE("a paged cache over a long context: the split-over-keys decode form reads through the table", "[vulkan]") {
  // One query per sequence over more than 1024 positions: the split form of both
  // attention kernels, grouped heads read once per group.
  const Sizes s{.batch = 2, .rows = 1, .capacity = 1280, .heads = 4, .kv_heads = 1, .head_dim = 16,
                .page_size = 16, .pages = 2 * 1280 / 16 + 1};
  const va::Graph paged = cache_graph(s, true);
  for (const va::Target& target : va::testing::targets_to_prove()) {
    INFO(target.name.view());
    const va::Schedule schedule = va::compile(paged, target);
    CHECK(std::any_of(schedule.dispatches.begin(), schedule.dispatches.end(),
                      [](const va::Dispatch& d) { return d.kernel == va::Kernel::attention_combine; }));
    va::TensorMap bindings = va::random_bindings(paged, 41);
    bindings["positions"].values = {1100, 1279};
    const std::vector<std::int64_t> order = shuffled(s.pages, 9);
    for (std::size_t i = 0; i < bindings["block_table"].values.size(); ++i)
      bindings["block_table"].values[i] = double(order[i]);
    va::TensorMap pools{{"k_cache", va::Tensor::random({s.pages, 1, 16, 16}, 42, -1, 1)},
                        {"v_cache", va::Tensor::random({s.pages, 1, 16, 16}, 43, -1, 1)}};
    va::Executable executable(validated_context(), schedule, {});
    const va::TensorMap inputs = bindings;
    for (const auto& [name, contents] : pools) executable.write_state(name, contents), bindings[name] = contents;
    executable.poison_arena(std::numeric_limits<float>::quiet_NaN());
    const auto cmp = compare(executable.run(inputs).at("y"), va::run_reference(paged, bindings).outputs.at("y"));
    CHECK(cmp.nan_count == 0);
    CHECK(cmp.normalised_error <= 1e-5);
  }
  require_no_validation_messages();
}

TEST_CASE("a paged cache's table and positions are checked before anything is written", "[vulkan]") {
  const Sizes s{.batch = 3, .rows = 4, .capacity = 32, .heads = 2, .kv_heads = 2, .head_dim = 4,
                .page_size = 8, .pages = 10};
  const va::Graph paged = cache_graph(s, true);
  va::Executable executable(validated_context(), paged, {}, {});
  va::TensorMap bindings = va::random_bindings(paged, 3);
  const va::Tensor table = va::Tensor{.shape = {3, 4}, .dtype = va::DType::i32,
                                      .values = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, -1, -1}};
  bindings["block_table"] = table;
  bindings["positions"].values = {6, 28, 13};
  const va::Tensor before = executable.read_state("k_cache");
  auto refused = [&](const va::TensorMap& b, const std::string& expected) {
    CHECK_THROWS_WITH(executable.run(b), Catch::Matchers::Contains(expected));
    CHECK(compare(executable.read_state("k_cache"), before).normalised_error == 0);
  };
  // Sequence 2 at 13 + 4 reaches its table's third entry, -1.
  refused(bindings, "input 'block_table' gives sequence 2 page -1 for its positions 16..23");
  // A page outside the pool.
  va::TensorMap b = bindings;
  b["block_table"].values[10] = 10;
  refused(b, "holds pages 0 to 9");
  // Two sequences writing one page.
  b = bindings;
  b["block_table"].values[9] = 0;   // sequence 2's page of positions 8..15 is sequence 0's first
  b["block_table"].values[10] = 1;  // and of 16..23 sequence 0's second, which sequence 0 writes
  refused(b, "sequences 0 and 2 both write page 0");
  // A sequence writing a page another one reads (a shared prefix page, not copied).
  b = bindings;
  b["positions"].values = {6, 28, 12};
  b["block_table"].values[8] = 0;  // sequence 2's first page is sequence 0's, which sequence 0 appends to
  refused(b, "sequence 0 writes page 0 of 'k_cache', which sequence 2 also holds");
  // Past the capacity of the table row, and a position below -1.
  b = bindings;
  b["positions"].values = {6, 29, 4};
  refused(b, "puts sequence 1 at position 29");
  b["positions"].values = {6, -2, 4};
  refused(b, "puts sequence 1 at position -2");
  for (double bad : {1e300, std::numeric_limits<double>::quiet_NaN()}) {
    b["positions"].values = {6, bad, 4};
    refused(b, "puts sequence 1 at position");
  }
  // A table entry that is no integer.
  b = bindings;
  b["positions"].values = {6, 20, 4};
  b["block_table"].values[4] = 4.5;
  refused(b, "which is not an int32");
  // An idle sequence (-1) is not checked and writes nothing; the rest run.
  b = bindings;
  b["positions"].values = {6, 20, -1};
  const va::TensorMap out = executable.run(b);
  const va::ReferenceResult expected = va::run_reference(paged, b);
  const va::Tensor y = out.at("y"), y_ref = expected.outputs.at("y");
  // Sequences 0 and 1 match the reference; the idle sequence's rows are not compared.
  const std::size_t per_sequence = y.values.size() / 3;
  for (std::size_t i = 0; i < 2 * per_sequence; ++i) CHECK(std::abs(y.values[i] - y_ref.values[i]) <= 1e-5);
  CHECK(compare(executable.read_state("k_cache"), expected.values[std::size_t(write_of(paged, "k_cache"))])
            .normalised_error <= 1e-7);
  require_no_validation_messages();
}

TEST_CASE("decoding with a paged cache: sequences added, removed and forked from a shared prefix", "[vulkan]") {
  // llama_block with a paged cache of pages of 4 positions. Sequence 0 decodes a prompt;
  // sequence 1 forks from its first 6 tokens (sharing a page and a half) and goes its own
  // way; each must equal a whole causal pass over its own tokens, the reference.
  const std::int64_t batch = 3, total = 20, model = 32;
  for (bool f16 : {false, true}) {
    INFO((f16 ? "f16" : "f32"));
    va::PresetOptions o{.name = "llama_block", .batch = batch, .seq = total, .model = model, .heads = 4,
                        .kv_heads = 2, .ffn_hidden = 40, .mask = va::Mask::causal, .f16 = f16};
    const va::Graph whole = va::build_preset(o);
    o.cache = 20;
    o.page_size = 4;
    o.pages = 9;
    const va::Graph decoding = va::build_preset(o);
    REQUIRE_FALSE(decoding.failed());
    va::TensorMap bindings = va::random_bindings(whole, 71);
    // Sequence 1's tokens are sequence 0's first 6, then its own: the fork shares the prefix.
    va::Tensor& x = bindings.at("x");
    for (std::int64_t i = 0; i < 6 * model; ++i) x.values[std::size_t(total * model + i)] = x.values[std::size_t(i)];
    if (f16) bindings = va::testing::rounded_to_f16(bindings);
    const va::Tensor y = va::run_reference(whole, bindings).outputs.at("y");
    const double tolerance = f16 ? 2e-2 : 1e-5;

    va::Decoder decoder(validated_context(), decoding, bindings,
                        {.compile = {.target = validated_context().target(), .f16_storage = f16}});
    REQUIRE(decoder.paged());
    CHECK(decoder.pages() == 9);
    decoder.executable().poison_arena(std::numeric_limits<float>::quiet_NaN());
    // Rows [first, first + count) of each sequence's tokens (past the end: the last).
    auto tokens = [&](const std::array<std::int64_t, 3>& first, std::int64_t count) {
      va::Tensor t = va::Tensor::zeros({batch, count, model});
      for (std::int64_t b = 0; b < batch; ++b)
        for (std::int64_t s = 0; s < count; ++s)
          for (std::int64_t d = 0; d < model; ++d)
            t.values[std::size_t((b * count + s) * model + d)] =
                bindings.at("x").values[std::size_t((b * total + std::min(first[std::size_t(b)] + s, total - 1)) * model + d)];
      return va::TensorMap{{"x", t}};
    };
    // Sequence `sequence`'s rows of a step's output against the reference's tokens from `first`.
    auto check_rows = [&](const va::TensorMap& out, std::int64_t sequence, std::int64_t first) {
      const va::Tensor& got = out.at("y");
      const std::int64_t count = got.shape[1];
      for (std::int64_t s = 0; s < count; ++s) {
        double difference = 0, magnitude = 0;
        for (std::int64_t d = 0; d < model; ++d) {
          const double a = got.values[std::size_t((sequence * count + s) * model + d)];
          const double r = y.values[std::size_t((sequence * total + first + s) * model + d)];
          difference += (a - r) * (a - r);
          magnitude += r * r;
        }
        INFO("sequence " << sequence << ", token " << first + s);
        CHECK(std::sqrt(difference / magnitude) <= tolerance);
      }
    };
    // Only sequence 0 at first.
    decoder.remove(1);
    decoder.remove(2);
    CHECK_FALSE(decoder.active(2));
    va::TensorMap out = decoder.step(tokens({0, 0, 0}, 7));  // sequence 0: tokens 0..6
    check_rows(out, 0, 0);
    CHECK(decoder.pages_used() == 2);
    CHECK(decoder.lengths() == std::vector<std::int64_t>{7, 0, 0});
    decoder.fork(0, 1, 6);  // sequence 1 shares both pages (positions 0..3 and 4..5)
    CHECK(decoder.pages_used() == 2);
    CHECK(decoder.active(1));
    // One token each: sequence 0's 8th and sequence 1's 7th both land in the shared
    // second page, which is copied for one of them.
    out = decoder.step(tokens({7, 6, 0}, 1));
    check_rows(out, 0, 7);
    check_rows(out, 1, 6);
    CHECK(decoder.pages_used() == 3);
    for (std::int64_t at = 8; at < 14; ++at) {
      out = decoder.step(tokens({at, at - 1, 0}, 1));
      check_rows(out, 0, at);
      check_rows(out, 1, at - 1);
    }
    CHECK(decoder.lengths() == std::vector<std::int64_t>{14, 13, 0});
    CHECK(decoder.pages_used() == 7);  // 4 pages each, the first shared
    // A third sequence: 5 more tokens each need 4 pages, and 2 are free.
    CHECK(decoder.add() == 2);
    CHECK_THROWS_WITH(decoder.step(tokens({14, 13, 0}, 5)),
                      Catch::Matchers::Contains("page pool is exhausted") &&
                          Catch::Matchers::Contains("sequence 0: 1, sequence 1: 1, sequence 2: 2") &&
                          Catch::Matchers::Contains("2 of its 9 are free"));
    // Nothing changed; removing sequence 1 frees its 3 own pages, and the step runs.
    CHECK(decoder.pages_used() == 7);
    CHECK(decoder.lengths() == std::vector<std::int64_t>{14, 13, 0});
    decoder.remove(1);
    CHECK(decoder.pages_used() == 4);
    CHECK_THROWS_WITH(decoder.step({{"x", tokens({0, 0, 0}, 1).at("x")}, {"block_table", va::Tensor{}}}),
                      Catch::Matchers::Contains("is the decoder's to fill"));
    out = decoder.step(tokens({14, 0, 0}, 5));
    check_rows(out, 0, 14);
    check_rows(out, 2, 0);
    CHECK(decoder.pages_used() == 7);
    require_no_validation_messages();
  }
}

TEST_CASE("a rolling paged cache equals full attention under the window mask, for three times the window, batched and "
          "ragged",
          "[vulkan]") {
  // A window of 6 held in 2 pages of 4 positions per sequence (6 + 3 - 1 = 8 rows), runs
  // of up to 3 tokens: 20 tokens wrap each sequence's table row twice, so a sequence
  // never holds more than its 2 pages. Batched, every sequence appends the same count;
  // ragged, each its own.
  const std::int64_t batch = 2, window = 6, run = 3, total = 20, model = 24, page_size = 4, capacity = 8;
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
    auto rolling_graph = [&](bool ragged) {
      va::Graph g{ragged ? "rolling_ragged" : "rolling_paged"};
      // Ragged, the window and any one sequence's share of a run fit the rows: a run
      // holds `run` tokens in all.
      const auto rows = va::dyn(ragged ? "tokens" : "seq", run);
      auto x = ragged ? g.input("x", {rows, 1, model}, dtype) : g.input("x", {batch, rows, model}, dtype);
      auto positions = ragged ? g.input("positions", {rows}, va::DType::i32) : g.input("positions", {batch}, va::DType::i32);
      auto table = ragged ? g.input("block_table", {rows, capacity / page_size}, va::DType::i32)
                          : g.input("block_table", {batch, capacity / page_size}, va::DType::i32);
      g.output("y", va::multi_head_attention(
                        g, x, x, x,
                        {.heads = 4, .kv_heads = 2, .mask = va::Mask::sliding_window, .window = window,
                         .rotary = va::RotaryOptions{},
                         .cache = {.capacity = capacity, .positions = positions, .rolling = true, .page_size = page_size,
                                   .pages = 2 * batch + 1, .block_table = table}}));
      return g;
    };
    va::TensorMap bindings = va::random_bindings(whole, 29);
    if (f16) bindings = va::testing::rounded_to_f16(bindings);
    const va::Tensor y = va::run_reference(whole, bindings).outputs.at("y");
    const va::Tensor& x = bindings.at("x");
    // Sequence b's tokens [first, first + count).
    auto tokens_of = [&](const va::Tensor& t, std::int64_t b, std::int64_t first, std::int64_t count) {
      return std::vector<double>(t.values.begin() + std::ptrdiff_t((b * total + first) * model),
                                 t.values.begin() + std::ptrdiff_t((b * total + first + count) * model));
    };
    auto check_close = [&](const std::vector<double>& got, const std::vector<double>& want) {
      REQUIRE(got.size() == want.size());
      double difference = 0, magnitude = 0;
      for (std::size_t i = 0; i < got.size(); ++i) {
        CHECK(std::isfinite(got[i]));
        difference += (got[i] - want[i]) * (got[i] - want[i]);
        magnitude += want[i] * want[i];
      }
      CHECK(std::sqrt(difference / magnitude) <= (f16 ? 2e-2 : 1e-5));
    };
    for (bool ragged : {false, true}) {
      const va::Graph rolling = rolling_graph(ragged);
      REQUIRE_FALSE(rolling.failed());
      for (const va::Target& target : va::testing::targets_to_prove()) {
        INFO(target.name.view() << (ragged ? ", ragged" : ", batched"));
        va::Decoder decoder(validated_context(), rolling, bindings,
                            {.compile = {.target = target, .f16_storage = f16}, .sequences = ragged ? batch : 0});
        CHECK(decoder.capacity() == std::int64_t(1) << 24);
        // One attention kernel whose score program finds each row's position.
        const va::Schedule& schedule = decoder.executable().schedule();
        CHECK(std::count_if(schedule.dispatches.begin(), schedule.dispatches.end(), [](const va::Dispatch& d) {
                return d.kernel == va::Kernel::flash_attention && d.program >= 0;
              }) == 1);
        decoder.executable().poison_arena(std::numeric_limits<float>::quiet_NaN());
        std::vector<std::int64_t> done(std::size_t(batch), 0);
        for (int r = 0; done[0] < total || done[1] < total; ++r) {
          // Batched: 1 to 3 tokens each; ragged: 1 or 2, the two sequences' counts differ.
          std::vector<std::int64_t> counts(static_cast<std::size_t>(batch), 0);
          for (std::size_t b = 0; b < counts.size(); ++b)
            counts[b] = std::min<std::int64_t>(!ragged ? 1 + r % run : b == 0 ? 1 + r % 2 : 2 - r % 2, total - done[b]);
          if (!ragged) counts[1] = counts[0];
          INFO("step " << r << ": tokens from " << done[0] << ", " << done[1]);
          va::Tensor packed;
          packed.dtype = dtype;
          for (std::int64_t b = 0; b < batch; ++b) {
            const std::vector<double> rows = tokens_of(x, b, done[std::size_t(b)], counts[std::size_t(b)]);
            packed.values.insert(packed.values.end(), rows.begin(), rows.end());
          }
          const std::int64_t n = counts[0] + counts[1];
          packed.shape = ragged ? va::Shape{n, 1, model} : va::Shape{batch, counts[0], model};
          const va::TensorMap out = ragged ? decoder.step({{"x", packed}}, counts) : decoder.step({{"x", packed}});
          for (std::int64_t b = 0; b < batch; ++b) {
            if (counts[std::size_t(b)] == 0) continue;
            const va::Tensor got = ragged ? va::sequence_rows(out, counts, b).at("y") : out.at("y");
            const std::size_t per = std::size_t(counts[std::size_t(b)] * model);
            const std::vector<double> rows(got.values.begin() + std::ptrdiff_t(ragged ? 0 : std::size_t(b) * per),
                                           got.values.begin() + std::ptrdiff_t((ragged ? 0 : std::size_t(b) * per) + per));
            check_close(rows, tokens_of(y, b, done[std::size_t(b)], counts[std::size_t(b)]));
            done[std::size_t(b)] += counts[std::size_t(b)];
          }
          // Each sequence holds at most its table row's 2 pages, however far it runs.
          CHECK(decoder.pages_used() <= 2 * batch);
        }
      }
    }
  }
  require_no_validation_messages();
}
