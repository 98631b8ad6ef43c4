// Graphs round-trip through JSON; malformed JSON is rejected naming the field.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <vkattn/graph_json.hpp>
#include <vkattn/vkattn.hpp>

namespace va = vkattn;
using Catch::Matchers::Contains;

namespace {

va::Graph every_op_graph() {
  va::Graph g{"every_op"};
  auto x = g.input("x", {2, 5, 12});
  auto memory = g.input("memory", {2, 7, 12});
  auto lengths = g.input("lengths", {2}, va::DType::i32);
  auto keep = g.input("keep", {2, 1, 5, 7});
  auto bias = g.input("bias", {5, 7});
  auto slopes = g.input("slopes", {3});
  auto sinks = g.weight("sinks", {3});
  auto q = va::rotary_embedding(va::split_heads(va::linear(g, x, "q", 12), 3),
                                {.dims = 2, .theta = 500.0, .layout = va::RotaryLayout::interleaved, .offset = 7});
  auto k = va::repeat_heads(va::split_heads(va::linear(g, memory, "k", 4), 1), 3);
  auto v = va::permute(va::transpose(va::split_heads(va::linear(g, memory, "v", 4), 1), 2, 3), {0, 1, 3, 2});
  auto s = va::matmul(q, k, va::Transpose::b) * 0.5;
  s = va::causal_mask(s, va::CausalAlign::bottom_right);
  s = va::sliding_window_mask(s, 3, va::CausalAlign::bottom_right);
  s = va::padding_mask(s, lengths);
  s = va::boolean_mask(s, keep);
  s = va::additive_mask(va::tanh(s), bias);
  s = va::alibi(s, slopes, va::CausalAlign::bottom_right);
  auto context = va::merge_heads(va::matmul(va::softmax(s).named("probs"), va::repeat_heads(v, 3)));
  auto sunk = va::merge_heads(va::matmul(va::softmax_with_sinks(s, sinks), va::repeat_heads(v, 3)));
  context = va::layer_norm_no_bias(context + sunk, g.weight("ln.weight", {12}), 1e-4);
  auto y = va::layer_norm(g, va::gelu(context) + va::relu(x), "norm", 1e-6);
  auto gate = va::mul(va::silu(y), va::gelu_tanh(x));
  g.output("y", va::rms_norm(gate, g.weight("rms.weight", {12}), 1e-5));
  g.output("probs", g.find("probs"));
  // Decoding: a dynamic length, a KV cache and the mask that places queries in it.
  auto tokens = g.input("tokens", {2, va::dyn("seq", 5), 12});
  auto positions = g.input("positions", {2}, va::DType::i32);
  auto keys = va::rotary_embedding_at(va::split_heads(va::linear(g, tokens, "kn", 12), 3), positions, {.offset = 2});
  auto cached = va::cache_write(g.state("cache", {2, 3, 8, 4}), keys, positions);
  auto scores = va::cache_causal_mask(va::matmul(keys, cached, va::Transpose::b), positions);
  g.output("cached", va::merge_heads(va::matmul(va::softmax(scores), cached)));
  // A paged cache: a pool of 5 pages of 2 positions, each sequence's 4 pages by its table.
  auto block_table = g.input("block_table", {2, 4}, va::DType::i32);
  auto pool = va::paged_cache_write(g.state("pool", {5, 3, 2, 4}), keys, positions, block_table);
  auto paged_keys = va::paged_view(pool, block_table);
  auto paged_scores = va::cache_causal_mask(va::matmul(keys, paged_keys, va::Transpose::b), positions);
  g.output("paged", va::merge_heads(va::matmul(va::softmax(paged_scores), paged_keys)));
  // A score program written from index values and pointwise ops.
  auto documents = g.input("documents", {2, 5}, va::DType::i32);
  auto table = g.input("table", {3, 4});
  auto modded = va::matmul(q, k, va::Transpose::b);
  auto qi = va::query_index(modded, va::CausalAlign::bottom_right), ki = va::key_index(modded);
  auto per_seq = va::unsqueeze(va::unsqueeze(documents, 1), 1);  // [2, 1, 1, 5]
  auto same_document = va::equal(va::gather(per_seq, va::minimum(qi, va::index_constant(modded, 4))),
                                 va::gather(per_seq, va::maximum(va::minimum(ki, va::index_constant(modded, 4)),
                                                                 va::index_constant(modded, 0))));
  auto near = va::less_equal(va::abs(va::sub(ki, qi)), va::index_constant(modded, 3)) &&
              !va::less(va::floor_div(ki, va::index_constant(modded, 2)), va::head_index(modded));
  auto visible = va::logical_or(same_document && near, va::equal(va::batch_index(modded), va::index_constant(modded, 1)));
  auto bucket = va::minimum(va::abs(va::sub(ki, qi)), va::index_constant(modded, 3));
  auto relative_bias = va::gather(va::unsqueeze(va::unsqueeze(table, 1), 0), bucket);  // [1, 3, 1, 4] by [.., 5, 7]
  relative_bias = va::clamp(va::mul(relative_bias, va::sigmoid(relative_bias)), -30.0, 30.0);
  relative_bias = va::mul(relative_bias, va::rsqrt(va::abs(relative_bias) + 1.0));
  modded = va::where(visible, va::add(modded, va::log(va::exp(relative_bias))), va::minus_infinity(modded));
  modded = va::add(modded, va::cast(va::cast(ki, va::DType::f32), va::DType::f32));
  g.output("modded", va::merge_heads(va::matmul(va::softmax(modded), va::repeat_heads(v, 3))));
  // Rows of an embedding by token ids (a gather along the table's rows), and a slice.
  auto ids = g.input("ids", {2, 3}, va::DType::i32);
  g.output("last_embedded", va::slice(va::embedding(g.weight("embedding", {7, 4}), ids), -2, -1, 1));
  // A body repeated three times, with a weight of each iteration's own.
  g.output("stacked", va::repeat(x, 3, [&](va::Value h) { return va::add(h, va::linear(g, h, "layers.{i}.proj", 12)); }));
  return g;
}

nlohmann::json json_of(const va::Graph& g) { return nlohmann::json::parse(va::graph_to_json(g)); }

std::string load_error(const nlohmann::json& document) {
  try {
    va::graph_from_json(document.dump(), "test.json");
  } catch (const va::GraphJsonError& e) {
    return e.what();
  }
  return "(loaded without error)";
}

}  // namespace

