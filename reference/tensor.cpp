#include "vkattn/tensor.hpp"
#include "vkattn/tensor_files.hpp"

namespace vkattn {

Tensor Tensor::zeros(Shape shape, DType dtype) {
  Tensor t;
  t.shape = plain(shape);  // sizes only: a dynamic dimension's name stays with the graph
  t.dtype = dtype;
  t.values.assign(std::size_t(shape.elements()), 0.0);
  return t;
}

Tensor Tensor::random(Shape shape, std::uint64_t seed, double low, double high, DType dtype) {
  Tensor t = zeros(shape, dtype);
  // splitmix64: tiny, well distributed, and identical everywhere (unlike std distributions).
  std::uint64_t state = seed * 0x9E3779B97F4A7C15ull + 0x632BE59BD9B4E019ull;
  for (double& v : t.values) {
    state += 0x9E3779B97F4A7C15ull;
    std::uint64_t z = state;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    double unit = double(z >> 11) * (1.0 / 9007199254740992.0);  // [0, 1)
    v = low + (high - low) * unit;
    if (dtype == DType::f16) v = half_to_float(double_to_half(v));  // a value an f16 tensor can hold
  }
  return t;
}

const Tensor& find_binding(const TensorMap& bindings, std::string_view role, std::string_view name,
                           const Shape& declared) {
  std::string what = std::string(role) + " '" + std::string(name) + "'";
  auto found = bindings.find(name);
  if (found == bindings.end()) throw BindingError("no tensor was given for " + what + " " + to_string(declared));
  const Tensor& tensor = found->second;
  if (!same_sizes(tensor.shape, declared))
    throw BindingError(what + " is declared " + to_string(declared) + " but the tensor given has shape " +
                       to_string(tensor.shape));
  if (tensor.size() != declared.elements())
    throw BindingError(what + " has " + std::to_string(tensor.size()) + " values for shape " + to_string(declared));
  return tensor;
}

std::vector<std::int64_t> row_major_strides(const Shape& shape) {
  std::vector<std::int64_t> strides(std::size_t(shape.rank), 1);
  for (int i = shape.rank - 2; i >= 0; --i) strides[std::size_t(i)] = strides[std::size_t(i + 1)] * shape[i + 1];
  return strides;
}

std::string to_string(const Shape& shape) {
  FixedText<128> text;
  append_shape(text, shape);
  return std::string(text.view());
}

}  // namespace vkattn
