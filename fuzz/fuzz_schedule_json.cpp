// Fuzz target: schedule JSON through schedule_from_json, which checks the schedule
// against the trust boundary (check_schedule). A schedule it accepts lists (with its
// constants), writes JSON that reads back unchanged, and unrolls (its repeated bodies
// written out) into a schedule that passes the same check.
#include "fuzz_target.hpp"
#include "vkattn/schedule_check.hpp"
#include "vkattn/schedule_text.hpp"
#include "vkattn/unroll_repeats.hpp"

namespace vkattn::fuzz {

bool feed(std::span<const char> bytes) {
  Schedule schedule;
  try {
    schedule = schedule_from_json(std::string(bytes.data(), bytes.size()));
  } catch (const ScheduleJsonError&) {
    return false;
  } catch (const ScheduleError&) {
    return false;
  }
  (void)schedule_listing(schedule);
  (void)schedule_listing(schedule, nullptr, {.constants = true});
  require(schedule_from_json(schedule_to_json(schedule)) == schedule, "an accepted schedule reads back unchanged");
  const Schedule unrolled = unroll_repeats(schedule);  // check_schedule leaves it nothing to refuse
  require(unrolled.repeats.empty() && unrolled.dispatches.size() == schedule.executed_dispatch_count(),
          "unrolling writes every iteration out");
  check_schedule(unrolled);
  return true;
}

}  // namespace vkattn::fuzz
