#pragma once
// Resident host memory of this process, for the tests that watch it for leaks.
#include <fstream>
#include <unistd.h>

namespace vkattn::testing {

inline double resident_mib() {
  std::ifstream statm("/proc/self/statm");
  long pages = 0, resident = 0;
  statm >> pages >> resident;
  return double(resident) * double(sysconf(_SC_PAGESIZE)) / (1024.0 * 1024.0);
}

}  // namespace vkattn::testing
