// Attention variants written by hand from index values and pointwise ops (the style of
// attention-gym): each compiles to one attention dispatch with a generated score
// program, and matches the reference fused and unfused, under every target, in f32 and
// f16, at awkward sizes, in the split-over-keys decode form and over a KV cache.
#include <algorithm>
#include <cmath>
#include <functional>
#include <random>

#include <nlohmann/json.hpp>

#include "vkattn/schedule_text.hpp"
#include "vulkan_harness.hpp"

namespace va = vkattn;
using Catch::Matchers::Contains;
using va::testing::check_schedule_on_device;

namespace {

constexpr std::int64_t batch = 2, heads = 2, head_dim = 8, t5_buckets = 32;

// The sizes a variant is built for; its extra inputs come from the graph on demand.
struct Build {
  va::Graph& g;
  std::int64_t queries, keys;
  va::DType dtype;
  va::Value input(const char* name, va::Shape shape, va::DType type) const {
    const va::Value existing = g.find(name);
    return existing.valid() ? existing : g.input(name, shape, type);
  }
  va::Value documents() const { return input("documents", {batch, keys}, va::DType::i32); }
  va::Value prefix() const { return input("prefix", {batch}, va::DType::i32); }
  va::Value slopes() const { return input("slopes", {heads}, dtype); }
  va::Value t5_table() const { return input("t5_table", {heads, t5_buckets}, dtype); }
  va::Value bias() const { return input("bias", {heads, queries, keys}, dtype); }
  va::Value keep() const { return input("keep", {batch, 1, queries, keys}, va::DType::i32); }
};

struct Variant {
  const char* name;
  std::function<va::Value(va::ScorePositions, const Build&)> modify;
};

// The catalog. Each is a few lines of DSL over the scores' positions `at`.
const std::vector<Variant>& catalog() {
  using namespace va;
  static const std::vector<Variant> variants{
      {"causal", [](ScorePositions at, const Build&) { return hide_unless(at.scores, causal_visible(at)); }},
      {"sliding window", [](ScorePositions at, const Build&) { return hide_unless(at.scores, window_visible(at, 5)); }},
      {"prefix-LM",
       [](ScorePositions at, const Build& b) { return hide_unless(at.scores, prefix_lm_visible(at, b.prefix())); }},
      {"document mask",
       [](ScorePositions at, const Build& b) { return hide_unless(at.scores, document_visible(at, b.documents())); }},
      {"T5 buckets", [](ScorePositions at, const Build& b) { return t5_bias(at, b.t5_table(), 20); }},
      {"ALiBi", [](ScorePositions at, const Build& b) { return alibi_bias(at, b.slopes()); }},
      {"softcap", [](ScorePositions at, const Build&) { return softcap(at.scores, 2.5); }},
      {"softcap and window",
       [](ScorePositions at, const Build&) {
         return hide_unless(softcap(at.scores, 1.5), window_visible(at, 9));
       }},
      {"dilated window",
       [](ScorePositions at, const Build&) { return hide_unless(at.scores, dilated_visible(at, 4, 3)); }},
      {"global and local",
       [](ScorePositions at, const Build&) { return hide_unless(at.scores, global_local_visible(at, 2, 3)); }},
      {"[H, Sq, Sk] bias", [](ScorePositions at, const Build& b) { return add(at.scores, b.bias()); }},
      {"boolean mask tensor",
       [](ScorePositions at, const Build& b) {
         return hide_unless(at.scores, equal(b.keep(), index_constant(at.scores, 1)));
       }},
      {"document mask from cumulative lengths",
       [](ScorePositions at, const Build& b) {
         const Value starts = b.input("starts", {batch, 4}, DType::i32);
         return hide_unless(at.scores, document_visible_from_starts(at, starts));
       }},
      {"head-dependent window and T5 bias",
       [](ScorePositions at, const Build& b) {
         const Value reach = add(head_index(at.scores), index_constant(at.scores, 2));  // head h sees h + 2 keys back
         const Value ahead = sub(at.query, at.key);
         return hide_unless(t5_bias(at, b.t5_table(), 20, false),
                            index_constant(at.scores, 0) <= ahead && ahead < reach);
       }},
  };
  return variants;
}

// Inputs a variant reads, given contents that mean something: document ids ascending
// per sequence, prefix lengths within the keys, 0/1 keep flags, cumulative lengths.
void fill_variant_inputs(va::TensorMap& bindings, std::int64_t keys, std::uint64_t seed) {
  std::mt19937 random(std::uint32_t(seed * 7919 + 1));
  auto draw = [&](std::int64_t below) { return double(std::uniform_int_distribution<std::int64_t>(0, below - 1)(random)); };
  if (auto it = bindings.find("documents"); it != bindings.end()) {
    for (std::int64_t b = 0; b < batch; ++b) {
      double document = 0;
      for (std::int64_t p = 0; p < keys; ++p) {
        if (p > 0 && draw(5) == 0) document += 1;
        it->second.values[std::size_t(b * keys + p)] = document;
      }
    }
  }
  if (auto it = bindings.find("slopes"); it != bindings.end())  // ALiBi's own slopes, as models use them
    it->second.values = va::alibi_slopes(heads);
  if (auto it = bindings.find("prefix"); it != bindings.end())
    for (double& v : it->second.values) v = draw(keys + 1);
  if (auto it = bindings.find("keep"); it != bindings.end())
    for (double& v : it->second.values) v = draw(4) == 0 ? 0 : 1;
  if (auto it = bindings.find("starts"); it != bindings.end()) {
    for (std::int64_t b = 0; b < batch; ++b) {
      std::vector<double> starts{0, draw(keys + 1), draw(keys + 1), draw(keys + 1)};
      std::sort(starts.begin(), starts.end());
      for (std::size_t d = 0; d < starts.size(); ++d) it->second.values[std::size_t(b) * starts.size() + d] = starts[d];
    }
  }
}

// softmax(modify(q·kᵀ / sqrt(d))) · v over [batch, heads, queries|keys, head_dim].
va::Graph variant_graph(const Variant& variant, std::int64_t queries, std::int64_t keys, va::DType dtype,
                        va::CausalAlign align = va::CausalAlign::top_left) {
  va::Graph g{"score_program"};
  auto q = g.input("q", {batch, heads, queries, head_dim}, dtype);
  auto k = g.input("k", {batch, heads, keys, head_dim}, dtype);
  auto v = g.input("v", {batch, heads, keys, head_dim}, dtype);
  auto scores = va::matmul(q, k, va::Transpose::b) * (1.0 / std::sqrt(double(head_dim)));
  const Build build{g, queries, keys, dtype};
  g.output("y", va::matmul(va::softmax(variant.modify(va::ScorePositions(scores, align), build)), v));
  return g;
}

std::int64_t count_kernel(const va::Schedule& s, va::Kernel kernel) {
  return std::count_if(s.dispatches.begin(), s.dispatches.end(), [&](const va::Dispatch& d) { return d.kernel == kernel; });
}

// f32 at the f32 bar, or every input rounded to f16 at the f16 bar.
void check_both_schedules(const va::Graph& g, va::TensorMap bindings, bool f16, bool fused_only = false) {
  if (f16) bindings = va::testing::rounded_to_f16(std::move(bindings));
  const double tolerance = f16 ? 2e-3 : 1e-5;
  if (!fused_only) check_schedule_on_device(g, false, bindings, tolerance);
  check_schedule_on_device(g, true, bindings, tolerance);
}

}  // namespace

