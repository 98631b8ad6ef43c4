#pragma once
// Host tensors: row-major (C order) values held in double precision, with the dtype
// the graph declares. The CPU reference computes in double; devices convert on upload.
#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "vkattn/shape.hpp"

namespace vkattn {

struct Tensor {
  Shape shape;
  DType dtype = DType::f32;
  std::vector<double> values;

  static Tensor zeros(Shape shape, DType dtype = DType::f32);
  // Uniform values in [low, high) from a fixed generator: the same seed gives the same
  // tensor on every machine.
  static Tensor random(Shape shape, std::uint64_t seed, double low = -1.0, double high = 1.0,
                       DType dtype = DType::f32);
  std::int64_t size() const { return std::int64_t(values.size()); }
};

// Tensors by name: graph inputs and weights going in, outputs coming out.
using TensorMap = std::map<std::string, Tensor, std::less<>>;

// A tensor that a graph needs by name is missing or has the wrong shape.
class BindingError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

// The tensor bound to `name` (an input or weight, `role` saying which), checked against
// the declared shape. Throws BindingError naming the tensor and what was wrong.
// With `dtype`, an integer tensor for a float value (or the reverse) is refused too.
const Tensor& find_binding(const TensorMap& bindings, std::string_view role, std::string_view name,
                           const Shape& declared, std::optional<DType> dtype = std::nullopt);

// "; did you mean 'mlp.up.weight'?" for the name of `candidates` closest to `name` in
// edits (insertions, deletions, substitutions), when one is close enough to be a slip
// (at most a third of the name's length); empty otherwise.
std::string did_you_mean(std::string_view name, const std::vector<std::string>& candidates);

// Row-major strides of a shape, in elements.
std::vector<std::int64_t> row_major_strides(const Shape& shape);

// "[1, 2, 3]"
std::string to_string(const Shape& shape);

}  // namespace vkattn
