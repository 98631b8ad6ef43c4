// Decoding: one Executable over a graph with KV caches, run at each step's size, with
// the positions input kept by the host.
#include "vkattn/decoder.hpp"

#include <algorithm>

namespace vkattn {

namespace {

const Node& positions_input(const Graph& graph, const std::string& name) {
  for (const Node& node : graph.nodes())
    if (node.op == Op::input && node.name.view() == name) {
      if (node.dtype != DType::i32 || node.shape.rank != 1 || node.shape.dynamic(0))
        throw GraphError("vkattn: the positions input '" + name + "' of graph '" + std::string(graph.name()) +
                         "' must be i32 [batch], but it is " + std::string(dtype_name(node.dtype)) + " " +
                         to_string(node.shape));
      return node;
    }
  throw GraphError("vkattn: graph '" + std::string(graph.name()) + "' has no input '" + name +
                   "' of cache positions (DecodeOptions::positions names it)");
}

// The positions a sequence can reach: the smallest cache's capacity; a rolling cache
// reuses its rows, so only exact rotary angles in f32 (2^24 positions) bound it.
std::int64_t cache_capacity(const Graph& graph) {
  std::int64_t capacity = 0;
  for (const Node& node : graph.nodes())
    if (node.op == Op::cache_write) {
      const std::int64_t reach = node.attributes.rolling ? std::int64_t(1) << 24 : node.shape[2];
      capacity = capacity == 0 ? reach : std::min(capacity, reach);
    }
  if (capacity == 0)
    throw GraphError("vkattn: graph '" + std::string(graph.name()) +
                     "' writes no KV cache (cache_write, or AttentionOptions::cache), so it cannot decode");
  return capacity;
}

ExecutableOptions executable_options(const Graph& graph, const DecodeOptions& o) {
  ExecutableOptions e{.profile = o.profile};
  const DimSizes dims = dynamic_dims(graph);
  if (o.step_tokens < 1) throw GraphError("vkattn: DecodeOptions::step_tokens must be at least 1");
  if (!dims.empty()) {
    DimSizes steps;
    for (const DimSize& d : dims) steps.push_back({d.name, std::min(o.step_tokens, d.size)});
    e.tune_profiles.push_back(steps);
  }
  return e;
}

}  // namespace

Decoder::Decoder(Context& context, const Graph& graph, const TensorMap& weights, const DecodeOptions& options)
    : graph_(graph),
      options_(options),
      executable_(context, graph, options.compile, weights, executable_options(graph, options)),
      lengths_(std::size_t(positions_input(graph, options.positions).shape[0]), 0),
      capacity_(cache_capacity(graph)) {}

std::int64_t Decoder::tokens_in(const TensorMap& inputs) const {
  // The size of the first dynamic dimension an input has; with none, the rows each
  // cache write appends.
  for (const Node& node : graph_.nodes()) {
    if (node.op != Op::input) continue;
    for (int axis = 0; axis < node.shape.rank; ++axis) {
      if (!node.shape.dynamic(axis)) continue;
      auto found = inputs.find(node.name.view());
      if (found == inputs.end())
        throw BindingError("no tensor was given for input '" + std::string(node.name.view()) + "' " +
                           to_string(node.shape));
      if (found->second.shape.rank != node.shape.rank)
        throw BindingError("input '" + std::string(node.name.view()) + "' is declared " + to_string(node.shape) +
                           " but the tensor given has shape " + to_string(found->second.shape));
      return found->second.shape[axis];
    }
  }
  for (const Node& node : graph_.nodes())
    if (node.op == Op::cache_write) return graph_.node(node.inputs[1]).shape[2];
  return 0;
}

TensorMap Decoder::step(const TensorMap& inputs) {
  const std::int64_t tokens = tokens_in(inputs);
  for (std::size_t b = 0; b < lengths_.size(); ++b)
    if (lengths_[b] + tokens > capacity_)
      throw BindingError("sequence " + std::to_string(b) + " holds " + std::to_string(lengths_[b]) + " tokens; " +
                         std::to_string(tokens) + " more exceed its cache of " + std::to_string(capacity_) +
                         " positions (nothing was run: reset it, or compile with a larger cache)");
  if (inputs.count(options_.positions))
    throw BindingError("input '" + options_.positions + "' is the decoder's to fill: leave it out (set_length moves a "
                       "sequence)");
  TensorMap with_positions = inputs;
  Tensor positions;
  positions.shape = Shape{std::int64_t(lengths_.size())};
  positions.dtype = DType::i32;
  for (std::int64_t length : lengths_) positions.values.push_back(double(length));
  with_positions[options_.positions] = std::move(positions);
  TensorMap outputs = executable_.run(with_positions);
  for (std::int64_t& length : lengths_) length += tokens;
  return outputs;
}

TensorMap Decoder::prefill(const TensorMap& inputs) {
  reset();
  return step(inputs);
}

void Decoder::reset() {
  executable_.reset_state();
  std::fill(lengths_.begin(), lengths_.end(), 0);
}

void Decoder::set_length(std::int64_t sequence, std::int64_t length) {
  if (sequence < 0 || sequence >= batch())
    throw BindingError("sequence " + std::to_string(sequence) + " does not exist: the batch has " +
                       std::to_string(batch()));
  if (length < 0 || length > capacity_)
    throw BindingError("a sequence holds 0 to " + std::to_string(capacity_) + " tokens, not " + std::to_string(length));
  lengths_[std::size_t(sequence)] = length;
}

}  // namespace vkattn
