// The DSL at run time: shapes each op infers, the graphs the helpers build, and the
// errors a mistake produces (naming the file and line of the call).
#include <catch2/catch.hpp>
#include <vkattn/presets.hpp>
#include <vkattn/tensor.hpp>
#include <vkattn/vkattn.hpp>

#include "graph_error_matchers.hpp"

namespace va = vkattn;

TEST_CASE("primitive ops infer their shapes") {
  va::Graph g{"shapes"};
  auto x = g.input("x", {2, 7, 12});
  auto w = g.weight("w", {5, 12});
  CHECK(va::matmul(x, w, va::Transpose::b).shape() == va::Shape{2, 7, 5});
  auto b = g.input("b", {12, 3});
  CHECK(va::matmul(x, b).shape() == va::Shape{2, 7, 3});
  auto batched = g.input("batched", {3, 1, 12, 4});
  CHECK(va::matmul(x, batched).shape() == va::Shape{3, 2, 7, 4});  // batch dims broadcast
  CHECK(va::add(x, g.weight("bias", {12})).shape() == va::Shape{2, 7, 12});
  CHECK((x * 0.5).shape() == va::Shape{2, 7, 12});
  auto heads = va::split_heads(x, 3);
  CHECK(heads.shape() == va::Shape{2, 3, 7, 4});
  CHECK(va::merge_heads(heads).shape() == va::Shape{2, 7, 12});
  CHECK(va::repeat_heads(heads, 2).shape() == va::Shape{2, 6, 7, 4});
  CHECK(va::permute(x, {2, 0, 1}).shape() == va::Shape{12, 2, 7});
  CHECK(va::transpose(x, 1, 2).shape() == va::Shape{2, 12, 7});
  auto scores = va::matmul(heads, heads, va::Transpose::b);
  CHECK(scores.shape() == va::Shape{2, 3, 7, 7});
  auto lengths = g.input("lengths", {2}, va::DType::i32);
  CHECK(va::padding_mask(va::causal_mask(scores), lengths).shape() == scores.shape());
  CHECK(va::boolean_mask(scores, g.input("keep", {2, 1, 7, 7})).shape() == scores.shape());
  CHECK(va::additive_mask(scores, g.input("bias_mask", {7, 7})).shape() == scores.shape());
  CHECK(va::sliding_window_mask(scores, 3).shape() == scores.shape());
  CHECK(va::softmax(scores).shape() == scores.shape());
  auto gamma = g.weight("gamma", {12});
  auto beta = g.weight("beta", {12});
  CHECK(va::layer_norm(x, gamma, beta).shape() == x.shape());
  CHECK(va::gelu(x).shape() == x.shape());
  CHECK(va::relu(x).dtype() == va::DType::f32);
}

TEST_CASE("f16 values keep their dtype") {
  va::Graph g{"half"};
  auto x = g.input("x", {1, 4, 8}, va::DType::f16);
  auto w = g.weight("w", {8, 8}, va::DType::f16);
  CHECK(va::matmul(x, w).dtype() == va::DType::f16);
}

