#pragma once
// The message of the exception a call throws, or "(no error)": for checking what an
// error says with CHECK_THAT(error_of([&] { ... }), Contains("...")).
#include <exception>
#include <functional>
#include <string>

namespace vkattn::testing {

inline std::string error_of(const std::function<void()>& call) {
  try {
    call();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace vkattn::testing
