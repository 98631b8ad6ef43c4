// Soak: one Executable run many times, then many Executables made, run once and
// destroyed, then many made and destroyed without a run, with resident host memory
// sampled as it goes; validation and synchronization validation on. Fails when memory
// keeps growing past the warm-up or a validation message appears (teardown included).
//
// usage: soak [--runs N (10000)] [--cycles N (200)]
// Run by `ctest -C soak -L soak` (outside the default set: it takes minutes).
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <unistd.h>

#include "resident_memory.hpp"

#include <vkattn/reference.hpp>
#include <vkattn/runtime.hpp>
#include <vkattn/vkattn.hpp>

namespace va = vkattn;

namespace {

using va::testing::resident_mib;

va::Graph soak_graph() {
  va::Graph g{"soak"};
  auto x = g.input("x", {2, 37, 48});
  auto lengths = g.input("lengths", {2}, va::DType::i32);
  auto a = va::multi_head_attention(g, x, x, x, {.heads = 4, .mask = va::Mask::causal | va::Mask::padding, .lengths = lengths});
  g.output("y", va::layer_norm(g, x + a, "norm"));
  return g;
}

// Growth from the sample after warm-up to the last, in MiB; prints every sample.
struct Samples {
  const char* what;
  double after_warm_up = 0, last = 0;
  void take(long step, bool warm_up_done) {
    last = resident_mib();
    if (!warm_up_done) after_warm_up = last;
    std::printf("  %-9s %6ld  resident %8.1f MiB\n", what, step, last);
    std::fflush(stdout);
  }
  double growth() const { return last - after_warm_up; }
};

long flag(int argc, char** argv, const char* name, long fallback) {
  for (int i = 1; i + 1 < argc; ++i)
    if (std::strcmp(argv[i], name) == 0) return std::strtol(argv[i + 1], nullptr, 10);
  return fallback;
}

}  // namespace

int main(int argc, char** argv) {
  const long runs = flag(argc, argv, "--runs", 10000);
  const long cycles = flag(argc, argv, "--cycles", 200);
  // Bounds on growth after warm-up: a leak of one small buffer per run or one
  // executable's pipelines per cycle passes these many times over.
  const double run_bound_mib = 8, cycle_bound_mib = 32;

  auto context = std::make_unique<va::Context>(va::ContextOptions{.validation = true, .synchronization_validation = true});
  const va::Graph graph = soak_graph();
  const va::Schedule schedule = va::compile(graph, context->target());
  const va::TensorMap bindings = va::random_bindings(graph, 3);
  const va::TensorMap expected = va::run_reference(graph, bindings).outputs;
  std::printf("soak on %s: %ld runs of one executable, then %ld executables made, run and destroyed\n",
              context->device().name.c_str(), runs, cycles);
  int failures = 0;
  auto check_output = [&](const va::TensorMap& out, const char* when) {
    const double error = va::normalised_error(out.at("y"), expected.at("y"));
    if (!(error < 1e-5)) {
      std::printf("FAIL: %s: normalised error %g\n", when, error);
      ++failures;
    }
  };

  Samples run_samples{"run"};
  {
    va::Executable executable(*context, schedule, bindings);
    const long warm_up = std::min(runs, 100L);
    for (long i = 1; i <= runs; ++i) {
      va::TensorMap out = executable.run(bindings);
      if (i == 1 || i == runs) check_output(out, "run");
      if (i == warm_up || i % 1000 == 0 || i == runs) run_samples.take(i, i > warm_up);
    }
  }
  Samples cycle_samples{"cycle"};
  const long warm_up = std::min(cycles, 10L);
  for (long i = 1; i <= cycles; ++i) {
    va::Executable executable(*context, schedule, bindings);
    va::TensorMap out = executable.run(bindings);
    if (i == 1 || i == cycles) check_output(out, "cycle");
    if (i == warm_up || i % 20 == 0 || i == cycles) cycle_samples.take(i, i > warm_up);
  }
  // Made and destroyed with no run, so no submission follows a destruction: a driver
  // that frees on its next submission (lavapipe) must still be given back the memory.
  Samples idle_samples{"unrun"};
  for (long i = 1; i <= cycles; ++i) {
    { va::Executable executable(*context, schedule, bindings); }
    if (i == warm_up || i % 20 == 0 || i == cycles) idle_samples.take(i, i > warm_up);
  }
  const std::vector<std::string> messages = context->close();
  for (const std::string& m : messages) std::printf("validation: %s\n", m.c_str());

  std::printf("growth after warm-up: %.1f MiB over %ld runs (bound %.0f), %.1f MiB over %ld cycles and %.1f MiB "
              "over %ld cycles without a run (bound %.0f each); %zu validation messages\n",
              run_samples.growth(), runs, run_bound_mib, cycle_samples.growth(), cycles, idle_samples.growth(), cycles,
              cycle_bound_mib, messages.size());
  if (run_samples.growth() > run_bound_mib || cycle_samples.growth() > cycle_bound_mib ||
      idle_samples.growth() > cycle_bound_mib || !messages.empty())
    ++failures;
  std::printf("%s\n", failures == 0 ? "soak: ok" : "soak: FAILED");
  return failures == 0 ? 0 : 1;
}