TEST_CASE("shape mistakes name the call, the op and the shapes") {
  va::Graph g{"errors"};
  auto x = g.input("x", {1, 16, 60});
  auto w = g.weight("w", {32, 8});
  REQUIRE_GRAPH_ERROR(va::matmul(x, w), "matmul: inner dimensions differ: a is [1, 16, 60] and b is [32, 8]");
  REQUIRE_GRAPH_ERROR(va::add(x, g.weight("v", {16, 7})), "add: shapes [1, 16, 60] and [16, 7] do not broadcast");
  REQUIRE_GRAPH_ERROR(va::split_heads(x, 7), "split_heads: model dimension 60 of [1, 16, 60] is not divisible by 7 heads");
  REQUIRE_GRAPH_ERROR(va::merge_heads(x), "merge_heads: the input ([batch, heads, sequence, head_dim]) is [1, 16, 60]");
  REQUIRE_GRAPH_ERROR(va::layer_norm(x, g.weight("gamma", {59}), g.weight("beta", {60})),
                      "layer_norm: gamma has shape [59] but the normalised (last) dimension of [1, 16, 60] is 60");
  REQUIRE_GRAPH_ERROR(va::permute(x, {0, 0, 1}), "permute: (0, 0, 1) is not a permutation");
  REQUIRE_GRAPH_ERROR(va::permute(x, {0, 1}), "permute: got 2 axes for the 3 dimensions");
  REQUIRE_GRAPH_ERROR(va::transpose(x, 0, 3), "transpose: axes 0 and 3 are not both dimensions of [1, 16, 60]");
  auto heads = va::split_heads(x, 4);
  auto scores = va::matmul(heads, heads, va::Transpose::b);
  REQUIRE_GRAPH_ERROR(va::boolean_mask(scores, g.input("m", {1, 16, 15})), "mask shape [1, 16, 15] does not broadcast to the scores [1, 4, 16, 16]");
  REQUIRE_GRAPH_ERROR(va::padding_mask(scores, g.input("lengths", {2}, va::DType::i32)), "lengths must be an i32 tensor of shape [1]");
  REQUIRE_GRAPH_ERROR(va::padding_mask(scores, g.input("float_lengths", {1})), "but it is f32 [1]");
  REQUIRE_GRAPH_ERROR(va::sliding_window_mask(scores, 0), "the window must be at least 1 position, not 0");
  REQUIRE_GRAPH_ERROR(va::softmax(g.input("lengths2", {3}, va::DType::i32)), "softmax: the operand has dtype i32");
}

TEST_CASE("dtype, name and operand mistakes are reported") {
  va::Graph g{"errors"};
  auto x = g.input("x", {2, 8});
  auto h = g.input("h", {8, 2}, va::DType::f16);
  REQUIRE_GRAPH_ERROR(va::matmul(x, h), "matmul: a is f32 but b is f16");
  REQUIRE_GRAPH_ERROR(g.input("x", {3}), "input 'x': the name `x` is already used by another input");
  REQUIRE_GRAPH_ERROR(g.input("big", {1, 2, 3, 4, 5}), "input 'big': shape [1, 2, 3, 4, ...] has rank 5; at most 4");
  REQUIRE_GRAPH_ERROR(g.weight("zero", {4, 0}), "weight 'zero': shape [4, 0] has dimension 1 = 0");
  REQUIRE_GRAPH_ERROR(g.weight("int_weight", {4}, va::DType::i32), "weights must be f32 or f16, not i32");
  REQUIRE_GRAPH_ERROR(g.input(std::string(200, 'n'), {1}), "a name must have 1 to 95 characters, not 200");
  va::Graph other{"other"};
  auto y = other.input("y", {2, 8});
  REQUIRE_GRAPH_ERROR(va::add(x, y), "add: operand 1 belongs to another graph");
  REQUIRE_GRAPH_ERROR(va::add(x, va::Value{}), "add: operand 1 is an empty Value");
  REQUIRE_THROWS_AS(va::relu(va::Value{}), va::GraphError);
  REQUIRE_GRAPH_ERROR(x.named("renamed"), "inputs, weights and outputs keep the name they were declared with");
}