TEST_CASE("every catalog variant compiles to one attention dispatch with a score program", "[vulkan]") {
  for (const Variant& variant : catalog()) {
    INFO(variant.name);
    const va::Graph g = variant_graph(variant, 33, 33, va::DType::f32);
    for (const va::Target& target : va::testing::targets_to_prove()) {
      const va::Schedule s = va::compile(g, target);
      INFO("target " << target.name.view());
      REQUIRE(s.dispatches.size() == 1);
      CHECK(s.dispatches[0].kernel == va::Kernel::flash_attention);
      // Every variant, the built-in mask ops included, is a generated score program.
      CHECK(s.dispatches[0].program >= 0);
    }
  }
}

namespace {

// Under the sanitizers (memory errors, not numerics) the sweep keeps two sizes: one
// block and several.
#ifdef VKATTN_UNDER_SANITIZERS
constexpr std::int64_t catalog_sizes[] = {7, 129};
#else
constexpr std::int64_t catalog_sizes[] = {1, 7, 33, 129, 1000};
#endif

void check_catalog_at_sizes(bool f16) {
  for (const Variant& variant : catalog()) {
    for (std::int64_t size : catalog_sizes) {
      INFO(variant.name << ", size " << size << (f16 ? ", f16" : ", f32"));
      const va::Graph g = variant_graph(variant, size, size, f16 ? va::DType::f16 : va::DType::f32);
      const std::uint64_t seed = std::uint64_t(size) * 31 + (f16 ? 1 : 0);
      va::TensorMap bindings = va::random_bindings(g, seed);
      fill_variant_inputs(bindings, size, seed);
      // The unfused schedule materialises the scores: kept to the sizes below 1000.
      check_both_schedules(g, bindings, f16, size >= 1000);
    }
  }
}

}  // namespace

