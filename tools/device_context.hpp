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

// --target NAME (else VKATTN_TARGET): a named target, or nullptr when neither is given.
// An unknown name is a UsageError listing the names.
const Target* requested_target(const Arguments& args);
// What to compile for on `context`: the requested named target within the device's
// limits (its kernel variants, proven on this device), else the device's own target.
Target target_for(const Arguments& args, const Context& context);

inline constexpr const char* target_help =
    "  --target NAME       compile for a named target: llvmpipe, nvidia, amd, intel, apple,\n"
    "                      generic (VKATTN_TARGET); on a device, its choices within the\n"
    "                      device's limits. Default: the device's own target\n";

}  // namespace vkattn::cli
