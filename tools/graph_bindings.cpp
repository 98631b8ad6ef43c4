#include "graph_bindings.hpp"

#include <algorithm>
#include <ostream>
#include <set>

#include <vkattn/reference.hpp>
#include <vkattn/state_dict.hpp>
#include <vkattn/tensor_files.hpp>

namespace vkattn::cli {

namespace {

std::string names_of(const Graph& graph, Op op) {
  std::string list;
  for (const Node& n : graph.nodes())
    if (n.op == op) {
      if (!list.empty()) list += ", ";
      list += n.name.view();
    }
  return list.empty() ? "none" : list;
}

// A tensor's shape against an input's: fixed dimensions equal, a dynamic one 1 to its bound.
bool fits(const Shape& tensor, const Shape& declared) {
  if (tensor.rank != declared.rank) return false;
  for (int i = 0; i < declared.rank; ++i) {
    const bool ok = declared.dynamic(i) ? tensor[i] >= 1 && tensor[i] <= declared.bounds[std::size_t(i)]
                                        : tensor[i] == declared[i];
    if (!ok) return false;
  }
  return true;
}

}  // namespace

TensorMap graph_weights(const Graph& graph, const Arguments& args, std::ostream& notes) {
  const auto seed = std::uint64_t(args.integer("--seed", 1, 0));
  TensorMap bindings = random_bindings(graph, seed);
  std::set<std::string> weights;
  for (const BoundTensor& weight : bound_tensors(graph)) weights.insert(weight.name);
  for (auto it = bindings.begin(); it != bindings.end();) it = weights.count(it->first) ? std::next(it) : bindings.erase(it);
  // A model folder brings its own checkpoint; --weights names another.
  const std::optional<std::string> folder = model_folder(args);
  if (args.has("--weights") || folder) {
    const std::string file = args.has("--weights") ? args.text("--weights", "") : *folder;
    TensorMap state = read_checkpoint(file);
    if (args.has("--weights-prefix")) {
      const std::string prefix = args.text("--weights-prefix", "");
      TensorMap prefixed;
      for (auto& [name, tensor] : state) prefixed[prefix + name] = std::move(tensor);
      state = std::move(prefixed);
    }
    StateDictBinding bound;
    try {
      bound = bind_state_dict(graph, state, file);
    } catch (const BindingError& e) {
      if (!folder) throw;
      throw BindingError(std::string(e.what()) + "; the model's shapes come from " + *folder +
                         "/config.json: it and the checkpoint must describe the same model");
    }
    for (auto& [name, tensor] : bound.weights) bindings[name] = std::move(tensor);
    for (const std::string& name : bound.unused) notes << "note: " << file << ": tensor '" << name << "' is not used\n";
  } else {
    if (args.has("--weights-prefix")) throw UsageError("--weights-prefix needs --weights");
    bool any = false;
    for (const Node& n : graph.nodes()) any = any || n.op == Op::weight;
    if (any) notes << "note: random weights (seed " << seed << "); --weights FILE.safetensors binds real ones\n";
  }
  return bindings;
}

TensorMap graph_bindings(const Graph& graph, const Arguments& args, std::ostream& notes) {
  const auto seed = std::uint64_t(args.integer("--seed", 1, 0));
  TensorMap bindings = random_bindings(graph, seed);
  for (auto& [name, tensor] : graph_weights(graph, args, notes)) bindings[name] = std::move(tensor);
  std::vector<std::string> named;  // before any file is read
  for (const std::string& text : args.all("--input")) {
    const std::string name = parse_assignment("--input", text).name;
    if (std::find(named.begin(), named.end(), name) != named.end())
      throw UsageError("--input " + name + " is given more than once; give each input one file");
    named.push_back(name);
  }
  std::vector<std::string> given;
  for (const std::string& text : args.all("--input")) {
    Assignment a = parse_assignment("--input", text);
    const Node* input = nullptr;
    for (const Node& n : graph.nodes())
      if (n.op == Op::input && n.name.view() == a.name) input = &n;
    if (!input)
      throw UsageError("--input " + a.name + ": the graph has no input '" + a.name + "' (its inputs: " +
                       names_of(graph, Op::input) + ")");
    Tensor tensor = read_npy(a.file);
    if (!fits(tensor.shape, input->shape))
      throw BindingError(a.file + ": holds shape " + to_string(tensor.shape) + " but input '" + a.name +
                         "' is declared " + to_string(input->shape) +
                         (input->shape.any_dynamic() ? " (a dynamic dimension takes 1 to its bound)" : ""));
    if ((tensor.dtype == DType::i32) != (input->dtype == DType::i32))
      throw BindingError(a.file + ": holds " + (tensor.dtype == DType::i32 ? "integers" : "floating-point values") +
                         " but input '" + a.name + "' is " + std::string(dtype_name(input->dtype)));
    tensor.dtype = input->dtype;
    bindings[a.name] = std::move(tensor);
    given.push_back(a.name);
  }
  for (const Node& n : graph.nodes())
    if (n.op == Op::input && std::find(given.begin(), given.end(), std::string(n.name.view())) == given.end())
      notes << "note: input '" << n.name.view() << "' " << to_string(n.shape) << " is random (seed " << seed << ")\n";
  return bindings;
}

}  // namespace vkattn::cli
