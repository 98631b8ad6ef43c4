// Fuzz target: a safetensors file through parse_safetensors, then bound as a PyTorch
// state dict to a decoder layer (packed in_proj tensors, cross-attention, feed-forward)
// and to grouped-query attention. A binding that succeeds gives every weight of the
// graph with the weight's shape.
#include "fuzz_target.hpp"
#include "vkattn/presets.hpp"
#include "vkattn/state_dict.hpp"
#include "vkattn/tensor_files.hpp"

namespace vkattn::fuzz {

namespace {

const std::vector<Graph>& graphs() {
  static const std::vector<Graph> built = [] {
    std::vector<Graph> g;
    g.push_back(build_preset({.name = "decoder_layer", .seq = 3, .kv_seq = 5, .model = 8, .heads = 2, .ffn_hidden = 12}));
    g.push_back(build_preset({.name = "gqa", .seq = 3, .model = 8, .heads = 4, .kv_heads = 2}));
    return g;
  }();
  return built;
}

}  // namespace

bool feed(std::span<const char> bytes) {
  TensorMap state;
  try {
    state = parse_safetensors(bytes, "fuzz.safetensors");
  } catch (const TensorFileError&) {
    return false;
  }
  for (const auto& [name, tensor] : state)
    require(std::int64_t(tensor.values.size()) == tensor.shape.elements(), "tensor '" + name + "' fills its shape");
  for (const Graph& graph : graphs()) {
    StateDictBinding binding;
    try {
      binding = bind_state_dict(graph, state, "fuzz.safetensors");
    } catch (const BindingError&) {
      continue;
    }
    for (const Node& node : graph.nodes()) {
      if (node.op != Op::weight) continue;
      const auto bound = binding.weights.find(std::string(node.name.view()));
      require(bound != binding.weights.end(), "weight '" + std::string(node.name.view()) + "' is bound");
      require(bound->second.shape == node.shape, "weight '" + std::string(node.name.view()) + "' has its shape");
      require(bound->second.dtype != DType::i32, "weight '" + std::string(node.name.view()) + "' is not an integer");
      require(std::int64_t(bound->second.values.size()) == node.shape.elements(), "weight values fill the shape");
    }
  }
  return true;
}

}  // namespace vkattn::fuzz
