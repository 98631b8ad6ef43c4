#pragma once
// What every example does after building its graph: compile it, load it on the
// default Vulkan device (or the one VKATTN_DEVICE names), print the listing with the
// kernel variants chosen there, run it with random weights over a NaN-poisoned arena,
// print the per-dispatch device times and compare every output with the CPU reference.
//
// An example given --small runs at test-suite sizes. VKATTN_VALIDATION=1 runs it under
// the Khronos validation layer, where any message fails it.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <string>

#include <vkattn/reference.hpp>
#include <vkattn/runtime.hpp>
#include <vkattn/schedule_text.hpp>
#include <vkattn/vkattn.hpp>

namespace example {

inline bool small_sizes(int argc, char** argv) {
  for (int i = 1; i < argc; ++i)
    if (std::strcmp(argv[i], "--small") == 0) return true;
  return false;
}

// Returns the process exit code: 0 when every output matches the reference.
inline int run_and_check(const vkattn::Graph& graph) {
  namespace va = vkattn;
  try {
    va::ContextOptions options;
    const char* validation = std::getenv("VKATTN_VALIDATION");
    options.validation = validation != nullptr && std::strcmp(validation, "0") != 0 && *validation != '\0';
    options.synchronization_validation = options.validation;
    va::Context context(options);
    const va::DeviceInfo& device = context.device();
    std::printf("device: %s (%s, Vulkan %s, subgroup size %u)\n\n", device.name.c_str(),
                std::string(va::device_type_name(device.type)).c_str(), device.api_version.c_str(),
                device.subgroup_size);

    va::TensorMap bindings = va::random_bindings(graph, 1);
    va::Executable executable(context, va::compile(graph, context.target()), bindings);
    std::printf("%s\n", va::schedule_listing(executable.schedule(), &graph).c_str());

    executable.run(bindings);  // warm-up: some drivers finish compiling pipelines on first use
    executable.poison_arena(std::numeric_limits<float>::quiet_NaN());
    va::TensorMap outputs = executable.run(bindings);
    if (!executable.timings().empty()) {
      for (std::size_t i = 0; i < executable.timings().size(); ++i)
        std::printf("  #%-3zu %8.3f ms  %s\n", i, executable.timings()[i].milliseconds,
                    executable.timings()[i].label.c_str());
      std::printf("        %8.3f ms  device time of the run (%s; %zu unfused)\n", executable.last_run_ms(),
                  va::count_of(executable.schedule().dispatches.size(), "dispatch", "dispatches").c_str(),
                  va::lower_unfused(graph).dispatches.size());
    }

    va::ReferenceResult reference = va::run_reference(graph, bindings);
    bool ok = true;
    for (const auto& [name, y] : outputs) {
      const double error = va::normalised_error(y, reference.outputs.at(name));
      const bool within = error < 1e-4;  // false for NaN: an unwritten element
      ok = ok && within;
      std::printf("output %s %s: normalised error against the CPU reference %.2e%s\n", name.c_str(),
                  va::to_string(y.shape).c_str(), error, within ? "" : "  <- too large");
    }
    for (const std::string& message : context.validation_messages()) {
      std::fprintf(stderr, "validation: %s\n", message.c_str());
      ok = false;
    }
    return ok ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: %s\n", std::string(graph.name()).c_str(), e.what());
    return 1;
  }
}

}  // namespace example
