#pragma once
// The compiler: a graph through the passes to a Schedule, at run time or while the C++
// compiles.
//
//   vkattn::Schedule s = vkattn::compile(graph, context.target());  // run time, for a device
//   constexpr auto plan = vkattn::compile<encoder_layer_graph, vkattn::targets::nvidia>();
//   static_assert(plan.dispatch_count() <= 3);                       // compile time
//
// Both run the same constexpr code, so they produce identical schedules. Passes 1-7 are
// the same for every target; pass 8 picks each dispatch's kernel variant for it. With no
// target, targets::generic.
#include <array>
#include <optional>
#include <string_view>

#include "vkattn/compiler/pass_canonicalize.hpp"
#include "vkattn/compiler/pass_fuse_attention.hpp"
#include "vkattn/compiler/pass_fuse_epilogues.hpp"
#include "vkattn/compiler/pass_fuse_projections.hpp"
#include "vkattn/compiler/pass_layouts.hpp"
#include "vkattn/compiler/pass_plan_memory.hpp"
#include "vkattn/compiler/pass_schedule.hpp"
#include "vkattn/compiler/pass_verify.hpp"
#include "vkattn/freeze.hpp"
#include "vkattn/targets.hpp"

namespace vkattn {

struct CompileOptions {
  // false: no fusion and no views; one dispatch per primitive op (matmuls still use
  // the GEMM kernel, and memory is still planned).
  bool fuse = true;
  // What the kernel variants are chosen for. Unset: targets::generic for compile(), the
  // context's own target (Context::target()) for an Executable or Decoder made from a graph.
  std::optional<Target> target{};
  // Hold every f32 value in f16 on the device (weights, activations, and the inputs and
  // outputs, converted at upload and download), as casting a model to half does. f16
  // values are held in f16 either way; kernels accumulate in f32.
  bool f16_storage = false;
  // Graphs with dynamic dimensions (dyn("seq", 4096)): the sizes the kernel variants and
  // their configurations are chosen for, for example {{"seq", 1}} for decoding steps.
  // A dimension not listed is chosen for at its bound. Every size a compile is given
  // (with_sizes) then uses the same kernels; memory is planned for the bounds.
  DimSizes tune_for{};
};

// The passes, in order.
inline constexpr std::array<std::string_view, 8> pass_names{
    "verify", "canonicalize", "fuse_projections", "fuse_attention",
    "fuse_epilogues", "layouts", "plan_memory", "schedule"};

// Sees the program after each pass (for dumps); index counts from 1.
class PassObserver {
 public:
  virtual ~PassObserver() = default;
  virtual void after_pass(int index, std::string_view pass, const Program& program) = 0;
};

constexpr Schedule compile(const Graph& graph, const CompileOptions& options = {}, PassObserver* observer = nullptr) {
  Program program = passes::verify(graph);
  // Each size to tune for names a dynamic dimension and lies within its bound.
  for (const DimSize& tuned : options.tune_for) {
    std::int64_t bound = 0;
    for (const DimSize& d : dynamic_dims(graph))
      if (d.name == tuned.name) bound = d.size;
    if (bound == 0 || tuned.size < 1 || tuned.size > bound) {
      Message m;
      m << "CompileOptions::tune_for gives `" << tuned.name.text().view() << "` the size " << tuned.size;
      if (bound == 0) m << ", but the graph has no dynamic dimension of that name";
      else m << "; it must be 1 to its bound, " << bound;
      compile_failure(m.view());
    }
  }
  program.fused = options.fuse;
  program.f16_storage = options.f16_storage;
  program.tune_for = options.tune_for;
  int index = 0;
  auto done = [&]() {
    ++index;
    if (observer != nullptr) observer->after_pass(index, pass_names[std::size_t(index - 1)], program);
  };
  done();
  passes::canonicalize(program);
  done();
  passes::fuse_projections(program);
  done();
  passes::fuse_attention(program);
  done();
  passes::fuse_epilogues(program, options.target.value_or(targets::generic));
  done();
  passes::assign_layouts(program);
  done();
  passes::plan_memory(program);
  done();
  passes::schedule(program, options.target.value_or(targets::generic));
  done();
  return program.schedule;
}

constexpr Schedule compile(const Graph& graph, const Target& target, CompileOptions options = {},
                           PassObserver* observer = nullptr) {
  options.target = target;
  return compile(graph, options, observer);
}

// One dispatch per primitive op: the reference point for fused schedules.
inline Schedule lower_unfused(const Graph& graph, const Target& target = targets::generic) {
  return compile(graph, CompileOptions{.fuse = false, .target = target});
}

namespace detail {
template <auto GraphFn, const Target& TargetRef, bool Fuse>
constexpr Schedule compile_graph_fn() {
  Graph graph = GraphFn();
  return compile(graph, CompileOptions{.fuse = Fuse, .target = TargetRef});
}
}  // namespace detail

// Compiles the constexpr graph function for a named target (vkattn/targets.hpp) while
// the C++ compiles. A shape error in the graph is a compile error quoting the message
// (see freeze()).
template <auto GraphFn, const Target& TargetRef = targets::generic, bool Fuse = true>
consteval auto compile() {
  constexpr auto problem = detail::error_text<GraphFn, true>();
  static_assert(detail::check_graph_error<problem>());
  if constexpr (problem.text[0] != '\0') {
    // The static_assert has reported the graph's mistake; compiling it would only add a
    // second, less readable error.
    return FrozenSchedule<0, 0>{};
  } else {
    constexpr std::array<std::size_t, 3> counts = [] {
      Schedule s = detail::compile_graph_fn<GraphFn, TargetRef, Fuse>();
      return std::array<std::size_t, 3>{s.slots.size(), s.dispatches.size(), s.programs.size()};
    }();
    constexpr std::size_t slot_count = counts[0], dispatch_count = counts[1], program_count = counts[2];
    Schedule s = detail::compile_graph_fn<GraphFn, TargetRef, Fuse>();
    FrozenSchedule<slot_count, dispatch_count, program_count> frozen;
    frozen.graph_name = s.graph_name;
    frozen.fused = s.fused;
    frozen.target = s.target;
    for (std::size_t i = 0; i < slot_count; ++i) frozen.slots[i] = s.slots[i];
    for (std::size_t i = 0; i < dispatch_count; ++i) frozen.dispatches[i] = s.dispatches[i];
    for (std::size_t i = 0; i < program_count; ++i) frozen.programs[i] = s.programs[i];
    frozen.arena_bytes = s.arena_bytes;
    frozen.weight_bytes = s.weight_bytes;
    frozen.memory = s.memory;
    frozen.repeats = s.repeats;
    return frozen;
  }
}

}  // namespace vkattn
