#include "device_context.hpp"

#include <cstdlib>
#include <stdexcept>
#include <string>

namespace vkattn::cli {

namespace {

bool validation_requested() {
  const char* env = std::getenv("VKATTN_VALIDATION");
  return env != nullptr && std::string(env) != "" && std::string(env) != "0";
}

}  // namespace

std::unique_ptr<Context> open_context(const Arguments& args) {
  ContextOptions options;
  options.device = args.text("--device", "");
  options.validation = validation_requested();
  options.synchronization_validation = options.validation;
  return std::make_unique<Context>(options);
}

void check_validation(const Context& context) {
  const auto messages = context.validation_messages();
  if (messages.empty()) return;
  std::string text = "the Vulkan validation layer reported " + std::to_string(messages.size()) + " message(s):";
  for (const std::string& m : messages) {
    text += "\n  ";
    text += m;
  }
  throw std::runtime_error(text);
}

const Target* requested_target(const Arguments& args) {
  std::string name = args.text("--target", "");
  const char* env = std::getenv("VKATTN_TARGET");
  if (name.empty() && env != nullptr) name = env;
  if (name.empty()) return nullptr;
  const Target* target = targets::find(name);
  if (target == nullptr)
    throw UsageError("--target: no target is named '" + name + "' (the targets: " + std::string(targets::names_text) +
                     ")");
  return target;
}

Target target_for(const Arguments& args, const Context& context) {
  if (const Target* named = requested_target(args)) return within_limits_of(*named, context.target());
  return context.target();
}

}  // namespace vkattn::cli