TEST_CASE("the every-op graph has every op of the registry") {
  const va::Graph g = every_op_graph();
  for (int op = 0; op < va::op_count; ++op) {
    INFO("op " << va::op_name(va::Op(op)));
    bool found = false;
    for (const va::Node& node : g.nodes()) found = found || node.op == va::Op(op);
    CHECK(found);
  }
}

TEST_CASE("graphs round-trip through JSON") {
  for (const va::Graph& graph : {every_op_graph(), [] {
         va::Graph g{"decoder"};
         auto x = g.input("x", {1, 9, 32});
         auto m = g.input("memory", {1, 13, 32});
         g.output("y", va::decoder_layer(g, x, m, {.heads = 4, .ffn_hidden = 64}));
         return g;
       }()}) {
    std::string text = va::graph_to_json(graph);
    va::Graph loaded = va::graph_from_json(text);
    CHECK(loaded == graph);
    CHECK(va::graph_to_json(loaded) == text);
  }
}

TEST_CASE("the JSON document states its format and version") {
  auto document = json_of(every_op_graph());
  CHECK(document["format"] == "vkattn.graph");
  CHECK(document["version"] == va::graph_json_version);
  CHECK(document["values"][0]["op"] == "input");
  CHECK(document["values"][0]["shape"] == nlohmann::json::array({2, 5, 12}));
}

TEST_CASE("malformed graph JSON is rejected naming the offending field") {
  auto good = json_of(every_op_graph());
  auto with = [&](auto change) {
    auto document = good;
    change(document);
    return load_error(document);
  };
  CHECK_THAT(load_error("not json"), Contains("test.json: (document): expected a JSON object"));
  try {
    va::graph_from_json("{\"format\": ", "broken.json");
    FAIL("accepted truncated JSON");
  } catch (const va::GraphJsonError& e) {
    CHECK_THAT(e.what(), Contains("broken.json: (document): not valid JSON"));
  }
  CHECK_THAT(with([](auto& d) { d["format"] = "onnx"; }), Contains("test.json: format: expected \"vkattn.graph\""));
  CHECK_THAT(with([](auto& d) { d["version"] = 99; }), Contains("version: this vkattn reads version 1, the file is version 99"));
  CHECK_THAT(with([](auto& d) { d.erase("values"); }), Contains("(document): missing \"values\""));
  CHECK_THAT(with([](auto& d) { d["values"][3]["op"] = "conv2d"; }), Contains("values[3].op: unknown op \"conv2d\""));
  CHECK_THAT(with([](auto& d) { d["values"][0]["shape"] = {2, -5, 12}; }), Contains("values[0].shape[1]: a dimension must be at least 1, not -5"));
  CHECK_THAT(with([](auto& d) { d["values"][0]["shape"] = {1, 2, 3, 4, 5}; }), Contains("values[0].shape: has 5 dimensions"));
  CHECK_THAT(with([](auto& d) { d["values"][0]["shape"] = "big"; }), Contains("values[0].shape: expected an array of dimensions"));
  CHECK_THAT(with([](auto& d) { d["values"][0]["dtype"] = "f64"; }), Contains("values[0].dtype: unknown dtype \"f64\""));
  CHECK_THAT(with([](auto& d) { d["values"][0].erase("name"); }), Contains("values[0]: missing \"name\""));
  std::size_t matmul = 0;
  for (std::size_t i = 0; i < good["values"].size(); ++i)
    if (good["values"][i]["op"] == "matmul") { matmul = i; break; }
  std::string at = "values[" + std::to_string(matmul) + "]";
  CHECK_THAT(with([&](auto& d) { d["values"][matmul]["inputs"] = {0}; }), Contains(at + ".inputs: matmul takes 2 operand(s)"));
  CHECK_THAT(with([&](auto& d) { d["values"][matmul]["inputs"] = {0, 400}; }), Contains(at + ": matmul: operand 1 refers to value 400, which is not defined before this op"));
  CHECK_THAT(with([&](auto& d) { d["values"][matmul]["inputs"] = {0, 0}; d["values"][matmul]["transpose_b"] = false; }), Contains(at + ": matmul: inner dimensions differ: a is [2, 5, 12] and b is [2, 5, 12]"));
  CHECK_THAT(with([&](auto& d) { d["values"][matmul]["shape"] = {2, 5, 13}; }), Contains(at + ".shape: says [2, 5, 13] but the operands give [2, 5, 12]"));
  CHECK_THAT(with([&](auto& d) { d["values"][matmul]["transpose_b"] = "yes"; }), Contains(at + ".transpose_b: expected true or false"));
}

