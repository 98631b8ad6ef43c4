#pragma once
// Whether a schedule can run on a context's device: its buffers against the device's
// allocation and heap sizes, and each dispatch against the device's limits (workgroup
// counts, binding ranges, push constants, invocations, shared memory, subgroup
// operations, 16-bit storage). Checked before anything is allocated, so a schedule too
// large for the device is an error naming the buffer or dispatch, the size and the
// limit, not VK_ERROR_OUT_OF_DEVICE_MEMORY.
#include "vkattn/schedule.hpp"

#include "context_state.hpp"

namespace vkattn {

// Throws VulkanError at the first thing the device cannot do.
void check_fits_device(const Context::State& context, const Schedule& schedule);

}  // namespace vkattn
