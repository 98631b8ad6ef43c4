#pragma once
// The CPU reference: evaluates any graph op by op in double precision. It is the
// oracle every device result is compared with, so it favours plain loops over speed.
#include <stdexcept>
#include <vector>

#include "vkattn/graph.hpp"
#include "vkattn/host_memory.hpp"
#include "vkattn/tensor.hpp"

namespace vkattn {

class ReferenceError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct ReferenceResult {
  std::vector<Tensor> values;  // one per graph node, in node order (outputs included)
  TensorMap outputs;           // by output name
};

// `bindings` supplies every input and weight by name, with the declared shape.
// Throws BindingError naming a missing or mis-shaped tensor, and HostMemoryError when
// the graph's values (all kept, 8 bytes each) would not fit in host memory.
ReferenceResult run_reference(const Graph& graph, const TensorMap& bindings);

// ||device - reference|| / ||reference|| over the elements where the reference is
// finite; NaN when the device has a non-finite value where the reference has none, or
// a different infinity (an unwritten or overflowed element), or the shapes differ.
double normalised_error(const Tensor& device, const Tensor& reference);

// Random bindings for every input and weight of a graph, from a seed. i32 inputs
// (padding lengths) get values in [1, the key length they mask]. LayerNorm gammas and
// RMSNorm weights are drawn near 1 so normalised values keep a useful scale. Throws
// HostMemoryError, naming the tensor, when the values (8 bytes each) would not fit in
// host memory.
TensorMap random_bindings(const Graph& graph, std::uint64_t seed);

}  // namespace vkattn
