#include "vkattn/host_memory.hpp"

#include <cstdio>
#include <fstream>
#include <sstream>

namespace vkattn {

std::uint64_t available_host_bytes() {
  std::ifstream meminfo("/proc/meminfo");
  std::string line;
  while (std::getline(meminfo, line)) {
    std::istringstream fields(line);
    std::string key;
    std::uint64_t kib = 0;
    if (fields >> key >> kib && key == "MemAvailable:") return kib * 1024;
  }
  return 0;
}

std::string byte_size_text(std::uint64_t bytes) {
  const char* units[] = {"bytes", "KiB", "MiB", "GiB", "TiB"};
  double size = double(bytes);
  int unit = 0;
  while (size >= 1024.0 && unit < 4) {
    size /= 1024.0;
    ++unit;
  }
  char text[32];
  std::snprintf(text, sizeof text, unit == 0 ? "%.0f %s" : "%.1f %s", size, units[unit]);
  return text;
}

void check_host_bytes(const std::string& what, std::uint64_t bytes) {
  const std::uint64_t available = available_host_bytes();
  if (available > 0 && bytes > available)
    throw HostMemoryError(what + " needs " + byte_size_text(bytes) + " of host memory, more than the " +
                          byte_size_text(available) + " available (MemAvailable in /proc/meminfo)");
}

}  // namespace vkattn
