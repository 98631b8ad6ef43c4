#pragma once
// Runs graphs on the default Vulkan device with the Khronos validation layer (and
// synchronization validation) on, and compares every output with the CPU reference;
// fused schedules under every named target, which proves each kernel variant here.
#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <memory>
#include <vkattn/reference.hpp>
#include <vkattn/runtime.hpp>
#include <vkattn/tensor_files.hpp>
#include <vkattn/vkattn.hpp>

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define VKATTN_HAS_ADDRESS_SANITIZER 1
#endif
#endif
#ifndef VKATTN_HAS_ADDRESS_SANITIZER
#define VKATTN_HAS_ADDRESS_SANITIZER 0
#endif
#if VKATTN_HAS_ADDRESS_SANITIZER || defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
#endif

namespace vkattn::testing {

// While one is alive, LeakSanitizer does not count new allocations as leaks: for tests
// whose premise is a device destroyed under live objects, which the driver then cannot
// free. Nothing without AddressSanitizer.
struct LeaksExpected {
#if VKATTN_HAS_ADDRESS_SANITIZER || defined(__SANITIZE_ADDRESS__)
  __lsan::ScopedDisabler disabled;
#endif
};

// One validated context per test binary; every test checks that it stayed silent, and
// vulkan_catch_main.cpp closes it after the last test and fails on what teardown reports.
inline std::unique_ptr<Context>& shared_validated_context() {
  static std::unique_ptr<Context> context;
  return context;
}

inline Context& validated_context() {
  std::unique_ptr<Context>& context = shared_validated_context();
  if (!context) context = std::make_unique<Context>(ContextOptions{.validation = true, .synchronization_validation = true});
  return *context;
}

inline void require_no_validation_messages() {
  auto messages = validated_context().validation_messages();
  for (const auto& m : messages) UNSCOPED_INFO(m);
  CHECK(messages.empty());
  validated_context().clear_validation_messages();
}

struct Comparison {
  double normalised_error = 0;  // ||device - reference|| / ||reference|| over finite values
  std::size_t nan_count = 0;    // NaN on the device where the reference has none (unwritten elements)
  std::size_t infinity_mismatches = 0;
};

inline Comparison compare(const Tensor& device, const Tensor& reference) {
  Comparison c;
  REQUIRE(device.values.size() == reference.values.size());
  double difference = 0, magnitude = 0;
  for (std::size_t i = 0; i < device.values.size(); ++i) {
    double d = device.values[i], r = reference.values[i];
    if (std::isnan(d) && !std::isnan(r)) {
      ++c.nan_count;
      continue;
    }
    if (std::isinf(r) || std::isinf(d)) {
      if (d != r) ++c.infinity_mismatches;
      continue;
    }
    difference += (d - r) * (d - r);
    magnitude += r * r;
  }
  c.normalised_error = std::sqrt(difference) / std::max(std::sqrt(magnitude), 1e-30);
  return c;
}

// Runs `schedule` on the device with the arena poisoned with NaN and checks every
// output against the reference. Returns the largest normalised error.
inline double check_schedule(const Graph& graph, const Schedule& schedule, const TensorMap& bindings,
                             const ReferenceResult& expected, double tolerance) {
  Executable executable(validated_context(), schedule, bindings);
  executable.poison_arena(std::numeric_limits<float>::quiet_NaN());
  TensorMap actual = executable.run(bindings);
  double worst = 0;
  REQUIRE(actual.size() == expected.outputs.size());
  for (const auto& [name, reference] : expected.outputs) {
    INFO("graph " << graph.name() << (schedule.fused ? " fused" : " unfused") << " for target "
                  << schedule.target.name.view() << ", output " << name << " " << to_string(reference.shape));
    Comparison c = compare(actual.at(name), reference);
    CHECK(c.nan_count == 0);
    CHECK(c.infinity_mismatches == 0);
    CHECK(c.normalised_error <= tolerance);
    worst = std::max(worst, c.normalised_error);
  }
  require_no_validation_messages();
  return worst;
}

// The targets every fused schedule is proven under on this device: the device's own,
// then each named target's choices within the device's limits (vkattn/targets.hpp).
inline std::vector<Target> targets_to_prove() {
  std::vector<Target> list{validated_context().target()};
  for (const Target* named : targets::all) list.push_back(within_limits_of(*named, validated_context().target()));
  return list;
}

// Compiles `graph` (fused or unfused) for every target of targets_to_prove(), skipping
// schedules already run, runs each on the device with the arena poisoned with NaN, and
// checks every output against the reference. Returns the largest normalised error.
// With `f16_storage` every float tensor is held in f16 (CompileOptions::f16_storage).
inline double check_schedule_on_device(const Graph& graph, bool fuse, const TensorMap& bindings, double tolerance,
                                       bool f16_storage = false) {
  ReferenceResult expected = run_reference(graph, bindings);
  double worst = 0;
  std::vector<Schedule> done;
  for (const Target& target : targets_to_prove()) {
    Schedule schedule = compile(graph, target, CompileOptions{.fuse = fuse, .f16_storage = f16_storage});
    bool seen = false;
    for (const Schedule& other : done) {
      Schedule a = schedule, b = other;
      a.target = b.target = Target{};  // the same dispatches under another name
      seen = seen || a == b;
    }
    if (seen) continue;
    worst = std::max(worst, check_schedule(graph, schedule, bindings, expected, tolerance));
    done.push_back(std::move(schedule));
  }
  return worst;
}

inline double check_schedule_on_device(const Graph& graph, bool fuse, std::uint64_t seed, double tolerance) {
  return check_schedule_on_device(graph, fuse, random_bindings(graph, seed), tolerance);
}

// Both schedules of `graph`, fused and unfused, under every target, against the reference.
inline double check_on_device(const Graph& graph, const TensorMap& bindings, double tolerance = 1e-5) {
  double unfused = check_schedule_on_device(graph, false, bindings, tolerance);
  double fused = check_schedule_on_device(graph, true, bindings, tolerance);
  return std::max(unfused, fused);
}
inline double check_on_device(const Graph& graph, std::uint64_t seed, double tolerance = 1e-5) {
  return check_on_device(graph, random_bindings(graph, seed), tolerance);
}

// Rows [first, first + count) of a [batch, seq, features] tensor (one run's tokens of a
// whole sequence).
inline Tensor rows_of(const Tensor& t, std::int64_t first, std::int64_t count) {
  Tensor out;
  out.dtype = t.dtype;
  out.shape = Shape{t.shape[0], count, t.shape[2]};
  for (std::int64_t b = 0; b < t.shape[0]; ++b)
    for (std::int64_t s = first; s < first + count; ++s)
      for (std::int64_t d = 0; d < t.shape[2]; ++d)
        out.values.push_back(t.values[std::size_t((b * t.shape[1] + s) * t.shape[2] + d)]);
  return out;
}

// The bindings with every float value rounded to f16, as a device holding them in f16
// sees them: the reference is evaluated on exactly these.
inline TensorMap rounded_to_f16(TensorMap bindings) {
  for (auto& [name, tensor] : bindings)
    if (tensor.dtype != DType::i32)
      for (double& v : tensor.values) v = half_to_float(double_to_half(v));
  return bindings;
}

// A graph of one linear layer and a softmax: the smallest that exercises a run.
inline Graph small_graph() {
  Graph g{"small"};
  auto x = g.input("x", {3, 8});
  g.output("y", softmax(linear(g, x, "proj", 5)));
  return g;
}

// The kernels of the fused schedule, in order.
inline std::vector<Kernel> fused_kernels(const Graph& graph) {
  std::vector<Kernel> kernels;
  for (const Dispatch& d : compile(graph).dispatches) kernels.push_back(d.kernel);
  return kernels;
}

}  // namespace vkattn::testing
