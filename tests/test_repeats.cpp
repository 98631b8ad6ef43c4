// Repeated bodies without a device: the DSL's rules and errors, the reference running a
// body once per iteration, the schedule holding the body once with its count, the
// unrolled schedule the device runs, and the schedule JSON of a repeat.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <functional>
#include <set>

#include <vkattn/graph_json.hpp>
#include <vkattn/presets.hpp>
#include <vkattn/reference.hpp>
#include <vkattn/schedule_check.hpp>
#include <vkattn/schedule_text.hpp>
#include <vkattn/unroll_repeats.hpp>
#include <vkattn/vkattn.hpp>

#include "error_text.hpp"
#include "graph_error_matchers.hpp"

namespace va = vkattn;
using va::testing::error_of;
using Catch::Matchers::Contains;

namespace {

// y = x + x · W_iᵀ, three times, with a weight per iteration and a shared scale.
va::Graph residual_stack(std::int64_t iterations) {
  va::Graph g{"residual_stack"};
  auto x = g.input("x", {2, 3, 8});
  auto shared = g.weight("shared", {8});
  g.output("y", va::repeat(x, iterations, [&](va::Value h) {
    // The softmax keeps a dispatch before the GEMM (whose epilogue is the rest).
    auto projected = va::matmul(va::softmax(h), g.weight("layers.{i}.w", {8, 8}), va::Transpose::b);
    return va::add(va::mul(va::add(h, projected), shared), h);
  }));
  return g;
}

}  // namespace

TEST_CASE("a repeated body's rules are checked as it is written") {
  va::Graph g{"rules"};
  auto x = g.input("x", {2, 4});
  REQUIRE_GRAPH_ERROR(va::repeat_begin(x, 0), "a repeated body runs at least once, not 0 times");
  REQUIRE_GRAPH_ERROR(g.weight("w.{i}", {4}), "`{i}` stands for the iteration of a repeated body, and no body is open");
  REQUIRE_GRAPH_ERROR(g.input("in.{i}", {4}), "an input is the same for every iteration");
  auto start = va::repeat_begin(x, 3);
  REQUIRE_GRAPH_ERROR(va::repeat_begin(start, 2), "repeated bodies do not nest");
  REQUIRE_GRAPH_ERROR(g.output("inside", start), "a graph output inside a repeated body would be overwritten");
  REQUIRE_GRAPH_ERROR(g.state("cache", {2, 4}), "a state declared in a repeated body is one per iteration: put `{i}`");
  REQUIRE_GRAPH_ERROR(va::repeat_end(start, start), "an iteration's result must be computed inside the body");
  REQUIRE_GRAPH_ERROR(va::repeat_end(va::slice(va::scale(start, 2.0), -1, 0, 2), start), "must have the shape and dtype");
  auto inside = va::scale(start, 2.0);
  auto result = va::repeat_end(inside, start);
  REQUIRE_GRAPH_ERROR(va::add(inside, x), "operand 0 is `scale_");
  REQUIRE_GRAPH_ERROR(va::add(x, start), "which exists only inside it; read the value its repeat_end returns");
  REQUIRE_GRAPH_ERROR(va::repeat_end(va::scale(x, 3.0), start), "which exists only inside it");
  CHECK(va::add(result, x).shape() == va::Shape{2, 4});
  // A body left open is refused when compiled.
  va::Graph open{"open"};
  auto z = open.input("x", {2, 4});
  open.output("y", va::scale(z, 2.0));
  (void)va::scale(va::repeat_begin(z, 2), 2.0);
  CHECK_THAT(error_of([&] { va::compile(open); }), Contains("is never closed: end it with repeat_end"));
}