TEST_CASE("elementwise ops type their operands by their rule in the forms table") {
  va::Graph g{"typing"};
  auto x = g.input("x", {2, 8});
  auto h = g.input("h", {2, 8}, va::DType::f16);
  auto i = g.input("i", {8}, va::DType::i32);
  auto keep = va::less(x, x);
  CHECK(keep.dtype() == va::DType::boolean);
  CHECK(va::rsqrt(h).dtype() == va::DType::f16);
  CHECK(va::clamp(i, g.input("lo", {2, 1}, va::DType::i32), g.input("hi", {1}, va::DType::i32)).shape() == va::Shape{2, 8});
  CHECK(va::abs(i).dtype() == va::DType::i32);
  REQUIRE_GRAPH_ERROR(va::sigmoid(i), "sigmoid: the operand has dtype i32 but a floating-point tensor (f32 or f16) is needed");
  REQUIRE_GRAPH_ERROR(va::rsqrt(keep), "rsqrt: the operand has dtype bool");
  REQUIRE_GRAPH_ERROR(va::clamp(x, h, h), "clamp: x is f32 but low is f16; cast one so both have the same dtype");
  REQUIRE_GRAPH_ERROR(va::clamp(keep, keep, keep), "clamp: x is bool; clamp needs f32, f16 or i32 (cast it first)");
  REQUIRE_GRAPH_ERROR(va::logical_and(keep, x), "logical_and: b is f32 but must be bool");
  REQUIRE_GRAPH_ERROR(va::sub(x, h), "sub: a is f32 but b is f16; cast one so both have the same dtype");
  REQUIRE_GRAPH_ERROR(va::less(x, g.input("y", {3})), "less: shapes [2, 8] and [3] do not broadcast");
  REQUIRE_GRAPH_ERROR(va::clamp(x, g.input("low", {3}), g.input("high", {1})),
                      "clamp: shapes [2, 8] and [3] do not broadcast");
}

TEST_CASE("operators record where they were written") {
  va::Graph g{"operators"};
  auto a = g.input("a", {4, 5});
  auto b = g.input("b", {4, 6});
  REQUIRE_GRAPH_ERROR(a + b, "add: shapes [4, 5] and [4, 6] do not broadcast");
  auto sum = a + a;
  CHECK(sum.node().where.line == __LINE__ - 1);
  CHECK((a * 2.0).node().attributes.factor == 2.0);
}

TEST_CASE("multi_head_attention builds projections, heads and PyTorch-named weights") {
  va::Graph g{"mha"};
  auto x = g.input("x", {2, 10, 64});
  auto y = va::multi_head_attention(g, x, x, x, {.heads = 8});
  CHECK(y.shape() == va::Shape{2, 10, 64});
  for (const char* name : {"self_attn.q_proj.weight", "self_attn.k_proj.weight", "self_attn.v_proj.weight",
                           "self_attn.out_proj.weight"}) {
    auto w = g.find(name);
    REQUIRE(w.valid());
    CHECK(w.node().op == va::Op::weight);
    CHECK(w.shape() == va::Shape{64, 64});
  }
  CHECK(g.find("self_attn.out_proj.bias").shape() == va::Shape{64});
  CHECK(g.find("self_attn.probs").shape() == va::Shape{2, 8, 10, 10});
  CHECK(g.find("self_attn.scaled_scores").node().attributes.factor == Approx(1.0 / std::sqrt(8.0)).epsilon(1e-15));
}

TEST_CASE("cross-attention and grouped-query attention") {
  va::Graph g{"attention"};
  auto x = g.input("x", {2, 5, 32});
  auto memory = g.input("memory", {2, 9, 48});
  auto cross = va::multi_head_attention(g, x, memory, memory, {.heads = 4, .prefix = "cross"});
  CHECK(cross.shape() == va::Shape{2, 5, 32});
  CHECK(g.find("cross.k_proj.weight").shape() == va::Shape{32, 48});
  CHECK(g.find("cross.probs").shape() == va::Shape{2, 4, 5, 9});
  auto gqa = va::multi_head_attention(g, x, x, x, {.heads = 8, .kv_heads = 2, .prefix = "gqa"});
  CHECK(gqa.shape() == va::Shape{2, 5, 32});
  CHECK(g.find("gqa.k_proj.weight").shape() == va::Shape{8, 32});
  CHECK(g.find("gqa.k_heads").shape() == va::Shape{2, 2, 5, 4});
  CHECK(g.find("gqa.k_repeated").shape() == va::Shape{2, 8, 5, 4});
}

