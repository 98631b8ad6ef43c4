// Ragged batches on the device, validation and synchronization validation on: the new
// tokens of several sequences packed into one token axis, each token with its own
// position and its sequence's block table row, against the reference and against each
// sequence's own causal pass; the decoder's per-sequence counts and their refusals.
#include <algorithm>
#include <numeric>

#include "vkattn/decoder.hpp"
#include "vkattn/presets.hpp"
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
  std::int64_t tokens, pages_per_sequence, heads, kv_heads, head_dim, page_size, pages;
};

// Attention over a paged KV cache with one token per row: q, k and v [tokens, heads, 1,
// head_dim], positions [tokens] and block_table [tokens, pages per sequence].
va::Graph ragged_graph(const Sizes& s) {
  va::Graph g{"ragged"};
  const auto tokens = va::dyn("tokens", s.tokens);
  auto q = g.input("q", {tokens, s.heads, 1, s.head_dim});
  auto k = g.input("k", {tokens, s.kv_heads, 1, s.head_dim});
  auto v = g.input("v", {tokens, s.kv_heads, 1, s.head_dim});
  auto positions = g.input("positions", {tokens}, va::DType::i32);
  auto table = g.input("block_table", {tokens, s.pages_per_sequence}, va::DType::i32);
  const va::Shape pool{s.pages, s.kv_heads, s.page_size, s.head_dim};
  auto keys = va::paged_view(va::paged_cache_write(g.state("k_cache", pool), k, positions, table), table);
  auto values = va::paged_view(va::paged_cache_write(g.state("v_cache", pool), v, positions, table), table);
  if (s.kv_heads != s.heads) {
    keys = va::repeat_heads(keys, s.heads / s.kv_heads);
    values = va::repeat_heads(values, s.heads / s.kv_heads);
  }
  auto scores = va::cache_causal_mask(va::scale(va::matmul(q, keys, va::Transpose::b), 0.3), positions);
  g.output("y", va::matmul(va::softmax(scores), values));
  return g;
}

// The positions and block table rows of a step that gives sequence b counts[b] tokens
// from lengths[b] on, with `table` [sequences, pages per sequence] its pages.
std::pair<va::Tensor, va::Tensor> token_rows(const std::vector<std::int64_t>& lengths,
                                             const std::vector<std::int64_t>& counts, const va::Tensor& table) {
  const std::int64_t row = table.shape[1];
  const std::int64_t total = std::accumulate(counts.begin(), counts.end(), std::int64_t(0));
  va::Tensor positions = va::Tensor::zeros({total}, va::DType::i32);
  va::Tensor rows = va::Tensor::zeros({total, row}, va::DType::i32);
  std::size_t t = 0;
  for (std::size_t b = 0; b < counts.size(); ++b)
    for (std::int64_t i = 0; i < counts[b]; ++i, ++t) {
      positions.values[t] = double(lengths[b] + i);
      for (std::int64_t e = 0; e < row; ++e)
        rows.values[t * std::size_t(row) + std::size_t(e)] = table.values[b * std::size_t(row) + std::size_t(e)];
    }
  return {positions, rows};
}

}  // namespace

