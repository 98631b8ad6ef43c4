// The schedule's text forms: a golden listing, JSON that reads back to the same
// schedule, and DOT with one cluster per dispatch.
#include <catch2/catch.hpp>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <vkattn/presets.hpp>
#include <vkattn/schedule_text.hpp>
#include <vkattn/vkattn.hpp>

namespace va = vkattn;

namespace {

// The fixed small graph of the golden listing: a causal post-norm encoder layer.
va::Graph golden_graph() {
  return va::build_preset({.name = "encoder_layer", .batch = 2, .seq = 12, .model = 32, .heads = 4,
                           .ffn_hidden = 64, .mask = va::Mask::causal});
}

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

TEST_CASE("the listing of a fixed small graph matches the golden file") {
  // VKATTN_UPDATE_GOLDEN=1 rewrites the files after a deliberate change to the listing.
  const bool update = std::getenv("VKATTN_UPDATE_GOLDEN") != nullptr;
  // The fused schedule for the nvidia target (GPU variants), the unfused one for
  // llvmpipe (CPU variants).
  va::Graph g = golden_graph();
  for (bool fused : {true, false}) {
    const std::string path =
        std::string(VKATTN_TEST_DATA_DIR) + (fused ? "/golden/encoder_layer.listing" : "/golden/encoder_layer_unfused.listing");
    const va::Target& target = fused ? va::targets::nvidia : va::targets::llvmpipe;
    const std::string listing = va::schedule_listing(va::compile(g, target, {.fuse = fused}), &g);
    if (update) std::ofstream(path) << listing;
    INFO("golden file " << path << " (VKATTN_UPDATE_GOLDEN=1 rewrites it)");
    CHECK(listing == read_text(path));
  }
}

TEST_CASE("schedule JSON reads back to the same schedule") {
  for (const va::Target* target : va::targets::all)
  for (const char* preset : {"mha", "cross_attention", "gqa", "encoder_layer", "decoder_layer"})
    for (bool fused : {true, false}) {
      INFO(preset << (fused ? " fused" : " unfused") << ", target " << target->name.view());
      va::Graph g = va::build_preset({.name = preset, .seq = 9, .kv_seq = 13, .model = 32, .heads = 4,
                                      .mask = va::Mask::padding});
      va::Schedule s = va::compile(g, *target, {.fuse = fused});
      std::string json = va::schedule_to_json(s, &g);
      va::Schedule back = va::schedule_from_json(json);
      CHECK(back == s);
      CHECK(va::schedule_to_json(back, &g) == json);
    }
}

TEST_CASE("a kernel's further outputs read back from JSON") {
  va::Graph g{"two_outputs"};
  auto x = g.input("x", {4, 6}, va::DType::f16);
  auto positive = x > 0.0;
  g.output("positive", positive);
  g.output("y", va::where(positive, va::tanh(x), x));
  const va::Schedule s = va::compile(g);
  REQUIRE(s.programs.size() == 1);
  REQUIRE(s.programs[0].outputs.size() == 1);
  const std::string json = va::schedule_to_json(s, &g);
  const std::size_t outputs = json.find("\"outputs\"");
  REQUIRE(outputs != std::string::npos);
  const va::Schedule back = va::schedule_from_json(json);
  CHECK(back == s);
  std::string bad = json;  // the output's dtype (the positive mask, stored as i32)
  const std::size_t dtype = bad.find("\"i32\"", outputs);
  REQUIRE(dtype != std::string::npos);
  bad.replace(dtype, 5, "\"i64\"");
  CHECK_THROWS_WITH(va::schedule_from_json(bad), Catch::Contains("outputs/0"));
}

TEST_CASE("malformed schedule JSON is refused naming the field") {
  va::Graph g = golden_graph();
  const std::string good = va::schedule_to_json(va::compile(g), &g);
  auto error_of = [](const std::string& text) -> std::string {
    try {
      va::schedule_from_json(text);
    } catch (const va::ScheduleJsonError& e) {
      return e.what();
    }
    return "no error";
  };
  auto replaced = [&](const std::string& from, const std::string& to) {
    std::string text = good;
    auto at = text.find(from);
    REQUIRE(at != std::string::npos);
    return text.replace(at, from.size(), to);
  };
  CHECK_THAT(error_of("{"), Catch::Contains("is not JSON"));
  CHECK_THAT(error_of(replaced("\"version\": " + std::to_string(va::schedule_json_version), "\"version\": 7")), Catch::Contains("version: is 7"));
  CHECK_THAT(error_of(replaced("\"kernel\": \"gemm\"", "\"kernel\": \"conv\"")),
             Catch::Contains("dispatches/0/kernel: unknown value 'conv'"));
  CHECK_THAT(error_of(replaced("\"slot\": 0", "\"slot\": 999")), Catch::Contains("names no slot"));
  CHECK_THAT(error_of(replaced("\"peak_bytes\"", "\"peak\"")), Catch::Contains("memory/peak_bytes: is missing"));
  CHECK_THAT(error_of(replaced("\"offset\": 0", "\"offset\": 0.5")), Catch::Contains("offset: is not a whole number: 0.5"));
  CHECK_THAT(error_of(replaced("\"offset\": 0", "\"offset\": 1e30")), Catch::Contains("offset: is not a whole number"));
  CHECK_THAT(error_of(replaced("\"offset\": 0", "\"offset\": 99999999999999999999")), Catch::Contains("offset: is"));
}

TEST_CASE("a padding length's limit rides the score program through JSON, and an unknown limit is refused") {
  va::Graph g{"padded"};
  auto x = g.input("x", {2, 9, 16});
  auto lengths = g.input("lengths", {2}, va::DType::i32);
  g.output("y", va::multi_head_attention(g, x, x, x, {.heads = 2, .mask = va::Mask::padding, .lengths = lengths}));
  const va::Schedule s = va::compile(g);
  const std::string text = va::schedule_to_json(s, &g);
  REQUIRE(text.find("\"limit\": \"key_count\"") != std::string::npos);
  CHECK(va::schedule_from_json(text) == s);
  std::string bad = text;
  bad.replace(bad.find("\"limit\": \"key_count\""), 20, "\"limit\": \"keys\"");
  std::string error = "no error";
  try {
    va::schedule_from_json(bad);
  } catch (const va::ScheduleJsonError& e) {
    error = e.what();
  }
  CHECK_THAT(error, Catch::Contains("/limit: is not none, key_count or query_start"));
}

TEST_CASE("DOT draws every dispatch as a cluster around the ops it covers") {
  va::Graph g = golden_graph();
  va::Schedule s = va::compile(g);
  std::string dot = va::schedule_to_dot(s, g);
  CHECK(dot.rfind("digraph \"encoder_layer\" {", 0) == 0);
  for (std::size_t i = 0; i < s.dispatches.size(); ++i)
    CHECK(dot.find("subgraph cluster_dispatch_" + std::to_string(i) + " {") != std::string::npos);
  // The flash-attention cluster holds the softmax it replaced; head splits are dashed views.
  std::size_t cluster = dot.find("label=\"#1 flash_attention");
  std::size_t end = dot.find("  }\n", cluster);
  CHECK(dot.substr(cluster, end - cluster).find("self_attn.probs") != std::string::npos);
  CHECK(dot.find("self_attn.q_heads\\nsplit_heads [2, 4, 12, 8]\", style=\"rounded,dashed\"") != std::string::npos);
  // Every graph node appears once.
  std::size_t nodes = 0;
  for (std::size_t at = dot.find(" [label="); at != std::string::npos; at = dot.find(" [label=", at + 1)) ++nodes;
  CHECK(nodes == g.size());
}
