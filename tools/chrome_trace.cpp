#include "chrome_trace.hpp"

#include <sstream>

#include <nlohmann/json.hpp>

namespace vkattn::cli {

namespace {

template <typename... Parts>
std::string text(const Parts&... parts) {
  std::ostringstream out;
  (out << ... << parts);
  return out.str();
}

}  // namespace

std::string chrome_trace(const std::string& device, const Schedule& schedule, const std::vector<MeasuredRun>& runs) {
  using nlohmann::json;
  json events = json::array();
  events.push_back({{"name", "process_name"}, {"ph", "M"}, {"pid", 1}, {"args", {{"name", device}}}});
  events.push_back({{"name", "thread_name"},
                    {"ph", "M"},
                    {"pid", 1},
                    {"tid", 1},
                    {"args", {{"name", text(schedule.graph_name.view(), schedule.fused ? " (fused)" : " (unfused)")}}}});
  double origin_us = 0;
  for (std::size_t r = 0; r < runs.size(); ++r) {
    const MeasuredRun& run = runs[r];
    events.push_back({{"name", text("run ", r)},
                      {"cat", "run"},
                      {"ph", "X"},
                      {"pid", 1},
                      {"tid", 1},
                      {"ts", origin_us},
                      {"dur", run.total_ms * 1000.0},
                      {"args", {{"dispatches", run.dispatches.size()}}}});
    for (std::size_t i = 0; i < run.dispatches.size() && i < schedule.dispatches.size(); ++i) {
      const DispatchTiming& t = run.dispatches[i];
      const Dispatch& d = schedule.dispatches[i];
      const double ms = t.milliseconds;
      events.push_back({{"name", text("#", i, " ", t.label)},
                        {"cat", std::string(kernel_name(d.kernel))},
                        {"ph", "X"},
                        {"pid", 1},
                        {"tid", 1},
                        {"ts", origin_us + t.start_ms * 1000.0},
                        {"dur", ms * 1000.0},
                        {"args",
                         {{"kernel", std::string(kernel_name(d.kernel))},
                          {"flops", d.flops},
                          {"bytes", d.bytes},
                          {"gflops_per_s", ms > 0 ? d.flops / (ms * 1e6) : 0.0},
                          {"gbytes_per_s", ms > 0 ? d.bytes / (ms * 1e6) : 0.0},
                          {"workgroups", {d.workgroups[0], d.workgroups[1], d.workgroups[2]}},
                          {"barrier_after", d.barrier_after}}}});
    }
    origin_us += run.total_ms * 1000.0;
  }
  json doc{{"traceEvents", events}, {"displayTimeUnit", "ms"}, {"otherData", {{"generator", "vkattn bench"}}}};
  return doc.dump(1);
}

}  // namespace vkattn::cli