TEST_CASE("catalog variants against the reference, fused and unfused, f32, sizes 1 to 1000", "[vulkan]") {
  check_catalog_at_sizes(false);
}

TEST_CASE("catalog variants against the reference, fused and unfused, f16, sizes 1 to 1000", "[vulkan]") {
  check_catalog_at_sizes(true);
}

TEST_CASE("catalog variants in the split-over-keys decode form: few queries over many keys", "[vulkan]") {
  for (const Variant& variant : catalog()) {
    for (std::int64_t queries : {1, 7}) {
      INFO(variant.name << ", queries " << queries);
      const std::int64_t keys = 1031;
      const va::Graph g = variant_graph(variant, queries, keys, va::DType::f32, va::CausalAlign::bottom_right);
      CHECK(count_kernel(va::compile(g, va::targets::nvidia), va::Kernel::attention_combine) == 1);
      CHECK(count_kernel(va::compile(g, va::targets::llvmpipe), va::Kernel::attention_combine) == 1);
      va::TensorMap bindings = va::random_bindings(g, std::uint64_t(queries) + 500);
      fill_variant_inputs(bindings, keys, queries);
      check_both_schedules(g, bindings, false, true);
    }
  }
}

TEST_CASE("catalog variants over a KV cache: queries at each sequence's cache position", "[vulkan]") {
  for (const Variant& variant : catalog()) {
    for (std::int64_t rows : {1, 6}) {
      INFO(variant.name << ", rows " << rows);
      const std::int64_t capacity = 40;
      va::Graph g{"cached_score_program"};
      auto q = g.input("q", {batch, heads, rows, head_dim});
      auto k = g.input("k", {batch, heads, rows, head_dim});
      auto v = g.input("v", {batch, heads, rows, head_dim});
      auto positions = g.input("positions", {batch}, va::DType::i32);
      auto keys = va::cache_write(g.state("k_cache", {batch, heads, capacity, head_dim}), k, positions);
      auto values = va::cache_write(g.state("v_cache", {batch, heads, capacity, head_dim}), v, positions);
      auto scores = va::matmul(q, keys, va::Transpose::b) * 0.35;
      const va::ScorePositions at = va::cache_positions(scores, positions);
      const Build build{g, rows, capacity, va::DType::f32};
      // Keys past the ones written are hidden by the causal order in the cache.
      auto modified = va::hide_unless(variant.modify(at, build), va::causal_visible(at));
      g.output("y", va::matmul(va::softmax(modified), values));
      const va::Schedule s = va::compile(g);
      CHECK(count_kernel(s, va::Kernel::flash_attention) == 1);
      CHECK(count_kernel(s, va::Kernel::cache_write) == 2);
      va::TensorMap bindings = va::random_bindings(g, std::uint64_t(rows) + 700);
      fill_variant_inputs(bindings, capacity, rows);
      check_both_schedules(g, bindings, false);
    }
  }
}

