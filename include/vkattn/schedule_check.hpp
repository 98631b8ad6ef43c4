#pragma once
// The trust boundary of schedules: a Schedule read from JSON or built by hand is checked
// before anything uses it, as graphs are. Every slot must lie inside its buffer with the
// bytes its shape and element type need; every dispatch must name a real shader of its
// kernel, have the bindings, push constants and specialization constants that shader
// declares, read and write only inside its slots (from its push constants and workgroup
// counts), and launch at least one workgroup.
#include <stdexcept>

#include "vkattn/schedule.hpp"

namespace vkattn {

// A schedule that breaks one of the rules; the message names the slot or dispatch and
// the field ("dispatch 2 (gemm self_attn.out_proj): push constant M ...").
class ScheduleError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

// Throws ScheduleError at the first violation.
void check_schedule(const Schedule& schedule);

}  // namespace vkattn
