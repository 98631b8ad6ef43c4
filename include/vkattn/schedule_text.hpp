#pragma once
// Schedules as text: the JSON document (format "vkattn.schedule", docs/schedule-json.md)
// the human listing and a Graphviz drawing. With the graph, covered ops are shown by their names.
#include <stdexcept>
#include <string>
#include <vector>

#include "vkattn/schedule.hpp"

namespace vkattn {

inline constexpr int schedule_json_version = 1;

std::string schedule_to_json(const Schedule& schedule, const Graph* graph = nullptr);

// A malformed schedule JSON document; the message names the field ("dispatches/2/kernel").
class ScheduleJsonError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};
// Reads schedule_to_json's output back: schedule_from_json(schedule_to_json(s)) == s.
Schedule schedule_from_json(const std::string& text);
// One line per dispatch: index, kernel, input and output shapes, FLOPs, bytes, the
// barrier after it and the ops it covers. `variants` (one line per dispatch, from
// Executable::variants()) adds what the loaded executable chose on its device.
std::string schedule_listing(const Schedule& schedule, const Graph* graph = nullptr,
                             const std::vector<std::string>* variants = nullptr);
// "gemm.comp TRANSPOSE_B=1 A_VEC4=1 ...": a dispatch's shader and specialization.
std::string specialization_text(const Dispatch& dispatch);
// Graphviz: the graph's ops, with every dispatch a cluster around the ops it covers
// (views that need no dispatch are dashed). Renders with `dot -Tsvg`.
std::string schedule_to_dot(const Schedule& schedule, const Graph& graph);

}  // namespace vkattn