TEST_CASE("a row with every key hidden gives zeros", "[vulkan]") {
  // Keys below lengths[b] are seen: sequence 0 sees none.
  va::Graph g{"hidden_rows"};
  auto q = g.input("q", {batch, heads, 9, head_dim});
  auto k = g.input("k", {batch, heads, 300, head_dim});
  auto v = g.input("v", {batch, heads, 300, head_dim});
  auto lengths = g.input("lengths", {batch}, va::DType::i32);
  auto scores = va::matmul(q, k, va::Transpose::b);
  auto seen = va::less(va::key_index(scores), va::unsqueeze(va::unsqueeze(va::unsqueeze(lengths, 1), 1), 1));
  g.output("y", va::matmul(va::softmax(va::hide_unless(scores, seen)), v));
  REQUIRE(count_kernel(va::compile(g), va::Kernel::flash_attention) == 1);
  va::TensorMap bindings = va::random_bindings(g, 5);
  bindings["lengths"].values = {0, 123};
  check_both_schedules(g, bindings, false);
  va::Executable executable(va::testing::validated_context(), va::compile(g), bindings);
  executable.poison_arena(std::numeric_limits<float>::quiet_NaN());
  const va::Tensor y = executable.run(bindings).at("y");
  const std::size_t per_sequence = y.values.size() / batch;
  for (std::size_t i = 0; i < per_sequence; ++i) REQUIRE(y.values[i] == 0.0);
  va::testing::require_no_validation_messages();
}

TEST_CASE("bad score programs are refused naming the op and the reason", "[vulkan]") {
  va::Graph g{"bad"};
  auto q = g.input("q", {1, 2, 5, 4});
  auto k = g.input("k", {1, 2, 40, 4});
  auto table = g.input("table", {2, 16});
  auto scores = va::matmul(q, k, va::Transpose::b);
  // A gather by the key index (0..39) from a table of 16 entries.
  try {
    va::gather(va::unsqueeze(table, 1), va::key_index(scores));
    FAIL("accepted a gather index beyond its table");
  } catch (const va::GraphError& e) {
    CHECK_THAT(e.what(), Contains("gather"));
    CHECK_THAT(e.what(), Contains("the index reaches 0..39"));
    CHECK_THAT(e.what(), Contains("16 entries"));
  }
  try {
    va::where(va::key_index(scores), scores, va::minus_infinity(scores));
    FAIL("accepted an i32 condition");
  } catch (const va::GraphError& e) {
    CHECK_THAT(e.what(), Contains("where"));
    CHECK_THAT(e.what(), Contains("the condition is i32 but must be bool"));
  }
  try {
    va::sub(va::key_index(scores), scores);
    FAIL("accepted i32 - f32");
  } catch (const va::GraphError& e) {
    CHECK_THAT(e.what(), Contains("sub"));
    CHECK_THAT(e.what(), Contains("a is i32 but b is f32"));
  }
  // A data-dependent index is checked against the table when the reference runs it.
  va::Graph h{"data_index"};
  auto x = h.input("x", {1, 1, 3, 4});
  auto y = h.input("y", {1, 1, 6, 4});
  auto where_from = h.input("where_from", {1, 6}, va::DType::i32);
  auto s = va::matmul(x, y, va::Transpose::b);
  auto row = va::unsqueeze(va::unsqueeze(where_from, 1), 1);
  h.output("out", va::gather(row, va::gather(row, va::key_index(s))));
  va::TensorMap bindings = va::random_bindings(h, 3);
  bindings["where_from"].values = {0, 1, 2, 3, 4, 9};
  CHECK_THROWS_WITH(va::run_reference(h, bindings), Contains("gather"));
}

