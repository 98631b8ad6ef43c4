// Fuzz target: a .npy file through parse_npy. A file it accepts gives a tensor whose
// values fill its shape exactly, in the dtype the file's element maps to.
#include "fuzz_target.hpp"
#include "vkattn/tensor_files.hpp"

namespace vkattn::fuzz {

bool feed(std::span<const char> bytes) {
  Tensor tensor;
  try {
    tensor = parse_npy(bytes, "fuzz.npy");
  } catch (const TensorFileError&) {
    return false;
  }
  require(std::int64_t(tensor.values.size()) == tensor.shape.elements(), "the values fill the shape exactly");
  require(tensor.shape.rank >= 0 && tensor.shape.rank <= max_rank, "the rank is within max_rank");
  return true;
}

}  // namespace vkattn::fuzz