TEST_CASE("attention helper mistakes name the helper call") {
  va::Graph g{"errors"};
  auto x = g.input("x", {1, 16, 60});
  auto k = g.input("k", {1, 12, 60});
  auto v = g.input("v", {1, 11, 60});
  REQUIRE_GRAPH_ERROR(va::multi_head_attention(g, x, x, x, {.heads = 7}), "multi_head_attention: model dimension 60 of query [1, 16, 60] is not divisible by 7 heads");
  REQUIRE_GRAPH_ERROR(va::multi_head_attention(g, x, k, v, {.heads = 6}), "multi_head_attention: keys [1, 12, 60] have 12 positions but values [1, 11, 60] have 11");
  REQUIRE_GRAPH_ERROR(va::multi_head_attention(g, x, x, x, {.heads = 6, .kv_heads = 4}), "6 query heads cannot be shared evenly among 4 key/value heads");
  REQUIRE_GRAPH_ERROR(va::multi_head_attention(g, x, x, x, {.heads = 6, .mask = va::Mask::padding}),
                      "Mask::padding needs AttentionOptions::lengths, an i32 [batch] input of keys per sequence");
  REQUIRE_GRAPH_ERROR(va::multi_head_attention(g, x, x, x, {.heads = 6, .mask = va::Mask::boolean, .prefix = "b"}),
                      "Mask::boolean and Mask::additive need AttentionOptions::mask_values");
  REQUIRE_GRAPH_ERROR(va::multi_head_attention(g, x, x, x, {.heads = 6, .mask = va::Mask::sliding_window, .prefix = "c"}),
                      "Mask::sliding_window needs AttentionOptions::window of at least 1");
}

TEST_CASE("encoder and decoder layers name weights like PyTorch's Transformer layers") {
  va::Graph g{"layers"};
  auto x = g.input("x", {1, 6, 16});
  auto memory = g.input("memory", {1, 11, 16});
  auto encoded = va::encoder_layer(g, x, {.heads = 2, .ffn_hidden = 32, .prefix = "encoder"});
  auto decoded = va::decoder_layer(g, encoded, memory, {.heads = 4, .ffn_hidden = 24, .norm_first = true, .prefix = "decoder"});
  CHECK(decoded.shape() == va::Shape{1, 6, 16});
  CHECK(g.find("encoder.linear1.weight").shape() == va::Shape{32, 16});
  CHECK(g.find("encoder.linear2.weight").shape() == va::Shape{16, 32});
  CHECK(g.find("encoder.norm2.bias").shape() == va::Shape{16});
  CHECK(g.find("decoder.multihead_attn.k_proj.weight").shape() == va::Shape{16, 16});
  CHECK(g.find("decoder.norm3.weight").valid());
  CHECK(g.find("decoder.multihead_attn.probs").shape() == va::Shape{1, 4, 6, 11});
  // Decoder self-attention is causal by default.
  bool causal = false;
  for (const auto& node : g.nodes()) causal |= node.op == va::Op::causal_mask;
  CHECK(causal);
}

