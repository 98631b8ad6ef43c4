#pragma once
// A measured timeline in the Chrome trace-event format (JSON), which Perfetto
// (ui.perfetto.dev) and chrome://tracing open.
#include <string>
#include <vector>

#include <vkattn/runtime.hpp>

namespace vkattn::cli {

struct MeasuredRun {
  double total_ms = 0;
  std::vector<DispatchTiming> dispatches;
};

// One process (the device), one track (its queue). Each run is a slice "run N" with
// its dispatches nested inside; runs are laid end to end in the order measured, since
// the device timestamps of different submissions share no origin.
std::string chrome_trace(const std::string& device, const Schedule& schedule, const std::vector<MeasuredRun>& runs);

}  // namespace vkattn::cli
