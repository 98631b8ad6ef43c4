// The runtime itself: devices, errors, the pipeline cache, profiling, replay.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <unistd.h>
#include <vkattn/schedule_check.hpp>
#include <vkattn/vkattn.hpp>

#include "pytorch_state_dict.hpp"
#include "resident_memory.hpp"
#include "vulkan_harness.hpp"

namespace va = vkattn;
using Catch::Matchers::Contains;

TEST_CASE("devices are listed with their capabilities", "[vulkan]") {
  auto devices = va::Context::devices();
  REQUIRE_FALSE(devices.empty());
  for (const auto& d : devices) {
    CHECK_FALSE(d.name.empty());
    CHECK(d.subgroup_size >= 1);
  }
  const auto& chosen = va::testing::validated_context().device();
  CHECK(chosen.index >= 0);
}

TEST_CASE("a device selector that matches nothing is an error listing the devices", "[vulkan]") {
  CHECK_THROWS_WITH(va::Context(va::ContextOptions{.device = "no-such-gpu"}), Contains("no device name contains \"no-such-gpu\"; the devices are:"));
  CHECK_THROWS_WITH(va::Context(va::ContextOptions{.device = "99"}), Contains("device index 99 does not exist"));
  auto devices = va::Context::devices();
  va::Context by_name(va::ContextOptions{.device = devices[0].name});
  CHECK(by_name.device().name == devices[0].name);
}

TEST_CASE("missing weights and inputs are named", "[vulkan]") {
  va::Graph g = va::testing::small_graph();
  va::TensorMap bindings = va::random_bindings(g, 1);
  va::TensorMap without_weight = bindings;
  without_weight.erase("proj.bias");
  CHECK_THROWS_WITH(va::Executable(va::testing::validated_context(), va::lower_unfused(g), without_weight),
                    "no tensor was given for weight 'proj.bias' [5]");
  va::Executable executable(va::testing::validated_context(), va::lower_unfused(g), bindings);
  CHECK_THROWS_WITH(executable.run({}), "no tensor was given for input 'x' [3, 8]");
  CHECK_THROWS_WITH(executable.run({{"x", va::Tensor::zeros({8, 3})}}), "input 'x' is declared [3, 8] but the tensor given has shape [8, 3]");
  va::testing::require_no_validation_messages();
}

TEST_CASE("one recorded command buffer is replayed with new inputs", "[vulkan]") {
  va::Graph g = va::testing::small_graph();
  va::TensorMap bindings = va::random_bindings(g, 2);
  va::Executable executable(va::testing::validated_context(), va::lower_unfused(g), bindings);
  for (std::uint64_t seed = 10; seed < 13; ++seed) {
    bindings["x"] = va::Tensor::random({3, 8}, seed);
    executable.poison_arena(std::numeric_limits<float>::quiet_NaN());
    auto actual = executable.run(bindings);
    auto expected = va::run_reference(g, bindings);
    CHECK(va::testing::compare(actual.at("y"), expected.outputs.at("y")).normalised_error < 1e-5);
  }
  va::testing::require_no_validation_messages();
}

TEST_CASE("timestamps measure every dispatch", "[vulkan]") {
  va::Graph g = va::testing::small_graph();
  va::Executable executable(va::testing::validated_context(), va::lower_unfused(g), va::random_bindings(g, 3));
  executable.run(va::random_bindings(g, 3));
  if (!va::testing::validated_context().device().timestamps) SUCCEED("this device has no timestamp queries");
  else {
    REQUIRE(executable.timings().size() == executable.schedule().dispatches.size());
    for (const auto& t : executable.timings()) CHECK(t.milliseconds >= 0);
  }
}