TEST_CASE("declined fusions are remarked in the schedule, its listing and its JSON, and programs are listed", "[vulkan]") {
  va::Graph g{"remarks"};
  auto q = g.input("q", {1, 2, 9, 8});
  auto k = g.input("k", {1, 2, 9, 8});
  auto v = g.input("v", {1, 2, 9, 8});
  auto scores = va::matmul(q, k, va::Transpose::b);
  auto probs = va::softmax(va::hide_unless(scores, va::causal_visible(scores))).named("probs");
  g.output("y", va::matmul(probs, v));
  g.output("probs", probs);
  const va::Schedule kept = va::compile(g);
  REQUIRE(kept.remarks.size() == 1);
  CHECK(kept.remarks[0].value.view() == "probs");
  CHECK_THAT(std::string(kept.remarks[0].text.view()), Contains("are a graph output"));
  CHECK_THAT(va::schedule_listing(kept, &g), Contains("probs: attention not fused: the probabilities 'probs' are a graph output"));
  const va::Schedule loaded = va::schedule_from_json(va::schedule_to_json(kept, &g));
  CHECK(loaded.remarks == kept.remarks);

  // The scores read elsewhere: the region is declined, naming the reader.
  va::Graph h{"shared_scores"};
  auto x = h.input("x", {1, 2, 9, 8});
  auto s = va::matmul(x, x, va::Transpose::b).named("scores");
  auto masked = va::hide_unless(s, va::causal_visible(s));
  h.output("y", va::matmul(va::softmax(masked), x));
  h.output("z", va::tanh(s));
  const va::Schedule shared = va::compile(h);
  REQUIRE(shared.remarks.size() == 1);
  CHECK_THAT(std::string(shared.remarks[0].text.view()), Contains("'scores' is also read by"));

  // A fused program is listed as an expression.
  va::Graph f{"listed"};
  auto a = f.input("a", {1, 2, 9, 8});
  auto sa = va::matmul(a, a, va::Transpose::b);
  f.output("y", va::matmul(va::softmax(va::hide_unless(sa, va::window_visible(sa, 4))), a));
  CHECK_THAT(va::schedule_listing(va::compile(f), &f), Contains("score program: visible"));
}

TEST_CASE("schedule JSON carries a program's gathered tables, and reads the older table flag") {
  va::Graph g{"documents"};
  auto q = g.input("q", {1, 2, 9, 8});
  auto k = g.input("k", {1, 2, 9, 8});
  auto v = g.input("v", {1, 2, 9, 8});
  auto documents = g.input("documents", {1, 9}, va::DType::i32);
  auto s = va::matmul(q, k, va::Transpose::b);
  g.output("y", va::matmul(va::softmax(va::hide_unless(s, va::document_visible(s, documents))), v));
  const va::Schedule schedule = va::compile(g);
  REQUIRE(schedule.programs.size() == 1);
  const std::string json = va::schedule_to_json(schedule, &g);
  CHECK(va::schedule_to_json(va::schedule_from_json(json), &g) == json);
  nlohmann::json older = nlohmann::json::parse(json);
  int tables = 0;
  for (auto& program : older["programs"])
    for (auto& tensor : program["tensors"]) {
      const bool table = tensor["gathered"] == 3;
      tables += table;
      tensor.erase("gathered");
      tensor["table"] = table;
    }
  CHECK(tables >= 1);
  CHECK(va::schedule_to_json(va::schedule_from_json(older.dump()), &g) == json);
}
