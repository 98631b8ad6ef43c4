// How a library user can hold the runtime wrong, and what it does then: threads,
// lifetimes, many sizes, names and types that do not match, the default target, and
// positions out of range.
#include <atomic>
#include <limits>
#include <memory>
#include <thread>
#include <vkattn/vkattn.hpp>

#include "vulkan_harness.hpp"

namespace va = vkattn;
using Catch::Matchers::Contains;
using va::testing::validated_context;

namespace {

va::Graph dynamic_graph(std::int64_t bound) {
  va::Graph g{"dynamic"};
  auto x = g.input("x", {1, va::dyn("seq", bound), 16});
  g.output("y", va::multi_head_attention(g, x, x, x, {.heads = 2, .mask = va::Mask::causal}));
  return g;
}

va::TensorMap weights_of(const va::Graph& g) {
  va::TensorMap weights = va::random_bindings(g, 5);
  for (const va::Node& n : g.nodes())
    if (n.op == va::Op::input) weights.erase(std::string(n.name.view()));
  return weights;
}

va::TensorMap at_size(const va::Graph& g, std::int64_t seq, std::uint64_t seed) {
  va::DimSizes sizes;
  sizes.push_back({"seq", seq});
  return va::random_bindings(va::with_sizes(g, sizes), seed);
}

}  // namespace

TEST_CASE("one executable run from two threads at once: every result right, no validation message", "[vulkan]") {
  va::Graph g = va::testing::small_graph();
  const va::TensorMap weights = va::random_bindings(g, 1);
  va::Executable executable(validated_context(), va::compile(g, validated_context().target()), weights);
  std::vector<va::TensorMap> inputs;
  std::vector<va::Tensor> expected;
  for (std::uint64_t seed = 0; seed < 8; ++seed) {
    inputs.push_back(weights);
    inputs.back()["x"] = va::random_bindings(g, seed + 1).at("x");  // the weights stay those bound
    expected.push_back(va::run_reference(g, inputs.back()).outputs.at("y"));
  }
  std::atomic<int> wrong{0}, failures{0};
  auto work = [&](std::size_t first) {
    for (int i = 0; i < 60; ++i) {
      const std::size_t k = (first + std::size_t(i)) % inputs.size();
      try {
        const va::Tensor y = executable.run(inputs[k]).at("y");
        if (!(va::normalised_error(y, expected[k]) <= 1e-5)) ++wrong;
      } catch (...) {
        ++failures;
      }
    }
  };
  std::thread a(work, 0), b(work, 3);
  a.join();
  b.join();
  CHECK(wrong == 0);
  CHECK(failures == 0);
  CHECK(executable.stats().runs == 120);
  va::testing::require_no_validation_messages();
}

TEST_CASE("two executables on one context run from two threads: the queue is used in turn", "[vulkan]") {
  va::Graph g = va::testing::small_graph();
  const va::TensorMap bindings = va::random_bindings(g, 2);
  const va::Tensor expected = va::run_reference(g, bindings).outputs.at("y");
  va::Executable first(validated_context(), va::compile(g, validated_context().target()), bindings);
  va::Executable second(validated_context(), va::lower_unfused(g, validated_context().target()), bindings);
  std::atomic<int> wrong{0};
  auto work = [&](va::Executable& e) {
    for (int i = 0; i < 80; ++i)
      if (!(va::normalised_error(e.run(bindings).at("y"), expected) <= 1e-5)) ++wrong;
  };
  std::thread a(work, std::ref(first)), b(work, std::ref(second));
  a.join();
  b.join();
  CHECK(wrong == 0);
  va::testing::require_no_validation_messages();
}

TEST_CASE("an executable outliving its context is inert: run throws, destruction is safe", "[vulkan]") {
  va::Graph g = va::testing::small_graph();
  const va::TensorMap bindings = va::random_bindings(g, 3);
  auto context = std::make_unique<va::Context>();
  std::unique_ptr<va::Executable> executable;
  {
    [[maybe_unused]] va::testing::LeaksExpected leaks_are_the_point;  // the driver's objects die with its device
    executable = std::make_unique<va::Executable>(*context, va::compile(g, context->target()), bindings);
    executable->run(bindings);
  }
  context.reset();  // the context first
  CHECK_THROWS_WITH(executable->run(bindings), Contains("Context was closed"));
  CHECK_THROWS_WITH(executable->reset_state(), Contains("Context was closed"));
  executable.reset();  // reads nothing the context freed (ASan checks this under make sanitize)
}

TEST_CASE("an executable run at many sizes keeps at most max_recordings command buffers", "[vulkan]") {
  va::Graph g = dynamic_graph(40);
  va::Executable executable(validated_context(), g, {}, weights_of(g), {.max_recordings = 4});
  for (std::int64_t seq = 1; seq <= 12; ++seq) {
    const va::TensorMap inputs = at_size(g, seq, std::uint64_t(seq));
    executable.poison_arena(std::numeric_limits<float>::quiet_NaN());
    va::TensorMap all = inputs;
    for (auto& [name, tensor] : weights_of(g)) all[name] = tensor;
    const va::Tensor y = executable.run(all).at("y");
    va::DimSizes sizes;
    sizes.push_back({"seq", seq});
    CHECK(va::normalised_error(y, va::run_reference(va::with_sizes(g, sizes), all).outputs.at("y")) <= 1e-5);
  }
  // 12 sizes and the bounds': 13 recorded, 4 kept.
  CHECK(executable.stats().recordings == 13);
  CHECK(executable.stats().evictions == 9);
  // A size evicted long ago is recorded again and still right.
  va::TensorMap again = at_size(g, 1, 77);
  for (auto& [name, tensor] : weights_of(g)) again[name] = tensor;
  va::DimSizes one;
  one.push_back({"seq", 1});
  CHECK(va::normalised_error(executable.run(again).at("y"), va::run_reference(va::with_sizes(g, one), again).outputs.at("y")) <= 1e-5);
  CHECK(executable.stats().recordings == 14);
  va::testing::require_no_validation_messages();
}