TEST_CASE("the pipeline cache is persisted, reused, and survives corruption", "[vulkan]") {
  auto directory = std::filesystem::temp_directory_path() / ("vkattn-cache-test-" + std::to_string(::getpid()));
  std::filesystem::remove_all(directory);
  ::setenv("XDG_CACHE_HOME", directory.c_str(), 1);
  va::Graph g = va::testing::small_graph();
  va::TensorMap bindings = va::random_bindings(g, 4);
  std::string path;
  {
    va::Executable first(va::testing::validated_context(), va::lower_unfused(g), bindings);
    CHECK(first.pipeline_cache().loaded_bytes == 0);
    path = first.pipeline_cache().path;
    CHECK_THAT(path, Contains((directory / "vkattn").string()));
  }
  REQUIRE(std::filesystem::exists(path));
  {
    va::Executable second(va::testing::validated_context(), va::lower_unfused(g), bindings);
    CHECK(second.pipeline_cache().loaded_bytes > 0);  // the first load's cache came back from disk
    CHECK_FALSE(second.pipeline_cache().rejected);
  }
  for (std::string garbage : {std::string("not a pipeline cache"), std::string(4096, '\xff'), std::string()}) {
    std::ofstream(path, std::ios::binary | std::ios::trunc) << garbage;
    va::Executable third(va::testing::validated_context(), va::lower_unfused(g), bindings);
    CHECK(third.pipeline_cache().loaded_bytes == 0);
    CHECK(third.pipeline_cache().rejected);  // an empty file is unusable too
    auto actual = third.run(bindings);
    CHECK(va::testing::compare(actual.at("y"), va::run_reference(g, bindings).outputs.at("y")).normalised_error < 1e-5);
  }
  ::unsetenv("XDG_CACHE_HOME");
  std::filesystem::remove_all(directory);
  va::testing::require_no_validation_messages();
}

TEST_CASE("the packed QKV weight binds as one tensor under PyTorch's name in_proj_weight", "[vulkan]") {
  va::Graph g{"packed"};
  auto x = g.input("x", {2, 7, 12});
  g.output("y", va::multi_head_attention(g, x, x, x, {.heads = 3}));
  va::Schedule s = va::compile(g);
  REQUIRE(s.find_slot("self_attn.in_proj_weight", va::SlotRole::weight) >= 0);
  REQUIRE(s.find_slot("self_attn.in_proj_bias", va::SlotRole::weight) >= 0);
  va::TensorMap bindings = va::random_bindings(g, 9);
  // Replace the three projections by the packed tensors, rows q, k, v.
  va::TensorMap packed_bindings = va::testing::pack_in_proj(bindings, "self_attn");
  va::Executable executable(va::testing::validated_context(), s, packed_bindings);
  executable.poison_arena(std::numeric_limits<float>::quiet_NaN());
  va::TensorMap outputs = executable.run(packed_bindings);
  double error = va::normalised_error(outputs.at("y"), va::run_reference(g, bindings).outputs.at("y"));
  CHECK(error < 1e-5);
  va::testing::require_no_validation_messages();
}

TEST_CASE("an integer graph output comes back as the integers, for every target", "[vulkan]") {
  va::Graph g{"integers"};
  auto lengths = g.input("lengths", {5}, va::DType::i32);
  g.output("same", lengths);
  va::TensorMap bindings;
  bindings["lengths"] = va::Tensor{va::Shape{5}, va::DType::i32, {1, -2, 3, 100000, -2147483647}};
  for (const va::Target& target : va::testing::targets_to_prove()) {
    va::Executable exe(va::testing::validated_context(), va::compile(g, target), bindings);
    va::TensorMap out = exe.run(bindings);
    CHECK(out.at("same").dtype == va::DType::i32);
    CHECK(out.at("same").values == bindings["lengths"].values);
  }
  // A value outside int32 (an i64 file's 2^40, a fraction) is refused by name, never converted.
  va::Executable exe(va::testing::validated_context(), va::compile(g), bindings);
  for (double bad : {1099511627776.0, -2147483649.0, 2.5}) {
    va::TensorMap wrong = bindings;
    wrong["lengths"].values[3] = bad;
    CHECK_THROWS_WITH(exe.run(wrong), Catch::Contains("tensor 'lengths' holds") &&
                                          Catch::Contains("at element 3, which is not an int32"));
  }
  va::testing::require_no_validation_messages();
}

