#pragma once
// A schedule as a device runs it: each repeated body (Schedule::repeats) written out once
// per iteration. Iteration k's dispatches bind the k-th copy of every per-iteration
// weight and state slot (those whose name, or a packed part's, holds `{i}`; the copies
// are named with `{i}` = k and placed after the schedule's weights and states), and bind
// the two carried slots swapped when k is odd. Dispatches after a body that read its
// result read it where the last iteration left it. Barriers are placed anew over the
// unrolled order. The intermediates of every iteration share the arena the schedule
// planned for the body once.
#include "vkattn/schedule.hpp"

namespace vkattn {

// The schedule without repeats; a schedule without any is returned as it is. Throws
// ScheduleError (vkattn/schedule_check.hpp) when a per-iteration slot is bound outside
// the body of its repeat or by two bodies, which check_schedule refuses too.
Schedule unroll_repeats(const Schedule& schedule);

// The graph with each repeated body written out once per iteration: the same
// computation, with `{i}` in every name of iteration k replaced by k (its weights and
// states then have the names a run binds), so that any value of any iteration can be
// named, read or made an output (a heatmap of layer 3's attention, say). A body's other
// named values get ".k" appended; generated names are made anew.
Graph unroll_repeats(const Graph& graph);

}  // namespace vkattn
