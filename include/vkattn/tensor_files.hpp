#pragma once
// Tensor files: NumPy .npy (one array) and safetensors (named tensors, as PyTorch's
// safetensors.torch.save_file writes them). Values are read into double-precision
// host tensors and written back in the requested element type.
#include <map>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>

#include "vkattn/tensor.hpp"

namespace vkattn {

// A file that cannot be read or written, or whose contents are malformed. The message
// names the file, the tensor where there is one, and what was wrong.
class TensorFileError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Element types of the files (npy: '<f2' '<f4' '<f8' '<i4' '<i8'; safetensors: F16,
// BF16 (read only), F32, F64, I32, I64).
enum class FileElement : std::uint8_t { f16, bf16, f32, f64, i32, i64 };
std::string_view file_element_name(FileElement type);

// Reads a little-endian, C-order .npy file (format 1.0, 2.0 or 3.0). Floating arrays
// become f32 tensors, or f16 for '<f2'; integer arrays become i32 tensors.
Tensor read_npy(const std::string& path);
// The same from bytes already in memory; `source` starts each error message.
Tensor parse_npy(std::span<const char> bytes, const std::string& source);
// Writes `tensor` as a .npy array of `element` (f16, f32 or f64).
void write_npy(const std::string& path, const Tensor& tensor, FileElement element = FileElement::f32);

// Reads every tensor of a safetensors file. The header is validated (JSON object,
// known dtype, shape of non-negative sizes, offsets inside the data and matching the
// shape, tensors not overlapping) before any value is read.
TensorMap read_safetensors(const std::string& path);
TensorMap parse_safetensors(std::span<const char> bytes, const std::string& source);
// A sharded checkpoint's index, as Hugging Face writes model.safetensors.index.json:
// {"metadata": {...}, "weight_map": {"tensor name": "model-00001-of-00002.safetensors", ...}}.
// Returns the shard file of each tensor. Shard names must be plain file names (no folder,
// so an index cannot reach outside its own folder). Throws TensorFileError naming
// `source` and the field.
std::map<std::string, std::string> parse_checkpoint_index(std::string_view text, const std::string& source);
// The tensors of a checkpoint as it ships: a .safetensors file; a
// *.safetensors.index.json whose shards are read from the index's folder (each tensor
// from the shard the index names); or a folder holding model.safetensors.index.json or
// model.safetensors. A missing shard, or a tensor its shard lacks, is an error naming
// the index, the shard and the tensor. F16, BF16 and F32 tensors are read as their
// values; binding converts them to the storage the graph asks for.
TensorMap read_checkpoint(const std::string& path);

// Writes tensors as safetensors: f16 tensors as F16, f32 as F32, i32 as I32, unless
// `element` overrides the floating ones.
void write_safetensors(const std::string& path, const TensorMap& tensors);
void write_safetensors(const std::string& path, const TensorMap& tensors, FileElement floating);

// IEEE half-precision conversion (round to nearest even; infinities and NaN kept).
float half_to_float(std::uint16_t bits);
std::uint16_t float_to_half(float value);
std::uint16_t double_to_half(double value);  // in one rounding, not through f32
inline constexpr double f16_max = 65504.0;   // the largest finite half

}  // namespace vkattn
