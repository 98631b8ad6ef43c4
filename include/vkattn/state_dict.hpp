#pragma once
// Binding a graph's weights from a PyTorch state dict (as saved to safetensors).
//
// A graph weight binds to the tensor of the same name. The attention helpers declare
// one weight per projection ("<p>.q_proj.weight", "<p>.k_proj.weight",
// "<p>.v_proj.weight" and their biases) where PyTorch's nn.MultiheadAttention keeps
// them packed; those bind to row ranges of the packed tensors:
//   <p>.q_proj.weight, <p>.k_proj.weight, <p>.v_proj.weight  <-  <p>.in_proj_weight
//       rows [0, q), [q, q + k), [q + k, q + k + v), in that order
//   <p>.q_proj.bias, ...                                     <-  <p>.in_proj_bias
//   <p>.q_proj.weight                                        <-  <p>.q_proj_weight
//       (PyTorch's unpacked form, used when kdim or vdim differ from embed_dim)
// so the state dict of nn.MultiheadAttention (prefix ""), nn.TransformerEncoderLayer
// and nn.TransformerDecoderLayer binds unchanged. A file holding one decoder layer of a
// Hugging Face model ("model.layers.N.*", one N) binds to a graph of one layer whatever
// its number: to the graph's "model.layers.M.*" weights (llama_block's preset), or to
// weights with no layer prefix. docs/weights.md lists every name.
#include <string>
#include <vector>

#include "vkattn/graph.hpp"
#include "vkattn/tensor.hpp"

namespace vkattn {

struct StateDictBinding {
  TensorMap weights;                      // every weight of the graph, by its graph name
  std::vector<std::string> unused;        // tensors of the state dict that bound nothing
  std::vector<std::string> descriptions;  // "graph name <- file name[rows]" for each weight
};

// Binds every weight of `graph` from `state`. `source` (the file) starts each error
// message. Throws BindingError naming the weight and the tensor when one is missing or
// its shape does not match.
StateDictBinding bind_state_dict(const Graph& graph, const TensorMap& state, const std::string& source);

}  // namespace vkattn
