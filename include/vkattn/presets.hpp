#pragma once
// Built-in graphs, sized from options: what `vkattn compile|run|bench GRAPH` builds
// when GRAPH names one of them.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "vkattn/layers.hpp"

namespace vkattn {

struct PresetOptions {
  std::string name = "mha";  // mha, cross_attention, gqa, encoder_layer, decoder_layer, llama_block
  std::int64_t batch = 1;
  std::int64_t seq = 128;
  std::int64_t kv_seq = 0;    // keys of cross-attention (memory length); 0: seq
  std::int64_t model = 512;
  std::int64_t heads = 8;
  std::int64_t kv_heads = 0;  // gqa; 0: heads / 4 (at least 1); llama_block: 0 is heads
  std::int64_t ffn_hidden = 0;  // 0: 4 * model
  double rope_theta = 10000.0;  // llama_block only
  double rms_eps = 1e-6;        // llama_block only: RMSNorm's epsilon (rms_norm_eps)
  // none, causal or padding (an i32 input "lengths" [batch]). decoder_layer: causal and
  // padding make its self-attention causal, and padding masks the memory by "lengths".
  // llama_block is causal whatever the mask; padding adds "lengths" too.
  Mask mask = Mask::none;
  // decoder_layer: its self-attention's mask (none or causal) whatever `mask` says, so
  // that a padded memory (mask padding) can go with full self-attention. Unset: causal
  // with mask causal or padding, none with mask none.
  std::optional<Mask> self_mask{};
  bool f16 = false;
  // encoder_layer, decoder_layer and llama_block (its layers are named model.layers.N.*):
  bool norm_first = false;                // pre-norm (PyTorch's norm_first=True)
  Activation activation = Activation::relu;
  std::int64_t layers = 1;                // > 1: a stack named as nn.TransformerEncoder / Decoder names it, layers.N.*
  // With layers > 1: false, one layer body repeated (compiled once, weights bound per
  // layer); true, each layer written out and compiled on its own (the same computation).
  bool unrolled = false;
  // Decoding (mha, gqa, decoder_layer, llama_block): > 0 gives the self-attention a KV cache of this
  // many positions per sequence; x becomes [batch, dyn("seq", cache), model] and the
  // i32 input "positions" [batch] says where each sequence's new tokens start. The
  // attention is causal in the cache.
  std::int64_t cache = 0;
  // With a cache: the most tokens one run appends, the bound of x's `seq` (memory is
  // planned for it); 0: the cache (a rolling cache: cache - window + 1).
  std::int64_t run_tokens = 0;
  // llama_block: a sliding window of this many keys (Mistral); with a cache, the cache
  // rolls: it holds `cache` rows, reused modulo, and a run appends at most
  // cache - window + 1 tokens to sequences of any length.
  std::int64_t window = 0;
  // With a cache: > 0 pages it (KvCache::page_size): one pool of `pages` pages of this
  // many positions shared by the batch through the i32 input "block_table" [batch,
  // cache / page_size]; `pages` 0 gives every sequence its full capacity.
  std::int64_t page_size = 0;
  std::int64_t pages = 0;
  // With a paged cache: a ragged batch. The `batch` sequences' new tokens are packed
  // into one token axis, x [dyn("tokens", N), 1, model] with N the run's bound
  // (run_tokens, else the cache), each row one token: "positions" [tokens] holds its
  // position in its sequence and "block_table" [tokens, cache / page_size] its
  // sequence's table row. A run then carries any mix of prefills and decode steps.
  bool ragged = false;
};

const std::vector<std::string_view>& preset_names();

// A whole model's graph (llama_model): i32 token ids "ids" [batch, dyn("seq", seq)] in,
// "logits" [batch, seq, vocab] out (or [batch, 1, vocab] with last_position_only).
// With a cache (> 0 positions per sequence), ids are up to `cache` new tokens placed by
// the i32 input "positions" [batch], as the presets' --cache.
struct ModelGraphOptions {
  std::int64_t batch = 1;
  std::int64_t seq = 128;   // tokens per run at most (without a cache)
  std::int64_t cache = 0;   // KV cache positions per sequence; 0: none
  bool last_position_only = false;
  bool f16 = false;         // f16 weights and activations
  bool unrolled = false;    // each layer written out (LlamaModelOptions::unrolled)
};
Graph build_llama_model(const LlamaModelOptions& model, const ModelGraphOptions& options);

// Throws std::invalid_argument naming the problem (an unknown preset, say) and
// GraphError for sizes the graph rejects.
Graph build_preset(const PresetOptions& options);

}  // namespace vkattn