TEST_CASE("dynamic dimensions: shapes carry their names, checks compare them") {
  va::Graph g{"dynamic"};
  auto x = g.input("x", {2, va::dyn("seq", 64), 12});
  CHECK(va::to_string(x.shape()) == "[2, seq<=64, 12]");
  auto heads = va::split_heads(va::linear(g, x, "q", 12), 3);
  CHECK(heads.shape() == va::Shape{2, 3, va::dyn("seq", 64), 4});
  auto scores = va::matmul(heads, heads, va::Transpose::b);
  CHECK(scores.shape() == va::Shape{2, 3, va::dyn("seq", 64), va::dyn("seq", 64)});
  CHECK(va::merge_heads(va::matmul(va::softmax(scores), heads)).shape() == x.shape());
  // A fixed 64 is not the dynamic seq, and a fixed 1 broadcasts against it.
  REQUIRE_GRAPH_ERROR(va::add(x, g.input("fixed", {2, 64, 12})), "add: shapes [2, seq<=64, 12] and [2, 64, 12] do not broadcast");
  CHECK(va::add(x, g.input("row", {2, 1, 12})).shape() == x.shape());
  va::Graph other{"other"};
  REQUIRE_GRAPH_ERROR(va::split_heads(other.input("wide", {1, 4, va::dyn("model", 64)}), 2), "the model dimension (dimension 2 of [1, 4, model<=64]) is dynamic");
  REQUIRE_GRAPH_ERROR(g.weight("w", {va::dyn("n", 8), 4}), "weights have fixed shapes");
  REQUIRE_GRAPH_ERROR(g.state("s", {va::dyn("n", 8), 4}), "state tensors have fixed shapes");
  REQUIRE_GRAPH_ERROR(g.input("other", {va::dyn("seq", 32)}), "dynamic dimension `seq` has bound 32 here but 64 in input 'x'");
  REQUIRE_GRAPH_ERROR(g.input("long_name", {va::dyn("a_name_of_sixteen", 8)}), "has a name longer than 15 characters");
  // Sized: every dimension named seq takes the size; names and bounds stay.
  va::DimSizes sizes;
  sizes.push_back({"seq", 5});
  g.output("y", scores);
  const va::Graph sized = va::with_sizes(g, sizes);
  CHECK(va::same_sizes(sized.node(scores.id()).shape, va::Shape{2, 3, 5, 5}));
  CHECK(va::to_string(sized.node(scores.id()).shape) == "[2, 3, seq=5, seq=5]");
  sizes[0].size = 65;
  CHECK_THROWS_WITH(va::with_sizes(g, sizes), Catch::Contains("`seq` is given 65; it must be 1 to 64"));
  CHECK_THROWS_WITH(va::with_sizes(g, {}), Catch::Contains("`seq` has no size"));
}

TEST_CASE("KV caches: state tensors written once, at positions the run supplies") {
  va::Graph g{"cache"};
  auto x = g.input("x", {2, va::dyn("seq", 16), 8});
  auto positions = g.input("positions", {2}, va::DType::i32);
  auto k = va::split_heads(x, 2);
  auto cache = g.state("k_cache", {2, 2, 16, 4});
  auto written = va::cache_write(cache, k, positions);
  CHECK(written.shape() == cache.shape());
  auto scores = va::cache_causal_mask(va::matmul(k, written, va::Transpose::b), positions);
  CHECK(scores.shape() == va::Shape{2, 2, va::dyn("seq", 16), 16});
  CHECK(scores.dtype() == va::DType::f32);
  REQUIRE_GRAPH_ERROR(va::cache_write(cache, k, positions), "state 'k_cache' is already written by");
  // A state has one reader, its cache_write: the graph reads the written value.
  REQUIRE_GRAPH_ERROR(g.output("y", cache), "output 'y': operand 0 reads the state `k_cache` directly");
  REQUIRE_GRAPH_ERROR(va::add(cache, written), "add: operand 0 reads the state `k_cache` directly");
  REQUIRE_GRAPH_ERROR(va::matmul(k, cache, va::Transpose::b), "operand 1 reads the state `k_cache` directly");
  REQUIRE_GRAPH_ERROR(va::cache_write(k, k, positions), "the cache must be a state tensor (Graph::state)");
  REQUIRE_GRAPH_ERROR(va::cache_write(g.state("small", {2, 2, 8, 4}), k, positions), "with at most 8 (the capacity) positions");
  REQUIRE_GRAPH_ERROR(va::cache_write(g.state("v_cache", {2, 2, 16, 4}), k, va::scale(x, 2.0)), "positions must be an i32 tensor of shape [2]");
  REQUIRE_GRAPH_ERROR(va::cache_causal_mask(scores, g.input("three", {3}, va::DType::i32)), "positions must be an i32 tensor of shape [2]");
  // The helpers: AttentionOptions::cache makes the state tensors and the mask.
  va::Graph h{"helper"};
  auto y = h.input("x", {1, va::dyn("seq", 32), 16});
  auto at = h.input("positions", {1}, va::DType::i32);
  h.output("y", va::multi_head_attention(h, y, y, y, {.heads = 4, .kv_heads = 2, .mask = va::Mask::causal,
                                                       .cache = {.capacity = 32, .positions = at}}));
  CHECK(h.find("self_attn.k_cache").shape() == va::Shape{1, 2, 32, 4});
  CHECK(h.find("self_attn.v_cached").node().op == va::Op::cache_write);
  REQUIRE_GRAPH_ERROR(va::multi_head_attention(h, y, y, y, {.heads = 4, .mask = va::Mask::causal | va::Mask::padding, .lengths = at, .prefix = "b", .cache = {.capacity = 32, .positions = at}}), "with a KV cache, attention is causal in the cache");
  // A sliding window over a cache is a predicate on the cache positions (a score program).
  h.output("windowed", va::multi_head_attention(h, y, y, y, {.heads = 4, .mask = va::Mask::sliding_window, .window = 4,
                                                             .prefix = "w", .cache = {.capacity = 32, .positions = at}}));
  CHECK(h.find("w.k_cache").shape() == va::Shape{1, 4, 32, 4});
  CHECK_FALSE(h.failed());
}

