#pragma once
// The Vulkan context of a subcommand: --device SEL, and VKATTN_VALIDATION=1 to run
// under the Khronos validation layer (with synchronization validation), where any
// message fails the command.
#include <memory>

#include <vkattn/runtime.hpp>

#include "cli_options.hpp"

namespace vkattn::cli {

std::unique_ptr<Context> open_context(const Arguments& args);
// Throws with the messages when validation is on and reported any.
void check_validation(const Context& context);

}  // namespace vkattn::cli
