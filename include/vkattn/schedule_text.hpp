#pragma once
// Schedules as text: the JSON document (format "vkattn.schedule", docs/schedule-json.md)
// the human listing and a Graphviz drawing. With the graph, covered ops are shown by their names.
#include <stdexcept>
#include <string>
#include <vector>

#include "vkattn/schedule.hpp"

namespace vkattn {

inline constexpr int schedule_json_version = 6;

std::string schedule_to_json(const Schedule& schedule, const Graph* graph = nullptr);
// "1 dispatch", "7 dispatches": a count and its noun.
std::string count_of(std::size_t n, const char* one, const char* many);

// A target as one JSON object (the "target" of schedule JSON and of `vkattn devices --json`).
std::string target_to_json(const Target& target);

// A malformed schedule JSON document; the message names the field ("dispatches/2/kernel").
class ScheduleJsonError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};
// Reads schedule_to_json's output back: schedule_from_json(schedule_to_json(s)) == s.
Schedule schedule_from_json(const std::string& text);
struct ListingOptions {
  bool constants = false;  // a line per dispatch with its specialization constants and binding reads
};
// The target, then one line per dispatch: index, kernel, input and output shapes, FLOPs,
// bytes, the barrier after it and the ops it covers; under it the kernel variant, its
// configuration and why the target got it.
std::string schedule_listing(const Schedule& schedule, const Graph* graph = nullptr, const ListingOptions& options = {});
// "gemm_tiled.comp LOCAL_SIZE=256 TRANSPOSE_B=1 ... | 0: storage, 1: storage, ...": a
// dispatch's shader, its specialization constants by name and how each binding is read.
std::string specialization_text(const Dispatch& dispatch);
// "gemm.tiled 128x128x16 8x8 wg256 — nvidia: subgroup 32, 48 KiB shared"
std::string variant_text(const Dispatch& dispatch);
// "nvidia (nvidia, discrete GPU; subgroup 32, arithmetic, shuffle; 48 KiB shared, ...)"
std::string target_text(const Target& target);
// Graphviz: the graph's ops, with every dispatch a cluster around the ops it covers
// (views that need no dispatch are dashed). Renders with `dot -Tsvg`.
std::string schedule_to_dot(const Schedule& schedule, const Graph& graph);

}  // namespace vkattn
