// The main of the tests that use a Vulkan device: Catch2's session, then the shared
// validated context is closed, and a validation message its teardown gives (an object
// left alive, say) fails the run like any other.
#define CATCH_CONFIG_RUNNER
#include <cstdio>

#include "vulkan_harness.hpp"

int main(int argc, char** argv) {
  const int result = Catch::Session().run(argc, argv);
  std::unique_ptr<vkattn::Context>& context = vkattn::testing::shared_validated_context();
  if (!context) return result;
  const std::vector<std::string> messages = context->close();
  for (const std::string& message : messages)
    std::fprintf(stderr, "validation message after the last test (teardown): %s\n", message.c_str());
  context.reset();
  return result != 0 ? result : messages.empty() ? 0 : 1;
}
