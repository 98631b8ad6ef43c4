#pragma once
// The shared shape of vkattn's fuzz targets. Each target is one function that takes
// the bytes of an untrusted file and feeds them through a parser and what follows it.
// The contract under test: every input either succeeds or fails with one of vkattn's
// own error types, which the target catches. Anything else escapes: another
// exception, a crash, a sanitizer report, a leak, a broken round trip.
//
// Each target builds twice: with libFuzzer (VKATTN_FUZZ=ON, clang) as a fuzzer, and in
// every build with replay_main.cpp as a program that runs every file of the given
// corpus and reproducer folders once, registered as a test.
#include <cstddef>
#include <span>
#include <stdexcept>
#include <string>

namespace vkattn::fuzz {

// Defined by each target. Returns true for an input it accepted, false for one refused
// with vkattn's error; throws PropertyBroken (or lets anything else escape) otherwise.
bool feed(std::span<const char> bytes);

// A property the target checks on a good input failed (say, a round trip changed it).
class PropertyBroken : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

inline void require(bool holds, const std::string& property) {
  if (!holds) throw PropertyBroken(property);
}

}  // namespace vkattn::fuzz
