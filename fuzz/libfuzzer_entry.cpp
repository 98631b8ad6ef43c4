// libFuzzer's entry point. An exception that escapes the target ends the process,
// which libFuzzer reports as a crash and saves the input as a reproducer.
#include <cstdint>

#include "fuzz_target.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  (void)vkattn::fuzz::feed({reinterpret_cast<const char*>(data), size});
  return 0;
}