TEST_CASE("an executable made from a graph compiles for the context's device unless told otherwise", "[vulkan]") {
  va::Graph g = dynamic_graph(16);
  va::Executable own(validated_context(), g, {}, weights_of(g));
  CHECK(own.schedule().target.name == validated_context().target().name);
  const va::Target generic = va::within_limits_of(va::targets::generic, validated_context().target());
  va::Executable told(validated_context(), g, {.target = generic}, weights_of(g));
  CHECK(told.schedule().target.name == va::targets::generic.name);
  va::testing::require_no_validation_messages();
}

TEST_CASE("run refuses names it does not know and tensors of the wrong kind, naming the inputs", "[vulkan]") {
  va::Graph g{"lengths"};
  auto x = g.input("x", {2, 4, 8});
  auto lengths = g.input("lengths", {2}, va::DType::i32);
  g.output("y", va::multi_head_attention(g, x, x, x, {.heads = 2, .mask = va::Mask::padding, .lengths = lengths}));
  const va::TensorMap bindings = va::random_bindings(g, 4);
  va::Executable executable(validated_context(), va::compile(g, validated_context().target()), bindings);
  va::TensorMap typo = bindings;
  typo["lenghts"] = typo.at("lengths");
  CHECK_THROWS_WITH(executable.run(typo), Contains("run() was given a tensor named 'lenghts', which is no input or "
                                                   "weight of graph 'lengths' (its inputs: ") &&
                                              Contains("did you mean 'lengths'?"));
  va::TensorMap floats = bindings;
  floats.at("lengths").dtype = va::DType::f32;
  CHECK_THROWS_WITH(executable.run(floats), Contains("input 'lengths' is i32 but the tensor given is f32"));
  va::TensorMap missing = bindings;
  missing.erase("x");
  missing["xx"] = bindings.at("x");
  CHECK_THROWS_WITH(executable.run(missing), Contains("did you mean 'x'?"));
  va::TensorMap fraction = bindings;
  fraction.at("lengths").values[0] = 2.5;
  CHECK_THROWS_AS(executable.run(fraction), va::BindingError);
  CHECK_THROWS_WITH(executable.run(fraction), Contains("which is not an int32"));
  CHECK(executable.run(bindings).count("y") == 1);
  va::testing::require_no_validation_messages();
}

TEST_CASE("positions read only by rotary_embedding_at or cache_causal_mask are range-checked", "[vulkan]") {
  va::Graph g{"positions"};
  auto x = g.input("x", {2, 3, 4, 8});
  auto keys = g.input("keys", {2, 3, 10, 8});
  auto positions = g.input("positions", {2}, va::DType::i32);
  auto q = va::rotary_embedding_at(x, positions);
  auto scores = va::cache_causal_mask(va::matmul(q, keys, va::Transpose::b), positions);
  g.output("y", va::matmul(va::softmax(scores), keys));
  va::TensorMap bindings = va::random_bindings(g, 6);
  bindings.at("positions").values = {0, 6};  // the last query of sequence 1 at key 9
  for (bool fuse : {false, true}) {
    INFO("fused " << fuse);
    va::Executable executable(validated_context(), va::compile(g, validated_context().target(), {.fuse = fuse}), bindings);
    CHECK(va::normalised_error(executable.run(bindings).at("y"), va::run_reference(g, bindings).outputs.at("y")) <= 1e-5);
    for (double bad : {7.0, -1.0, 2147483647.0, 1e9, 16777217.0, 1e300, std::numeric_limits<double>::quiet_NaN()}) {
      INFO("position " << bad);
      va::TensorMap wrong = bindings;
      wrong.at("positions").values = {0, bad};
      CHECK_THROWS_WITH(executable.run(wrong), Contains("input 'positions' puts sequence 1 at position") &&
                                                   Contains("a position is 0 to"));
    }
  }
  // Rotary alone: positions up to where f32 still holds every angle exactly.
  va::Graph r{"rotary_only"};
  auto rx = r.input("x", {1, 2, 5, 8});
  auto rp = r.input("positions", {1}, va::DType::i32);
  r.output("y", va::rotary_embedding_at(rx, rp));
  va::TensorMap rb = va::random_bindings(r, 7);
  va::Executable rotary(validated_context(), va::compile(r, validated_context().target()), rb);
  rb.at("positions").values = {16777217.0};
  CHECK_THROWS_WITH(rotary.run(rb), Contains("beyond the positions whose rotary angles f32 holds exactly"));
  va::testing::require_no_validation_messages();
}

TEST_CASE("check_outputs compares a run with the reference in one call", "[vulkan]") {
  va::Graph g = dynamic_graph(24);
  va::TensorMap bindings = at_size(g, 9, 11);
  for (auto& [name, tensor] : weights_of(g)) bindings[name] = tensor;  // the weights bound below
  va::Executable executable(validated_context(), g, {}, weights_of(g));
  const va::TensorMap outputs = executable.run(bindings);
  const va::OutputsCheck check = va::check_outputs(g, bindings, outputs);
  CHECK(check.ok());
  CHECK(check.worst() <= 1e-5);
  CHECK_THAT(check.summary(), Contains("y: "));
  va::TensorMap wrong = outputs;
  wrong.at("y").values[3] += 1.0;
  CHECK_FALSE(va::check_outputs(g, bindings, wrong).ok());
  CHECK_THROWS_WITH(va::check_outputs(g, bindings, {}), Contains("the outputs hold no 'y'"));
  va::testing::require_no_validation_messages();
}
