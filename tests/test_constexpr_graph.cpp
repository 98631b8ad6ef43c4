// The same graph built while the C++ compiles and at run time from ordinary values
// must be the same graph.
#include <catch2/catch.hpp>
#include <cstdlib>
#include <vkattn/vkattn.hpp>

namespace va = vkattn;

namespace {

constexpr va::Graph encoder(std::int64_t batch, std::int64_t seq, std::int64_t model, std::int64_t heads) {
  va::Graph g{"encoder_layer"};
  auto x = g.input("x", {batch, seq, model});
  auto lengths = g.input("lengths", {batch}, va::DType::i32);
  g.output("y", va::encoder_layer(g, x, {.heads = heads, .ffn_hidden = 4 * model, .mask = va::Mask::padding,
                                         .lengths = lengths}));
  return g;
}

constexpr va::Graph decoder(std::int64_t seq, std::int64_t memory_seq, std::int64_t model) {
  va::Graph g{"decoder_layer"};
  auto x = g.input("x", {1, seq, model});
  auto memory = g.input("memory", {1, memory_seq, model});
  g.output("y", va::decoder_layer(g, x, memory, {.heads = 8, .ffn_hidden = 2048}));
  return g;
}

constexpr va::Graph gqa(std::int64_t seq) {
  va::Graph g{"gqa"};
  auto x = g.input("x", {1, seq, 512});
  g.output("y", va::multi_head_attention(g, x, x, x, {.heads = 8, .kv_heads = 2, .mask = va::Mask::causal | va::Mask::sliding_window, .window = 64}));
  return g;
}

// Realistic sizes: seq 1024, model 512, 8 heads.
constexpr auto frozen_encoder = va::freeze<[] { return encoder(1, 1024, 512, 8); }>();
constexpr auto frozen_decoder = va::freeze<[] { return decoder(1024, 777, 512); }>();
constexpr auto frozen_gqa = va::freeze<[] { return gqa(1024); }>();

// Facts about the frozen graph are available to static_assert.
static_assert(frozen_encoder.nodes[0].shape == va::Shape{1, 1024, 512});
static_assert(frozen_encoder.nodes[frozen_encoder.size() - 1].op == va::Op::output);
static_assert(frozen_decoder.nodes[frozen_decoder.size() - 1].shape == va::Shape{1, 1024, 512});

// Sizes that the compiler cannot see, as if they came from command-line flags.
std::int64_t runtime_value(const char* variable, std::int64_t fallback) {
  const char* text = std::getenv(variable);
  return text ? std::atoll(text) : fallback;
}

}  // namespace

TEST_CASE("a constexpr graph equals the same graph built at run time") {
  std::int64_t seq = runtime_value("VKATTN_TEST_UNSET_SEQ", 1024);
  std::int64_t model = runtime_value("VKATTN_TEST_UNSET_MODEL", 512);
  CHECK(frozen_encoder.thaw() == encoder(1, seq, model, 8));
  CHECK(frozen_decoder.thaw() == decoder(seq, 777, model));
  CHECK(frozen_gqa.thaw() == gqa(seq));
  // And the comparison can tell graphs apart.
  CHECK_FALSE(frozen_encoder.thaw() == encoder(1, seq, model, 4));
  CHECK_FALSE(frozen_encoder.thaw() == encoder(1, seq - 1, model, 8));
}

TEST_CASE("a frozen graph keeps every node, attribute and source line") {
  va::Graph runtime = encoder(1, 1024, 512, 8);
  REQUIRE(frozen_encoder.size() == runtime.size());
  for (std::size_t i = 0; i < runtime.size(); ++i) {
    INFO("node " << i << " " << runtime.nodes()[i].name.view());
    CHECK(frozen_encoder.nodes[i] == runtime.nodes()[i]);
    CHECK(frozen_encoder.nodes[i].where.line == runtime.nodes()[i].where.line);
  }
}

namespace {

// A decoding graph while the C++ compiles: a dynamic length and a KV cache.
constexpr va::Graph decoding() {
  va::Graph g{"decoding"};
  auto x = g.input("x", {1, va::dyn("seq", 512), 256});
  auto positions = g.input("positions", {1}, va::DType::i32);
  g.output("y", va::multi_head_attention(g, x, x, x, {.heads = 4, .mask = va::Mask::causal,
                                                       .cache = {.capacity = 512, .positions = positions}}));
  return g;
}
constexpr auto frozen_decoding = va::freeze<decoding>();
static_assert(frozen_decoding.nodes[0].shape == va::Shape{1, va::dyn("seq", 512), 256});
static_assert(frozen_decoding.nodes[frozen_decoding.size() - 1].shape.dynamic(1));
constexpr auto decoding_plan = va::compile<decoding>();
static_assert(decoding_plan.dispatch_count() == 5);  // QKV gemm, two cache writes, attention, out_proj

}  // namespace

TEST_CASE("a constexpr decoding graph compiles to what the run-time compile gives") {
  CHECK(va::compile(decoding()) == decoding_plan.thaw());
}