TEST_CASE("a ragged batch's tokens follow their own sequences: shuffled pages of 1, 16 and 32 positions, every "
          "target, fused and unfused, f32 and f16",
          "[vulkan]") {
  // Three sequences of different lengths; each step gives each its own number of new
  // tokens (a prefill beside single tokens, a sequence sitting a step out), packed
  // sequence after sequence. The pool holds spare pages, given out in a shuffled order,
  // and starts with random contents: only the table decides what a token reads. Each
  // step is compared with the reference, and the pools afterwards with the reference's.
  const std::vector<std::vector<std::int64_t>> steps{{5, 1, 0}, {1, 1, 1}, {0, 6, 2}, {3, 0, 1}, {1, 1, 1}};
  for (std::int64_t page_size : {1, 16, 32}) {
    const std::int64_t capacity = 64, per_sequence = capacity / page_size;
    const Sizes s{.tokens = 8, .pages_per_sequence = per_sequence, .heads = 4, .kv_heads = 2, .head_dim = 12,
                  .page_size = page_size, .pages = 3 * per_sequence + 2};
    const va::Graph ragged = ragged_graph(s);
    REQUIRE_FALSE(ragged.failed());
    std::vector<std::pair<va::Target, bool>> plans;
    for (const va::Target& target : va::testing::targets_to_prove()) plans.emplace_back(target, true);
    plans.emplace_back(validated_context().target(), false);
    for (bool f16 : {false, true}) {
      for (const auto& [target, fuse] : plans) {
        INFO("page size " << page_size << (f16 ? ", f16, " : ", f32, ") << target.name.view()
                          << (fuse ? ", fused" : ", unfused"));
        const std::vector<std::int64_t> order = shuffled(s.pages, std::uint64_t(page_size) * 17 + (f16 ? 3 : 0));
        va::Tensor table = va::Tensor::zeros({3, per_sequence}, va::DType::i32);
        for (std::size_t i = 0; i < table.values.size(); ++i) table.values[i] = double(order[i]);
        va::TensorMap pools{{"k_cache", va::Tensor::random({s.pages, s.kv_heads, page_size, s.head_dim}, 5, -1, 1)},
                            {"v_cache", va::Tensor::random({s.pages, s.kv_heads, page_size, s.head_dim}, 6, -1, 1)}};
        if (f16) pools = va::testing::rounded_to_f16(pools);
        va::Executable executable(validated_context(), ragged, {.fuse = fuse, .target = target, .f16_storage = f16}, {});
        for (const auto& [name, contents] : pools) executable.write_state(name, contents);
        executable.poison_arena(std::numeric_limits<float>::quiet_NaN());
        std::vector<std::int64_t> lengths{0, 9, 30};
        std::uint64_t seed = 200;
        for (const std::vector<std::int64_t>& counts : steps) {
          const std::int64_t total = std::accumulate(counts.begin(), counts.end(), std::int64_t(0));
          INFO("lengths " << lengths[0] << ", " << lengths[1] << ", " << lengths[2] << "; new " << counts[0] << ", "
                          << counts[1] << ", " << counts[2]);
          va::TensorMap inputs{{"q", va::Tensor::random({total, s.heads, 1, s.head_dim}, ++seed, -1, 1)},
                               {"k", va::Tensor::random({total, s.kv_heads, 1, s.head_dim}, ++seed, -1, 1)},
                               {"v", va::Tensor::random({total, s.kv_heads, 1, s.head_dim}, ++seed, -1, 1)}};
          if (f16) inputs = va::testing::rounded_to_f16(inputs);
          std::tie(inputs["positions"], inputs["block_table"]) = token_rows(lengths, counts, table);
          va::TensorMap bindings = inputs;
          for (const auto& [name, contents] : pools) bindings[name] = contents;
          const va::DimSizes sizes{{"tokens", total}};
          const va::ReferenceResult expected = va::run_reference(va::with_sizes(ragged, sizes), bindings);
          const va::TensorMap actual = executable.run(inputs);
          const auto cmp = compare(actual.at("y"), expected.outputs.at("y"));
          CHECK(cmp.nan_count == 0);
          CHECK(cmp.normalised_error <= (f16 ? 2e-2 : 1e-5));
          // What the step wrote, for the next one.
          const va::TensorMap written{{"k_cache", expected.values[std::size_t(write_of(ragged, "k_cache"))]},
                                      {"v_cache", expected.values[std::size_t(write_of(ragged, "v_cache"))]}};
          pools = written;
          for (std::size_t b = 0; b < lengths.size(); ++b) lengths[b] += counts[b];
        }
        for (const char* name : {"k_cache", "v_cache"})
          CHECK(compare(executable.read_state(name), pools.at(name)).normalised_error <= (f16 ? 1e-3 : 1e-7));
        require_no_validation_messages();
      }
    }
  }
}

TEST_CASE("a ragged batch's table rows: the tokens of one sequence share its pages, nothing is written twice",
          "[vulkan]") {
  const Sizes s{.tokens = 6, .pages_per_sequence = 4, .heads = 2, .kv_heads = 2, .head_dim = 4, .page_size = 4,
                .pages = 8};
  const va::Graph ragged = ragged_graph(s);
  va::Executable executable(validated_context(), ragged, {}, {});
  const va::Tensor table{.shape = {2, 4}, .dtype = va::DType::i32, .values = {3, 1, 6, 0, 2, 5, 4, 7}};
  va::TensorMap inputs = va::random_bindings(va::with_sizes(ragged, {{"tokens", 4}}), 8);
  // Sequence 0 appends 3 tokens at 3 (crossing from its first page into its second),
  // sequence 1 one token at 9.
  std::tie(inputs["positions"], inputs["block_table"]) = token_rows({3, 9}, {3, 1}, table);
  const va::Tensor before = executable.read_state("k_cache");
  auto refused = [&](const va::TensorMap& b, const std::string& expected) {
    CHECK_THROWS_WITH(executable.run(b), Catch::Matchers::Contains(expected));
    CHECK(compare(executable.read_state("k_cache"), before).normalised_error == 0);
  };
  // Two tokens of sequence 0 at one position.
  va::TensorMap b = inputs;
  b["positions"].values[1] = 3;
  refused(b, "rows 0 and 1 of input 'block_table' both write position 3 of their sequence (page 3 of 'k_cache')");
  // A token whose row differs from its sequence's: two sequences write page 1.
  b = inputs;
  b["block_table"].values[2 * 4 + 2] = 7;
  refused(b, "sequences 1 and 2 both write page 1");
  // Sequence 1 holds sequence 0's first page as its prefix while sequence 0 appends to it.
  b = inputs;
  b["block_table"].values[3 * 4 + 0] = 3;
  refused(b, "sequence 0 writes page 3 of 'k_cache', which sequence 3 also holds");
  // The packing as given runs and matches the reference.
  va::TensorMap bindings = inputs;
  bindings["k_cache"] = before;
  bindings["v_cache"] = executable.read_state("v_cache");
  const auto cmp = compare(executable.run(inputs).at("y"),
                           va::run_reference(va::with_sizes(ragged, {{"tokens", 4}}), bindings).outputs.at("y"));
  CHECK(cmp.nan_count == 0);
  CHECK(cmp.normalised_error <= 1e-5);
  require_no_validation_messages();
}

