#pragma once
// Tests' own packing of graph-named tensors into a PyTorch-style state dict: the
// "P.q_proj.*", "P.k_proj.*", "P.v_proj.*" tensors of one attention become
// "P.in_proj_weight" / "P.in_proj_bias", rows in q, k, v order. Written independently
// of vkattn::bind_state_dict, which undoes it, so a test of one checks the other.
#include <string>

#include <vkattn/tensor.hpp>

namespace vkattn::testing {

// `tensors` with the projections of attention `prefix` ("self_attn") packed; every
// other tensor is kept as it is.
inline TensorMap pack_in_proj(const TensorMap& tensors, const std::string& prefix) {
  TensorMap packed_map;
  for (const auto& [name, tensor] : tensors) {
    bool projection = false;
    for (const char* part : {"q_proj.", "k_proj.", "v_proj."})
      projection = projection || name.rfind(prefix + "." + part, 0) == 0;
    if (!projection) packed_map[name] = tensor;
  }
  for (const char* kind : {"weight", "bias"}) {
    Tensor packed = tensors.at(prefix + ".q_proj." + kind);
    for (const char* part : {"k_proj", "v_proj"}) {
      const Tensor& t = tensors.at(prefix + "." + part + "." + kind);
      packed.values.insert(packed.values.end(), t.values.begin(), t.values.end());
      packed.shape[0] += t.shape[0];
    }
    packed_map[prefix + ".in_proj_" + kind] = packed;
  }
  return packed_map;
}

}  // namespace vkattn::testing
