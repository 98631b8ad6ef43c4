#pragma once
// The CPU reference: evaluates any graph op by op in double precision. It is the
// oracle every device result is compared with, so it favours plain loops over speed.
#include <stdexcept>
#include <string>
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

// The sizes `bindings` give the graph's dynamic dimensions (through the inputs that have
// them; the others stay at their bounds): with_sizes(graph, sizes_of_inputs(graph, b))
// is the graph a run on `b` computes.
DimSizes sizes_of_inputs(const Graph& graph, const TensorMap& bindings);

struct OutputCheck {
  std::string name;
  double error = 0;            // normalised_error against the reference (NaN: a non-finite mismatch)
  bool ok = false;             // error <= tolerance
};

struct OutputsCheck {
  std::vector<OutputCheck> outputs;  // one per graph output, in name order
  double tolerance = 0;
  bool ok() const;
  double worst() const;        // the largest error (NaN if any is)
  std::string summary() const; // "y: 2.1e-07 ok; probs: 3.0e-08 ok"
};

// One line to check a run: computes the reference on `bindings` (at the sizes they give
// a graph with dynamic dimensions) and compares each output of `outputs`, as
// Executable::run returns them, with it. An output missing from `outputs` is a
// BindingError. 1e-4 suits f32; a graph held in f16 on the device wants about 5e-3.
OutputsCheck check_outputs(const Graph& graph, const TensorMap& bindings, const TensorMap& outputs,
                           double tolerance = 1e-4);

// Random bindings for every input and weight of a graph, from a seed. i32 inputs
// (padding lengths) get values in [1, the key length they mask]. LayerNorm gammas and
// RMSNorm weights are drawn near 1 so normalised values keep a useful scale. Throws
// HostMemoryError, naming the tensor, when the values (8 bytes each) would not fit in
// host memory.
TensorMap random_bindings(const Graph& graph, std::uint64_t seed);

}  // namespace vkattn