TEST_CASE("the reference runs a body once per iteration with that iteration's weights") {
  const va::Graph g = residual_stack(3);
  const va::TensorMap bindings = va::random_bindings(g, 7);
  for (const char* name : {"layers.0.w", "layers.1.w", "layers.2.w", "shared", "x"}) CHECK(bindings.count(name));
  CHECK(bindings.size() == 5);
  // The same three layers by hand.
  va::Graph by_hand{"by_hand"};
  auto h = by_hand.input("x", {2, 3, 8});
  auto shared = by_hand.weight("shared", {8});
  for (int i = 0; i < 3; ++i) {
    auto w = by_hand.weight("layers." + std::to_string(i) + ".w", {8, 8});
    h = va::add(va::mul(va::add(h, va::matmul(va::softmax(h), w, va::Transpose::b)), shared), h);
  }
  by_hand.output("y", h);
  const va::Tensor expected = va::run_reference(by_hand, bindings).outputs.at("y");
  const va::Tensor actual = va::run_reference(g, bindings).outputs.at("y");
  CHECK(actual.values == expected.values);
  CHECK(va::bound_tensors(g).size() == 4);  // three layers' w and the shared one
}

TEST_CASE("a schedule holds a repeated body once with its count, and unrolled each iteration binds its own weights") {
  for (const bool fuse : {true, false}) {
    INFO((fuse ? "fused" : "unfused"));
    for (const std::int64_t iterations : {1, 2, 3}) {
      INFO(iterations << " iterations");
      const va::Schedule s = va::compile(residual_stack(iterations), va::CompileOptions{.fuse = fuse});
      REQUIRE(s.repeats.size() == 1);
      const va::RepeatRange& r = s.repeats[0];
      CHECK(r.iterations == iterations);
      CHECK(s.executed_dispatch_count() == s.dispatch_count() + std::size_t(r.count * (iterations - 1)));
      const va::Schedule u = va::unroll_repeats(s);
      CHECK(u.repeats.empty());
      REQUIRE(u.dispatches.size() == s.executed_dispatch_count());
      va::check_schedule(u);
      // Each iteration's GEMM reads its own weight, named for it.
      std::vector<std::string> weights;
      for (const va::Dispatch& d : u.dispatches)
        for (int slot : d.slots)
          if (slot >= 0 && u.slots[std::size_t(slot)].role == va::SlotRole::weight &&
              u.slots[std::size_t(slot)].name.view() != "shared")
            weights.emplace_back(u.slots[std::size_t(slot)].name.view());
      REQUIRE(weights.size() == std::size_t(iterations));
      for (std::int64_t i = 0; i < iterations; ++i) CHECK(weights[std::size_t(i)] == "layers." + std::to_string(i) + ".w");
      // The last iteration reads carried_in and writes carried_out; the one before it
      // the reverse (so an even count starts in carried_out).
      const auto reads = [&](std::int64_t iteration, int slot) {
        const va::Dispatch& d = u.dispatches[std::size_t(r.first + iteration * r.count)];
        return std::count(d.slots.begin() + 1, d.slots.end(), slot) > 0;
      };
      CHECK(reads(iterations - 1, r.carried_in));
      if (iterations > 1) {
        CHECK(reads(iterations - 2, r.carried_out));
        CHECK(u.dispatches[std::size_t(r.first + r.count - 1)].barrier_after);
      }
      CHECK(u.slots[std::size_t(r.carried_out)].role == va::SlotRole::output);  // the output "y" itself
      // The listing names the body and its count.
      CHECK_THAT(va::schedule_listing(s), Contains("repeat \u00d7 " + std::to_string(iterations) + ": dispatches"));
    }
  }
}

