#pragma once
// Schedules as text: the JSON document (format "vkattn.schedule", docs/schedule-json.md)
// and the human listing. With the graph, covered ops are shown by their names.
#include <string>

#include "vkattn/schedule.hpp"

namespace vkattn {

inline constexpr int schedule_json_version = 1;

std::string schedule_to_json(const Schedule& schedule, const Graph* graph = nullptr);
std::string schedule_listing(const Schedule& schedule, const Graph* graph = nullptr);

}  // namespace vkattn
