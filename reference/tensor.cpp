#include "vkattn/tensor.hpp"

#include <algorithm>

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

std::string did_you_mean(std::string_view name, const std::vector<std::string>& candidates) {
  std::size_t best = std::string::npos;
  std::string closest;
  std::vector<std::size_t> row, previous;
  for (const std::string& c : candidates) {
    // Levenshtein distance, one row at a time.
    previous.resize(c.size() + 1);
    for (std::size_t j = 0; j <= c.size(); ++j) previous[j] = j;
    for (std::size_t i = 1; i <= name.size(); ++i) {
      row.assign(c.size() + 1, 0);
      row[0] = i;
      for (std::size_t j = 1; j <= c.size(); ++j)
        row[j] = std::min({previous[j] + 1, row[j - 1] + 1, previous[j - 1] + (name[i - 1] == c[j - 1] ? 0u : 1u)});
      previous.swap(row);
    }
    if (previous[c.size()] < best) {
      best = previous[c.size()];
      closest = c;
    }
  }
  if (closest.empty() || best == 0 || best * 3 > std::max<std::size_t>(name.size(), 3)) return "";
  return "; did you mean '" + closest + "'?";
}

const Tensor& find_binding(const TensorMap& bindings, std::string_view role, std::string_view name,
                           const Shape& declared, std::optional<DType> dtype) {
  std::string what = std::string(role) + " '" + std::string(name) + "'";
  auto found = bindings.find(name);
  if (found == bindings.end()) {
    std::vector<std::string> names;
    for (const auto& [given, tensor] : bindings) names.push_back(given);
    throw BindingError("no tensor was given for " + what + " " + to_string(declared) + did_you_mean(name, names));
  }
  const Tensor& tensor = found->second;
  if (!same_sizes(tensor.shape, declared))
    throw BindingError(what + " is declared " + to_string(declared) + " but the tensor given has shape " +
                       to_string(tensor.shape));
  if (tensor.size() != declared.elements())
    throw BindingError(what + " has " + std::to_string(tensor.size()) + " values for shape " + to_string(declared));
  if (dtype && (*dtype == DType::i32) != (tensor.dtype == DType::i32))
    throw BindingError(what + " is " + std::string(dtype_name(*dtype)) + " but the tensor given is " +
                       std::string(dtype_name(tensor.dtype)) + " (set Tensor::dtype to match)");
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