TEST_CASE("an Executable checks its schedule before allocating anything for it", "[vulkan]") {
  va::Graph g = va::testing::small_graph();
  va::TensorMap bindings = va::random_bindings(g, 5);
  va::Schedule s = va::compile(g, va::testing::validated_context().target());
  s.arena_bytes = std::int64_t(1) << 50;      // no device could allocate this
  s.dispatches[0].push_constants[0] = 1000;  // M: writes far past the result
  CHECK_THROWS_AS(va::Executable(va::testing::validated_context(), s, bindings), va::ScheduleError);
  CHECK_THROWS_WITH(va::Executable(va::testing::validated_context(), s, bindings), Contains("C reaches element"));
  va::testing::require_no_validation_messages();
}

TEST_CASE("a schedule larger than the device can hold is refused before anything is allocated", "[vulkan]") {
  // 65536 x 4096 activations: gigabytes of arena, beyond one allocation of any device here.
  va::Graph g{"large"};
  auto x = g.input("x", {1, 65536, 4096});
  g.output("y", va::multi_head_attention(g, x, x, x, {.heads = 8}));
  va::Context& context = va::testing::validated_context();
  const va::Schedule schedule = va::compile(g, context.target());
  REQUIRE(context.device().max_allocation_bytes > 0);
  REQUIRE(std::uint64_t(schedule.arena_bytes) > context.device().max_allocation_bytes);
  CHECK_THROWS_WITH(context.check_fits(schedule),
                    Catch::Contains("the arena (inputs, intermediates and outputs) of 'large' needs") &&
                        Catch::Contains("more than one allocation on " + context.device().name) &&
                        Catch::Contains("maxMemoryAllocationSize"));
  va::TensorMap none;
  CHECK_THROWS_WITH(va::Executable(context, schedule, none), Catch::Contains("maxMemoryAllocationSize"));
  va::testing::require_no_validation_messages();
}

using va::testing::resident_mib;

TEST_CASE("an executable destroyed without a later run gives its driver memory back", "[vulkan]") {
  // lavapipe frees pipelines on the queue's next submission; without one, each
  // executable of this size kept about 14 MiB.
  va::Graph g = va::testing::small_graph();
  va::TensorMap bindings = va::random_bindings(g, 5);
  va::Context& context = va::testing::validated_context();
  const va::Schedule schedule = va::compile(g, context.target());
  for (int i = 0; i < 3; ++i) va::Executable warm_up(context, schedule, bindings);
  const double before = resident_mib();
  for (int i = 0; i < 30; ++i) va::Executable unused(context, schedule, bindings);
  const double growth = resident_mib() - before;
  INFO("resident memory grew " << growth << " MiB over 30 executables");
#if defined(__SANITIZE_ADDRESS__) || VKATTN_HAS_ADDRESS_SANITIZER
  // AddressSanitizer keeps freed memory in quarantine (256 MiB), so resident memory
  // cannot show what the driver gave back; the ordinary build checks it.
  WARN("resident memory is not checked under AddressSanitizer (" << growth << " MiB)");
#else
  CHECK(growth < 48);
#endif
  va::testing::require_no_validation_messages();
}

TEST_CASE("validation messages of the context's teardown are collected and returned by close", "[vulkan]") {
  // An executable left alive when its context closes: the layer reports its objects.
  va::Context context(va::ContextOptions{.validation = true, .synchronization_validation = true});
  va::Graph g = va::testing::small_graph();
  va::TensorMap bindings = va::random_bindings(g, 5);
  std::unique_ptr<va::Executable> executable;
  {
    [[maybe_unused]] va::testing::LeaksExpected leaks_are_the_point;
    executable = std::make_unique<va::Executable>(context, va::compile(g, context.target()), bindings);
  }
  executable->run(bindings);
  CHECK(context.validation_messages().empty());
  const std::vector<std::string> messages = context.close();
  CHECK_FALSE(messages.empty());
  bool names_leak = false;
  for (const std::string& m : messages) names_leak = names_leak || m.find("has not been destroyed") != std::string::npos;
  CHECK(names_leak);
  CHECK_THROWS_WITH(executable->run(bindings), Catch::Contains("Context was closed"));
  executable.reset();  // after close: nothing left to destroy, and no crash
}