TEST_CASE("each layer's cache keeps its place at every size of a decoding graph") {
  va::PresetOptions o{.name = "llama_block", .batch = 2, .seq = 7, .model = 64, .heads = 4, .kv_heads = 2,
                      .ffn_hidden = 40, .layers = 3, .cache = 512};
  const va::Graph g = va::build_preset(o);
  va::DimSizes one;
  one.push_back({"seq", 1});
  // The nvidia target splits a one-token step's attention over keys, with a workspace.
  const va::Schedule bounds = va::unroll_repeats(va::compile(g, va::targets::nvidia));
  const va::Schedule step = va::unroll_repeats(
      va::compile(va::with_sizes(g, one), va::CompileOptions{.target = va::targets::nvidia, .tune_for = one}));
  CHECK(step.dispatch_count() > bounds.dispatch_count());  // the split-over-keys form
  int states = 0;
  for (const va::TensorSlot& slot : bounds.slots) {
    if (slot.role != va::SlotRole::state) continue;
    ++states;
    INFO(slot.name.view());
    const int other = step.find_slot(slot.name.view(), va::SlotRole::state);
    REQUIRE(other >= 0);
    CHECK(step.slots[std::size_t(other)].offset == slot.offset);
  }
  CHECK(states == 6);
}

TEST_CASE("a preset's --layers is one body, the same computation as the layers written out") {
  va::PresetOptions o{.name = "llama_block", .batch = 1, .seq = 5, .model = 16, .heads = 4, .kv_heads = 2,
                      .ffn_hidden = 24, .layers = 4};
  const va::Graph repeated = va::build_preset(o);
  o.unrolled = true;
  const va::Graph unrolled = va::build_preset(o);
  std::set<std::string> a, b;
  for (const va::BoundTensor& t : va::bound_tensors(repeated)) a.insert(t.name);
  for (const va::BoundTensor& t : va::bound_tensors(unrolled)) b.insert(t.name);
  CHECK(a == b);
  CHECK(a.count("model.layers.3.mlp.down_proj.weight"));
  CHECK(repeated.size() < unrolled.size() / 3);
  const va::TensorMap bindings = va::random_bindings(repeated, 2);
  CHECK(va::run_reference(repeated, bindings).outputs.at("y").values ==
        va::run_reference(unrolled, bindings).outputs.at("y").values);
  // Written out by unroll_repeats, the repeated graph is the unrolled preset, node for node.
  CHECK(va::unroll_repeats(repeated) == unrolled);
  CHECK(va::unroll_repeats(unrolled) == unrolled);
}

TEST_CASE("a repeat round-trips through schedule JSON, and a malformed one is refused") {
  const va::Schedule s = va::compile(residual_stack(3));
  const std::string text = va::schedule_to_json(s);
  CHECK(va::schedule_from_json(text) == s);
  CHECK(va::graph_from_json(va::graph_to_json(residual_stack(3))) == residual_stack(3));
  auto with = [&](auto change) {
    nlohmann::json doc = nlohmann::json::parse(text);
    change(doc["repeats"][0]);
    return error_of([&] { va::schedule_from_json(doc.dump()); });
  };
  CHECK_THAT(with([](auto& r) { r["iterations"] = 0; }), Contains("repeat 0: runs 0 times"));
  CHECK_THAT(with([](auto& r) { r["count"] = 1000; }), Contains("repeat 0: covers dispatches"));
  CHECK_THAT(with([](auto& r) { r["carried"] = {0, 0}; }), Contains("repeat 0 carried"));
  CHECK_THAT(with([](auto& r) { r["carried"] = {1}; }), Contains("repeats/0/carried"));
  // The body's GEMM, which reads each iteration's weight, moved out of the body.
  CHECK_THAT(with([](auto& r) { r["count"] = r["count"].template get<int>() - 1; }),
             Contains("('layers.{i}.w'): is one tensor per iteration ({i} in its name) but dispatch 2, outside every "
                      "repeated body, binds it"));
  // A graph file whose body is never closed.
  nlohmann::json graph = nlohmann::json::parse(va::graph_to_json(residual_stack(2)));
  while (graph["values"].back()["op"] != "repeat_end") graph["values"].erase(graph["values"].size() - 1);
  graph["values"].erase(graph["values"].size() - 1);
  CHECK_THAT(error_of([&] { va::graph_from_json(graph.dump(), "open.json"); }),
             Contains("open.json: values[2]: repeat_begin opens a body that no repeat_end closes"));
}
