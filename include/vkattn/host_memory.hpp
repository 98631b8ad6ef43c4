#pragma once
// Host memory, checked before a large allocation: random tensors for a graph, the CPU
// reference's values. A size too large for the machine is an error naming what needed
// it, the bytes and the limit, not std::bad_alloc or the out-of-memory killer.
#include <cstdint>
#include <stdexcept>
#include <string>

namespace vkattn {

class HostMemoryError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The bytes the system can give without swapping (MemAvailable of /proc/meminfo), or
// 0 where that is unknown (then nothing is refused).
std::uint64_t available_host_bytes();

// "12.0 GiB" and the like.
std::string byte_size_text(std::uint64_t bytes);

// Throws HostMemoryError when `bytes` exceed available_host_bytes(); `what` names the
// allocation ("random tensor 'x' [1, 65536, 4096]").
void check_host_bytes(const std::string& what, std::uint64_t bytes);

}  // namespace vkattn