TEST_CASE("a ragged decoder: each sequence its own count per step, equal to its own causal pass, with forks and "
          "refusals, every target, f32 and f16",
          "[vulkan]") {
  // llama_block over a paged cache, its tokens packed. Sequence 0 prefills beside
  // sequence 1's single tokens; sequence 2 forks from sequence 0's first 6 tokens and
  // goes its own way. Every sequence's rows must equal a whole causal pass over its own
  // tokens (the reference, with no cache and no paging).
  const std::int64_t sequences = 3, total = 20, model = 32;
  for (bool f16 : {false, true}) {
    INFO((f16 ? "f16" : "f32"));
    va::PresetOptions o{.name = "llama_block", .batch = sequences, .seq = total, .model = model, .heads = 4,
                        .kv_heads = 2, .ffn_hidden = 40, .mask = va::Mask::causal, .f16 = f16};
    const va::Graph whole = va::build_preset(o);
    o.cache = 24;
    o.run_tokens = 16;
    o.page_size = 4;
    o.pages = 20;
    o.ragged = true;
    const va::Graph ragged = va::build_preset(o);
    REQUIRE_FALSE(ragged.failed());
    va::TensorMap bindings = va::random_bindings(whole, 81);
    va::Tensor& x = bindings.at("x");
    for (std::int64_t i = 0; i < 6 * model; ++i) x.values[std::size_t(2 * total * model + i)] = x.values[std::size_t(i)];
    if (f16) bindings = va::testing::rounded_to_f16(bindings);
    const va::Tensor y = va::run_reference(whole, bindings).outputs.at("y");
    const double tolerance = f16 ? 2e-2 : 1e-5;

    for (const va::Target& target : va::testing::targets_to_prove()) {
      INFO(target.name.view());
      va::Decoder decoder(validated_context(), ragged, bindings,
                          {.compile = {.target = target, .f16_storage = f16}, .sequences = 3});
      REQUIRE(decoder.ragged());
      CHECK(decoder.batch() == 3);
      decoder.executable().poison_arena(std::numeric_limits<float>::quiet_NaN());
      // The packed rows of a step: counts[b] tokens of sequence b from its length on (past
      // the last token: the last again).
      auto packed = [&](const std::vector<std::int64_t>& counts) {
        const std::int64_t n = std::accumulate(counts.begin(), counts.end(), std::int64_t(0));
        va::Tensor t = va::Tensor::zeros({n, 1, model});
        std::size_t at = 0;
        for (std::size_t b = 0; b < counts.size(); ++b)
          for (std::int64_t i = 0; i < counts[b]; ++i, at += std::size_t(model))
            for (std::int64_t d = 0; d < model; ++d)
              t.values[at + std::size_t(d)] =
                  bindings.at("x").values[std::size_t(
                      (std::int64_t(b) * total + std::min(decoder.lengths()[b] + i, total - 1)) * model + d)];
        return va::TensorMap{{"x", t}};
      };
      auto step = [&](const std::vector<std::int64_t>& counts) {
        const std::vector<std::int64_t> first = decoder.lengths();
        const va::TensorMap out = decoder.step(packed(counts), counts);
        for (std::int64_t b = 0; b < sequences; ++b) {
          const va::Tensor got = va::sequence_rows(out, counts, b).at("y");
          REQUIRE(got.shape[0] == counts[std::size_t(b)]);
          for (std::int64_t s = 0; s < counts[std::size_t(b)]; ++s) {
            double difference = 0, magnitude = 0;
            for (std::int64_t d = 0; d < model; ++d) {
              const double a = got.values[std::size_t(s * model + d)];
              const double r = y.values[std::size_t((b * total + first[std::size_t(b)] + s) * model + d)];
              difference += (a - r) * (a - r);
              magnitude += r * r;
            }
            INFO("sequence " << b << ", token " << first[std::size_t(b)] + s);
            CHECK(std::sqrt(difference / magnitude) <= tolerance);
          }
        }
      };
      decoder.remove(2);
      step({7, 1, 0});
      step({1, 5, 0});
      CHECK(decoder.lengths() == std::vector<std::int64_t>{8, 6, 0});
      CHECK(decoder.pages_used() == 4);
      decoder.fork(0, 2, 6);  // shares sequence 0's first two pages
      CHECK(decoder.pages_used() == 4);
      step({1, 1, 3});  // sequence 2 appends to the shared second page: copied
      step({0, 2, 5});
      step({3, 1, 1});
      CHECK(decoder.lengths() == std::vector<std::int64_t>{12, 10, 15});
      // step(inputs) shares the rows evenly among the active sequences.
      {
        const std::vector<std::int64_t> first = decoder.lengths();
        const va::TensorMap out = decoder.step(packed({1, 1, 1}));
        for (std::int64_t b = 0; b < sequences; ++b) {
          const va::Tensor got = va::sequence_rows(out, {1, 1, 1}, b).at("y");
          double difference = 0, magnitude = 0;
          for (std::int64_t d = 0; d < model; ++d) {
            const double r = y.values[std::size_t((b * total + first[std::size_t(b)]) * model + d)];
            difference += (got.values[std::size_t(d)] - r) * (got.values[std::size_t(d)] - r);
            magnitude += r * r;
          }
          CHECK(std::sqrt(difference / magnitude) <= tolerance);
        }
      }
      // Refusals leave everything as it was.
      const std::vector<std::int64_t> lengths = decoder.lengths();
      const std::int64_t used = decoder.pages_used();
      auto refused = [&](auto&& run, const std::string& expected) {
        CHECK_THROWS_WITH(run(), Catch::Matchers::Contains(expected));
        CHECK(decoder.lengths() == lengths);
        CHECK(decoder.pages_used() == used);
      };
      refused([&] { return decoder.step(packed({1, 1, 1}), {1, 2}); }, "2 token counts for the 3 sequences");
      refused([&] { return decoder.step(packed({1, 1, 1}), {1, 1, 2}); },
              "the token counts add up to 4, but the inputs hold 3 tokens");
      refused([&] { return decoder.step(packed({1, 1}), {1, -1, 1}); }, "sequence 1 was given -1 tokens");
      refused([&] { return decoder.step(packed({0, 0, 4})); }, "do not split evenly among the 3 active sequences");
      refused([&] { return decoder.step(packed({0, 0, 0}), {0, 0, 0}); }, "at least one token");
      refused([&] { return decoder.step(packed({0, 0, 9}), {0, 0, 9}); }, "sequence 2 holds 16 tokens; 9 more exceed");
      decoder.remove(1);
      CHECK_THROWS_WITH(decoder.step(packed({1, 1, 1}), {1, 1, 1}),
                        Catch::Matchers::Contains("sequence 1 is idle: add() it"));
      CHECK_THROWS_WITH(va::sequence_rows(decoder.step(packed({1, 0, 1}), {1, 0, 1}), {1, 1, 1}, 0),
                        Catch::Matchers::Contains("has no token axis of the step's 3 tokens"));
      require_no_validation_messages();
    }
  }
}

TEST_CASE("per-sequence token counts need a ragged graph", "[vulkan]") {
  va::PresetOptions o{.name = "llama_block", .batch = 2, .model = 16, .heads = 2, .ffn_hidden = 16, .cache = 8};
  const va::Graph g = va::build_preset(o);
  va::Decoder decoder(validated_context(), g, va::random_bindings(g, 1), {});
  CHECK_FALSE(decoder.ragged());
  CHECK_THROWS_WITH(decoder.step({{"x", va::Tensor::zeros({2, 1, 16})}}, {1, 1}),
                    Catch::Matchers::Contains("per-sequence counts need a ragged graph"));
  CHECK_THROWS_WITH(va::Decoder(validated_context(), g, va::random_bindings(g, 1), {.sequences = 4}),
                    Catch::Matchers::Contains("DecodeOptions::sequences sizes a ragged batch"));
  o.ragged = true;
  CHECK_THROWS_WITH(va::build_preset(o), Catch::Matchers::Contains("a ragged batch packs the tokens of sequences "
                                                                   "that page one KV cache"));
  require_no_validation_messages();
}
