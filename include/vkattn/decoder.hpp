#pragma once
// Autoregressive decoding over a graph with KV caches (KvCache in layers.hpp, or
// Graph::state + cache_write by hand): prefill a prompt, then step a few tokens at a
// time. The caches stay on the device between runs; the decoder keeps each sequence's
// length and feeds it to the graph's positions input.
//
//   vkattn::Decoder decoder(context, graph, weights);
//   auto first = decoder.prefill({{"x", prompt}});       // x [batch, prompt length, model]
//   auto next = decoder.step({{"x", one_token}});         // x [batch, 1, model]
//
// With a paged KV cache (KvCache::page_size) the decoder also keeps the block table: it
// hands each sequence pages of the pool as it grows, returns them when a sequence is
// removed or shortened, and forks a sequence from another's prefix by sharing its
// pages (a shared page is copied only when a sequence appends to it). A removed
// sequence is idle: its rows of a step's inputs are ignored and it writes nothing.
//
// A ragged graph (PresetOptions::ragged: positions i32 [dyn tokens], a paged cache)
// packs the new tokens of every sequence into one token axis, sequence after sequence:
// a step gives each sequence its own count, so one run mixes a prompt's prefill with
// other sequences' single tokens, and a sequence joins or leaves between runs.
//
//   auto out = decoder.step({{"x", packed}}, {300, 1, 1, 0});  // x [302, 1, model]
//   TensorMap second = sequence_rows(out, {300, 1, 1, 0}, 1);  // sequence 1's rows
#include <cstdint>
#include <string>
#include <vector>

#include "vkattn/runtime.hpp"

namespace vkattn {

struct DecodeOptions {
  CompileOptions compile{};  // without a target: the context's own (Context::target())
  // The graph's i32 [batch] input of cache positions (KvCache::positions).
  std::string positions = "positions";
  // A paged cache's i32 [batch, pages per sequence] input (KvCache::block_table).
  std::string block_table = "block_table";
  // Steps of up to this many tokens run the kernels chosen for that many (split over
  // keys, say); longer runs (prefills) those chosen for the graph's bounds.
  std::int64_t step_tokens = 1;
  // A ragged graph's sequences; 0: as many as the pool holds at full capacity (its
  // pages / pages per sequence, at least 1).
  std::int64_t sequences = 0;
  bool profile = true;  // timestamps around each dispatch
};

class Decoder {
 public:
  // Compiles `graph` for the prefill and step sizes and uploads `weights`. Throws
  // GraphError when the graph has no cache writes or no positions input of that name.
  Decoder(Context& context, const Graph& graph, const TensorMap& weights, const DecodeOptions& options = {});

  // Empties every sequence, then appends the prompt: step().
  TensorMap prefill(const TensorMap& inputs);
  // Appends the tokens of `inputs` (the same number to every active sequence; the
  // positions input is filled in) and returns the graph's outputs for them. A sequence
  // that would outgrow its cache is refused before anything runs.
  TensorMap step(const TensorMap& inputs);
  // A ragged graph only: appends tokens[s] tokens to sequence s (0 for an idle one),
  // packed in the inputs' token axis in sequence order, and returns the outputs with
  // the same packing (sequence_rows picks one sequence's). Counts that do not add up to
  // the inputs' tokens are refused before anything runs.
  TensorMap step(const TensorMap& inputs, const std::vector<std::int64_t>& tokens);
  // Every sequence empty and active again (a paged cache's pages all free), every cache
  // zeroed.
  void reset();
  // Sets how many tokens sequence `sequence` holds (0 starts it over; fewer than now
  // forgets its last tokens, and returns the pages past them): 0 to capacity(). An idle
  // sequence becomes active.
  void set_length(std::int64_t sequence, std::int64_t length);

  // Paged caches only. Makes an idle sequence active at length 0 and returns it; throws
  // when every sequence is active.
  std::int64_t add();
  // Makes `sequence` idle and returns its pages to the pool.
  void remove(std::int64_t sequence);
  // Makes `sequence` (idle or active) a copy of the first `length` tokens of `from` (all
  // of them with -1): it shares their pages, with no copy until one of the two appends
  // to a shared page.
  void fork(std::int64_t from, std::int64_t sequence, std::int64_t length = -1);
  bool active(std::int64_t sequence) const;
  bool paged() const { return page_size_ > 0; }
  bool ragged() const { return ragged_; }
  // Pages of the pool, and those held by some sequence (a shared page counts once).
  std::int64_t pages() const { return std::int64_t(page_users_.size()); }
  std::int64_t pages_used() const;
  std::int64_t page_size() const { return page_size_; }

  const std::vector<std::int64_t>& lengths() const { return lengths_; }
  // The tokens a sequence can hold: the smallest KV cache's capacity, or 2^24 when every
  // cache is rolling (rolling_cache_write: it keeps a sliding window of any sequence).
  std::int64_t capacity() const { return capacity_; }
  std::int64_t batch() const { return std::int64_t(lengths_.size()); }
  Executable& executable() { return executable_; }

 private:
  std::int64_t tokens_in(const TensorMap& inputs) const;
  TensorMap run_step(const TensorMap& inputs, const std::vector<std::int64_t>& tokens);
  void check_sequence(std::int64_t sequence) const;
  void release_pages(std::int64_t sequence, std::int64_t keep);
  // Gives every active sequence the pages `tokens` more need, a private copy of a shared
  // page it appends to, and returns the block table; throws, changing nothing, when the
  // pool has too few free pages.
  Tensor claim_pages(const std::vector<std::int64_t>& tokens);
  // Table entries a sequence of `length` tokens holds, and those a step of `tokens` from
  // `length` writes (a rolling pool: its table row reused modulo its positions).
  std::int64_t entries_for(std::int64_t length) const;
  std::vector<std::int64_t> written_entries(std::int64_t length, std::int64_t tokens) const;

  Graph graph_;
  DecodeOptions options_;
  Executable executable_;
  std::vector<std::int64_t> lengths_;
  std::int64_t capacity_ = 0;
  bool ragged_ = false;
  bool rolling_ = false;  // a rolling paged pool
  // Paged: page size, each sequence's pages in order, the sequences holding each page,
  // which sequences are active, and the pool state tensors.
  std::int64_t page_size_ = 0, table_row_ = 0;
  std::vector<std::vector<std::int64_t>> sequence_pages_;
  std::vector<std::int64_t> page_users_;
  std::vector<bool> active_;
  std::vector<std::string> pools_;
};

// The rows of sequence `sequence` in the outputs of a ragged step that gave each
// sequence tokens[s] tokens: each output's first axis, from the sequences before it.
// Throws BindingError when an output's first axis is not the step's tokens.
TensorMap sequence_rows(const TensorMap& outputs, const std::vector<std::int64_t>& tokens, std::int64_t sequence);

}  // namespace vkattn