TEST_CASE("a graph file that does not exist is named") {
  CHECK_THROWS_WITH(va::load_graph_json("/nonexistent/graph.json"), Contains("/nonexistent/graph.json: cannot open the file"));
  CHECK_THROWS_WITH(va::load_graph_json("/tmp"), Contains("/tmp: is a directory, not a graph JSON file"));
}

TEST_CASE("numbers out of range in graph JSON are errors naming the file and field") {
  const std::string big = R"({"format": "vkattn.graph", "version": 1, "name": "g", "values": [)"
                          R"({"op": "input", "name": "x", "dtype": "f32", "shape": [1e999]}]})";
  CHECK_THROWS_AS(va::graph_from_json(big, "big.json"), va::GraphJsonError);
  CHECK_THROWS_WITH(va::graph_from_json(big, "big.json"), Contains("big.json"));
  const std::string huge = R"({"format": "vkattn.graph", "version": 1, "name": "g", "values": [)"
                           R"({"op": "input", "name": "x", "dtype": "f32", "shape": [1048576, 1048576, 1048576]}]})";
  CHECK_THROWS_WITH(va::graph_from_json(huge, "huge.json"), Contains("huge.json: values[0].shape: has more than"));
  const std::string wide = R"({"format": "vkattn.graph", "version": 1, "name": "g", "values": [)"
                           R"({"op": "input", "name": "x", "dtype": "f32", "shape": [18446744073709551615]}]})";
  CHECK_THROWS_WITH(va::graph_from_json(wide, "wide.json"), Contains("wide.json: values[0].shape[0]: is out of range"));
  // Narrow fields are range-checked, not truncated: 2^32 + 0 would otherwise name value 0.
  const std::string id = R"({"format": "vkattn.graph", "version": 1, "name": "g", "values": [)"
                         R"({"op": "input", "name": "x", "dtype": "f32", "shape": [2, 3]},)"
                         R"({"op": "softmax", "inputs": [4294967296]}]})";
  CHECK_THROWS_WITH(va::graph_from_json(id, "id.json"), Contains("id.json: values[1].inputs[0]: 4294967296 is not a value id"));
  const std::string axis = R"({"format": "vkattn.graph", "version": 1, "name": "g", "values": [)"
                           R"({"op": "input", "name": "x", "dtype": "f32", "shape": [2, 3]},)"
                           R"({"op": "permute", "inputs": [0], "axes": [257, 0]}]})";
  CHECK_THROWS_WITH(va::graph_from_json(axis, "axis.json"), Contains("axis.json: values[1].axes[0]: 257 is not an axis"));
}

TEST_CASE("a dynamic dimension in graph JSON: unknown keys, control characters and too many are refused") {
  va::Graph g{"d"};
  g.output("y", va::relu(g.input("x", {va::dyn("seq", 8), 4})));
  const nlohmann::json good = json_of(g);
  CHECK_NOTHROW(va::graph_from_json(good.dump(), "ok.json"));
  nlohmann::json keys = good;
  keys["values"][0]["shape"][0]["min"] = 2;
  CHECK_THAT(load_error(keys), Contains("values[0].shape[0].min: is no key of a dynamic dimension"));
  nlohmann::json nul = good;
  nul["values"][0]["shape"][0]["dyn"] = std::string("se\0q", 4);
  CHECK_THAT(load_error(nul), Contains("values[0].shape[0].dyn: a dynamic dimension's name holds a control character"));
  // Eight dynamic dimensions are allowed; a ninth is refused.
  va::Graph h{"many"};
  auto a = h.input("a", {va::dyn("a1", 2), va::dyn("a2", 2), va::dyn("a3", 2), va::dyn("a4", 2)});
  h.input("b", {va::dyn("b1", 2), va::dyn("b2", 2), va::dyn("b3", 2), va::dyn("b4", 2)});
  h.input("c", {2});
  h.output("y", va::relu(a));
  nlohmann::json nine = json_of(h);
  CHECK_NOTHROW(va::graph_from_json(nine.dump(), "eight.json"));
  nine["values"][2]["shape"][0] = {{"dyn", "c1"}, {"max", 2}};
  CHECK_THAT(load_error(nine), Contains("the graph would have 9 dynamic dimensions; at most 8 are allowed"));
}
