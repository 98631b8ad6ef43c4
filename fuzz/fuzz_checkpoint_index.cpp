// Fuzz target: a sharded checkpoint's index (model.safetensors.index.json) through
// parse_checkpoint_index. An index it accepts names at least one tensor, and every
// shard is a plain file name (nothing outside the index's folder).
#include "fuzz_target.hpp"
#include "vkattn/tensor_files.hpp"

namespace vkattn::fuzz {

bool feed(std::span<const char> bytes) {
  std::map<std::string, std::string> shard_of;
  try {
    shard_of = parse_checkpoint_index(std::string_view(bytes.data(), bytes.size()), "fuzz.index.json");
  } catch (const TensorFileError&) {
    return false;
  }
  require(!shard_of.empty(), "an accepted index names a tensor");
  for (const auto& [tensor, shard] : shard_of) {
    require(!tensor.empty() && !shard.empty(), "names are not empty");
    require(shard.find('/') == std::string::npos && shard.find('\\') == std::string::npos && shard != "..",
            "a shard is a plain file name");
  }
  return true;
}

}  // namespace vkattn::fuzz
