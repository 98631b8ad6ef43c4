#pragma once
// Where a DSL call was written. std::source_location is not available with every
// supported compiler (clang 14 with libstdc++ 12 lacks it), so the compiler builtins
// are used directly; both g++ and clang provide them in default arguments.
#include <cstdint>

namespace vkattn {

struct SourceLocation {
  const char* file = nullptr;  // nullptr: the value did not come from C++ source (e.g. JSON)
  std::uint32_t line = 0;

  static constexpr SourceLocation current(const char* file = __builtin_FILE(),
                                          std::uint32_t line = __builtin_LINE()) {
    return {file, line};
  }
  constexpr bool known() const { return file != nullptr; }
};

}  // namespace vkattn