TEST_CASE("one name, one value: a second op of the same name is refused, naming the first") {
  va::Graph g{"twice"};
  auto x = g.input("x", {1, 4, 8, 16});
  auto first = va::scaled_dot_product_attention(x, x, x);
  CHECK(g.find("self_attn.probs").valid());
  // The default prefix again: its scores would be self_attn.scores a second time.
  REQUIRE_GRAPH_ERROR(va::scaled_dot_product_attention(first, first, first),
                      "the name `self_attn.scores` is already given to the matmul made at");
  va::Graph h{"renamed"};
  auto y = h.input("y", {2, 3});
  auto a = va::relu(y).named("a");
  REQUIRE_GRAPH_ERROR(va::gelu(a).named("a"), "the name `a` is already given to the relu made at");
  REQUIRE_GRAPH_ERROR(va::gelu(a).named("y"), "the name `y` is already given to the input made at");
  va::Graph k{"prefixed"};
  auto z = k.input("z", {1, 4, 8, 16});
  auto one = va::scaled_dot_product_attention(z, z, z, {.prefix = "one"});
  CHECK(va::scaled_dot_product_attention(one, one, one, {.prefix = "two"}).valid());
}

TEST_CASE("presets: llama_block's RMSNorm epsilon, decoder_layer's self-attention mask apart from its memory's") {
  va::Graph llama = va::build_preset({.name = "llama_block", .seq = 4, .model = 16, .heads = 2, .rms_eps = 1e-5});
  int norms = 0;
  for (const va::Node& n : llama.nodes())
    if (n.op == va::Op::rms_norm) {
      ++norms;
      CHECK(n.attributes.epsilon == 1e-5);
    }
  CHECK(norms == 2);
  CHECK_THROWS_WITH(va::build_preset({.name = "mha", .rms_eps = 1e-5}), Catch::Contains("applies to llama_block"));
  // A padded memory with full self-attention: a padding mask, no causal mask.
  va::Graph decoder = va::build_preset({.name = "decoder_layer", .seq = 5, .kv_seq = 7, .model = 16, .heads = 2,
                                        .mask = va::Mask::padding, .self_mask = va::Mask::none});
  int causal = 0, padding = 0;
  for (const va::Node& n : decoder.nodes()) {
    causal += n.op == va::Op::causal_mask;
    padding += n.op == va::Op::padding_mask;
  }
  CHECK(causal == 0);
  CHECK(padding == 1);
  CHECK_THROWS_WITH(va::build_preset({.name = "mha", .self_mask = va::Mask::none}), Catch::Contains("applies to decoder_layer"));
}
