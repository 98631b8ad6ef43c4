#include "vkattn/state_dict.hpp"

#include <algorithm>
#include <array>
#include <initializer_list>
#include <map>
#include <set>

namespace vkattn {

namespace {

constexpr std::array<std::string_view, 3> projections{"q_proj", "k_proj", "v_proj"};

bool ends_with(std::string_view text, std::string_view tail) {
  return text.size() >= tail.size() && text.substr(text.size() - tail.size()) == tail;
}

const Node* find_weight(const Graph& graph, const std::string& name) {
  for (const BoundTensor& weight : bound_tensors(graph))
    if (weight.name == name) return weight.node;
  return nullptr;
}

// "<p>.q_proj.weight" -> {p with its dot, 0, "weight"}; false for other names.
bool split_projection_name(std::string_view name, std::string& prefix, int& which, std::string& kind) {
  for (std::string_view tail : {std::string_view("weight"), std::string_view("bias")})
    for (int i = 0; i < 3; ++i) {
      std::string suffix = std::string(projections[std::size_t(i)]) + "." + std::string(tail);
      if (name == suffix || ends_with(name, "." + suffix)) {
        prefix = std::string(name.substr(0, name.size() - suffix.size()));
        which = i;
        kind = tail;
        return true;
      }
    }
  return false;
}

Tensor rows_of(const Tensor& packed, std::int64_t first, const Shape& shape) {
  Tensor t = Tensor::zeros(shape, packed.dtype);
  const std::int64_t row = packed.shape.rank > 1 ? packed.shape.elements() / packed.shape[0] : 1;
  std::copy_n(packed.values.begin() + first * row, t.values.size(), t.values.begin());
  return t;
}

// When the file holds a wanted name without its leading dotted components (a module
// saved on its own: "in_proj_weight" for "self_attn.in_proj_weight"), says which
// prefix binds it.
std::string prefix_hint(const TensorMap& state, std::initializer_list<std::string> wanted) {
  for (const std::string& name : wanted)
    for (std::size_t dot = name.find('.'); dot != std::string::npos; dot = name.find('.', dot + 1))
      if (state.count(name.substr(dot + 1)))
        return "; the file has '" + name.substr(dot + 1) + "', as a module saved on its own names it: give its names "
               "the prefix '" + name.substr(0, dot + 1) + "' (vkattn run --weights-prefix " + name.substr(0, dot + 1) + ")";
  return "";
}

// What to say of a weight the file lacks: the prefix it may have been saved without,
// else the file's name closest to it among those no weight of the graph has.
std::string missing_hint(const Graph& graph, const TensorMap& state, std::initializer_list<std::string> wanted) {
  if (std::string hint = prefix_hint(state, wanted); !hint.empty()) return hint;
  std::vector<std::string> names;
  for (const auto& [name, tensor] : state)
    if (!find_weight(graph, name)) names.push_back(name);
  return did_you_mean(*wanted.begin(), names);
}

constexpr std::string_view layer_stem = "model.layers.";

// "model.layers.7.mlp.up_proj.weight" -> "model.layers.7."; empty for other names.
std::string layer_prefix(std::string_view name) {
  if (name.substr(0, layer_stem.size()) != layer_stem) return "";
  std::size_t end = layer_stem.size();
  while (end < name.size() && name[end] >= '0' && name[end] <= '9') ++end;
  if (end == layer_stem.size() || end >= name.size() || name[end] != '.') return "";
  return std::string(name.substr(0, end + 1));
}

// The tensors of a shard holding one decoder layer of a Hugging Face model
// ("model.layers.N.*") renamed for a graph of one layer: to the graph's own layer
// prefix, or with the prefix dropped when the graph's weights have none. Any other
// state gives false. `renamed` maps each new name to the file's.
bool rename_layer_shard(const Graph& graph, const TensorMap& state, TensorMap& out,
                        std::map<std::string, std::string>& renamed) {
  std::set<std::string> file_layers, graph_layers;
  for (const auto& [name, tensor] : state) file_layers.insert(layer_prefix(name));
  bool any_weight = false;
  for (const BoundTensor& weight : bound_tensors(graph)) {
    graph_layers.insert(layer_prefix(weight.name));
    any_weight = true;
  }
  if (!any_weight || file_layers.size() != 1 || file_layers.begin()->empty() || graph_layers.size() != 1 ||
      *file_layers.begin() == *graph_layers.begin())
    return false;
  const std::string from = *file_layers.begin(), to = *graph_layers.begin();
  for (const auto& [name, tensor] : state) {
    const std::string new_name = to + name.substr(from.size());
    renamed[new_name] = name;
    out[new_name] = tensor;
  }
  return true;
}

}  // namespace

StateDictBinding bind_state_dict(const Graph& graph, const TensorMap& file_state, const std::string& source) {
  // A shard of one layer of a Hugging Face model binds to a one-layer graph whatever
  // the layer's number.
  std::map<std::string, std::string> renamed;
  TensorMap renamed_state;
  const TensorMap& state = rename_layer_shard(graph, file_state, renamed_state, renamed) ? renamed_state : file_state;
  auto file_name = [&](const std::string& name) {
    auto it = renamed.find(name);
    return it == renamed.end() ? name : it->second;
  };
  StateDictBinding result;
  std::set<std::string> used;
  auto shape_error = [&](const std::string& weight, const std::string& tensor, const Shape& expected,
                         const Shape& found, const std::string& why) {
    std::string m = source;
    m += ": tensor '";
    m += tensor;
    m += "' has shape ";
    m += to_string(found);
    m += " but weight '";
    m += weight;
    m += "' needs ";
    m += to_string(expected);
    m += why;
    throw BindingError(m);
  };
  // Weights are floating point: an integer tensor bound to one, by any path, is refused.
  auto require_float = [&](const std::string& weight, const std::string& tensor, const Tensor& t) {
    if (t.dtype == DType::i32)
      throw BindingError(source + ": tensor '" + tensor + "' holds integers but the weight '" + weight +
                         "' is floating point");
  };
  for (const BoundTensor& weight : bound_tensors(graph)) {
    const Node& node = *weight.node;
    const std::string& name = weight.name;
    if (auto exact = state.find(name); exact != state.end()) {
      if (!(exact->second.shape == node.shape)) shape_error(name, name, node.shape, exact->second.shape, "");
      require_float(name, name, exact->second);
      result.weights[name] = exact->second;
      used.insert(name);
      result.descriptions.push_back(name + " <- " + file_name(name));
      continue;
    }
    std::string prefix, kind;
    int which = 0;
    if (split_projection_name(name, prefix, which, kind)) {
      // PyTorch's unpacked projection weights: "<p>.q_proj_weight".
      const std::string unpacked = prefix + std::string(projections[std::size_t(which)]) + "_" + kind;
      if (auto it = state.find(unpacked); kind == "weight" && it != state.end()) {
        if (!(it->second.shape == node.shape)) shape_error(name, unpacked, node.shape, it->second.shape, "");
        require_float(name, unpacked, it->second);
        result.weights[name] = it->second;
        used.insert(unpacked);
        result.descriptions.push_back(name + " <- " + unpacked);
        continue;
      }
      // The packed form: rows of "<p>.in_proj_weight" in q, k, v order.
      const std::string packed_name = prefix + "in_proj_" + kind;
      if (auto it = state.find(packed_name); it != state.end()) {
        std::int64_t first = 0, total = 0;
        std::string layout;
        for (int i = 0; i < 3; ++i) {
          const std::string part = prefix + std::string(projections[std::size_t(i)]) + "." + kind;
          const Node* w = find_weight(graph, part);
          if (!w)
            throw BindingError(source + ": tensor '" + packed_name + "' packs q, k and v but the graph has no weight '" +
                               part + "'");
          if (i < which) first += w->shape[0];
          total += w->shape[0];
          if (i > 0) layout += ", ";
          layout += part;
          layout += " ";
          layout += to_string(w->shape);
        }
        Shape expected = node.shape;
        expected[0] = total;
        const Tensor& packed = it->second;
        if (!(packed.shape == expected))
          shape_error(name, packed_name, expected, packed.shape, " (packed rows of " + layout + ")");
        require_float(name, packed_name, packed);
        result.weights[name] = rows_of(packed, first, node.shape);
        used.insert(packed_name);
        result.descriptions.push_back(name + " <- " + packed_name + "[" + std::to_string(first) + ":" +
                                      std::to_string(first + node.shape[0]) + "]");
        continue;
      }
      throw BindingError(source + " has no tensor for weight '" + name + "' " + to_string(node.shape) + " (nor '" +
                         packed_name + "')" + missing_hint(graph, state, {name, packed_name}));
    }
    throw BindingError(source + " has no tensor for weight '" + name + "' " + to_string(node.shape) +
                       missing_hint(graph, state, {name}));
  }
  for (const auto& [name, tensor] : state)
    if (!used.count(name)) result.unused.push_back(file_name(name));
  return result;
}

}  // namespace vkattn
