#pragma once
// Autoregressive decoding over a graph with KV caches (KvCache in layers.hpp, or
// Graph::state + cache_write by hand): prefill a prompt, then step a few tokens at a
// time. The caches stay on the device between runs; the decoder keeps each sequence's
// length and feeds it to the graph's positions input.
//
//   vkattn::Decoder decoder(context, graph, weights);
//   auto first = decoder.prefill({{"x", prompt}});       // x [batch, prompt length, model]
//   auto next = decoder.step({{"x", one_token}});         // x [batch, 1, model]
#include <cstdint>
#include <string>
#include <vector>

#include "vkattn/runtime.hpp"

namespace vkattn {

struct DecodeOptions {
  CompileOptions compile{};  // without a target: the context's own (Context::target())
  // The graph's i32 [batch] input of cache positions (KvCache::positions).
  std::string positions = "positions";
  // Steps of up to this many tokens run the kernels chosen for that many (split over
  // keys, say); longer runs (prefills) those chosen for the graph's bounds.
  std::int64_t step_tokens = 1;
  bool profile = true;  // timestamps around each dispatch
};

class Decoder {
 public:
  // Compiles `graph` for the prefill and step sizes and uploads `weights`. Throws
  // GraphError when the graph has no cache writes or no positions input of that name.
  Decoder(Context& context, const Graph& graph, const TensorMap& weights, const DecodeOptions& options = {});

  // Empties every sequence, then appends the prompt: step().
  TensorMap prefill(const TensorMap& inputs);
  // Appends the tokens of `inputs` (the same number to every sequence; the positions
  // input is filled in) and returns the graph's outputs for them. A sequence that would
  // outgrow its cache is refused before anything runs.
  TensorMap step(const TensorMap& inputs);
  // Every sequence empty again, every cache zeroed.
  void reset();
  // Sets how many tokens sequence `sequence` holds (0 starts it over; fewer than now
  // forgets its last tokens): 0 to capacity().
  void set_length(std::int64_t sequence, std::int64_t length);

  const std::vector<std::int64_t>& lengths() const { return lengths_; }
  // The tokens a sequence can hold: the smallest KV cache's capacity, or 2^24 when every
  // cache is rolling (rolling_cache_write: it keeps a sliding window of any sequence).
  std::int64_t capacity() const { return capacity_; }
  std::int64_t batch() const { return std::int64_t(lengths_.size()); }
  Executable& executable() { return executable_; }

 private:
  std::int64_t tokens_in(const TensorMap& inputs) const;

  Graph graph_;
  DecodeOptions options_;
  Executable executable_;
  std::vector<std::int64_t> lengths_;
  std::int64_t capacity_ = 0;
};

}  // namespace vkattn
