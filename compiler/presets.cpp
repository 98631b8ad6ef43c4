// The built-in graphs behind `vkattn compile|run|bench GRAPH`.
#include "vkattn/presets.hpp"

#include <stdexcept>
#include <string>

namespace vkattn {

const std::vector<std::string_view>& preset_names() {
  static const std::vector<std::string_view> names{"mha",           "cross_attention", "gqa",
                                                   "encoder_layer", "decoder_layer",   "llama_block"};
  return names;
}

Graph build_preset(const PresetOptions& o) {
  bool known = false;
  for (std::string_view name : preset_names()) known = known || name == o.name;
  if (!known) {
    std::string list;
    for (std::string_view name : preset_names()) list += (list.empty() ? "" : ", ") + std::string(name);
    throw std::invalid_argument("unknown graph preset '" + o.name + "' (the presets are " + list + ")");
  }
  if (o.mask != Mask::none && o.mask != Mask::causal && o.mask != Mask::padding)
    throw std::invalid_argument("preset masks are none, causal or padding");
  const bool layer_preset = o.name == "encoder_layer" || o.name == "decoder_layer";
  const bool llama = o.name == "llama_block";
  if (!layer_preset && (o.norm_first || o.activation != Activation::relu))
    throw std::invalid_argument("the norm placement and activation apply to encoder_layer and decoder_layer, not '" +
                                o.name + "'");
  if (!layer_preset && !llama && (o.layers != 1 || o.ffn_hidden != 0))
    throw std::invalid_argument("the feed-forward width and layer count apply to encoder_layer, decoder_layer and "
                                "llama_block, not '" + o.name + "'");
  if (!llama && o.rope_theta != 10000.0)
    throw std::invalid_argument("the rotary base applies to llama_block, not '" + o.name + "'");
  if (!llama && o.window != 0)
    throw std::invalid_argument("the sliding window applies to llama_block, not '" + o.name + "'");
  if (o.window < 0) throw std::invalid_argument("the sliding window must be at least 1 key");
  if (o.window > 0 && o.cache > 0 && o.cache < o.window)
    throw std::invalid_argument("a rolling cache of " + std::to_string(o.cache) + " rows cannot hold a window of " +
                                std::to_string(o.window) + " keys; give a cache of at least the window");
  if (!llama && o.rms_eps != 1e-6)
    throw std::invalid_argument("the RMSNorm epsilon applies to llama_block, not '" + o.name + "'");
  if (!(o.rms_eps > 0 && o.rms_eps < 1)) throw std::invalid_argument("the RMSNorm epsilon must be above 0 and below 1");
  if (o.self_mask && o.name != "decoder_layer")
    throw std::invalid_argument("the self-attention mask applies to decoder_layer, not '" + o.name + "'");
  if (o.self_mask && *o.self_mask != Mask::none && *o.self_mask != Mask::causal)
    throw std::invalid_argument("decoder_layer's self-attention mask is none or causal");
  if (o.self_mask == Mask::none && o.cache > 0)
    throw std::invalid_argument("with a KV cache the self-attention is causal in the cache; it cannot be none");
  if (o.layers < 1 || o.layers > 512) throw std::invalid_argument("the layer count must be 1 to 512");
  const bool decoding = o.cache > 0;
  if (decoding && o.name != "mha" && o.name != "gqa" && o.name != "decoder_layer" && !llama)
    throw std::invalid_argument("a KV cache applies to mha, gqa, decoder_layer and llama_block (causal "
                                "self-attention), not '" + o.name + "'");
  if (decoding && o.mask == Mask::padding)
    throw std::invalid_argument("with a KV cache the attention is causal in the cache; the padding mask does not apply");
  if (o.cache < 0 || o.cache > (std::int64_t(1) << 24))
    throw std::invalid_argument("the cache capacity must be 0 (none) to 2^24 positions");
  const DType dtype = o.f16 ? DType::f16 : DType::f32;
  const std::int64_t kv_seq = o.kv_seq > 0 ? o.kv_seq : o.seq;
  Graph g{o.name};
  // `layers` applications of `layer(h, prefix)`: one body repeated, its weights and
  // caches named "<stem>.{i}.*", or with `unrolled` each layer written out, "<stem>.N.*".
  // A single layer has the stem only where Hugging Face gives it one (model.layers.0).
  auto stack = [&](Value x, const std::string& stem, auto&& layer) {
    if (o.layers == 1) return layer(x, stem == "model.layers" ? stem + ".0" : std::string());
    if (!o.unrolled)
      return repeat(x, o.layers, [&](Value h) { return layer(h, stem + ".{i}"); }).named(stem);
    Value h = x;
    for (std::int64_t i = 0; i < o.layers; ++i) h = layer(h, stem + "." + std::to_string(i));
    return h;
  };
  // Decoding: any number of new tokens up to the capacity, placed by "positions".
  // A rolling cache takes runs of up to cache - window + 1 tokens.
  const bool rolling = decoding && o.window > 0;
  const std::int64_t most_tokens = rolling ? o.cache - o.window + 1 : o.cache;
  if (o.run_tokens < 0 || o.run_tokens > most_tokens)
    throw std::invalid_argument("a run appends 1 to " + std::to_string(most_tokens) + " tokens to the cache, not " +
                                std::to_string(o.run_tokens));
  if (o.ragged && (o.page_size <= 0 || (o.name != "llama_block" && o.name != "mha" && o.name != "gqa")))
    throw std::invalid_argument("a ragged batch packs the tokens of sequences that page one KV cache: it needs a "
                                "paged cache (page size and cache) and mha, gqa or llama_block");
  // A ragged batch: one token per row, each with its own position and table row.
  const Extent tokens = dyn(o.ragged ? "tokens" : "seq", o.run_tokens > 0 ? o.run_tokens : most_tokens);
  const Value x = o.ragged    ? g.input("x", {tokens, 1, o.model}, dtype)
                  : decoding ? g.input("x", {o.batch, tokens, o.model}, dtype)
                             : g.input("x", {o.batch, o.seq, o.model}, dtype);
  Value lengths = o.mask == Mask::padding ? g.input("lengths", {o.batch}, DType::i32) : Value{};
  if (o.page_size < 0 || (o.page_size > 0 && (!decoding || o.cache % o.page_size != 0)))
    throw std::invalid_argument("a paged cache needs a cache whose capacity (" + std::to_string(o.cache) +
                                ") is a multiple of the page size (" + std::to_string(o.page_size) + ")");
  if (o.pages < 0) throw std::invalid_argument("the pages of a paged cache must be at least 1 (0: batch x capacity)");
  const bool paged = o.page_size > 0;
  const KvCache cache{.capacity = o.cache,
                      .positions = o.ragged   ? g.input("positions", {tokens}, DType::i32)
                                   : decoding ? g.input("positions", {o.batch}, DType::i32)
                                              : Value{},
                      .rolling = rolling,
                      .page_size = o.page_size,
                      .pages = !paged ? 0 : o.pages > 0 ? o.pages : o.batch * (o.cache / o.page_size),
                      .block_table = o.ragged ? g.input("block_table", {tokens, o.cache / o.page_size}, DType::i32)
                                     : paged    ? g.input("block_table", {o.batch, o.cache / o.page_size}, DType::i32)
                                                : Value{}};
  AttentionOptions attention{.heads = o.heads, .mask = decoding ? Mask::causal : o.mask, .lengths = lengths};
  attention.cache = cache;
  const std::int64_t ffn = o.ffn_hidden > 0 ? o.ffn_hidden : 4 * o.model;
  if (o.name == "mha") {
    g.output("y", multi_head_attention(g, x, x, x, attention));
  } else if (o.name == "gqa") {
    attention.kv_heads = o.kv_heads > 0 ? o.kv_heads : std::max<std::int64_t>(1, o.heads / 4);
    g.output("y", multi_head_attention(g, x, x, x, attention));
  } else if (o.name == "cross_attention") {
    Value memory = g.input("memory", {o.batch, kv_seq, o.model}, dtype);
    attention.prefix = "multihead_attn";
    g.output("y", multi_head_attention(g, x, memory, memory, attention));
  } else if (o.name == "encoder_layer") {
    g.output("y", stack(x, "layers", [&](Value h, const std::string& prefix) {
      return encoder_layer(g, h, {.heads = o.heads, .ffn_hidden = ffn, .norm_first = o.norm_first,
                                  .activation = o.activation, .mask = o.mask, .lengths = lengths, .prefix = prefix});
    }));
  } else if (llama) {  // Hugging Face's names: model.layers.N.* (a single layer's too)
    g.output("y", stack(x, "model.layers", [&](Value h, const std::string& prefix) {
      return llama_block(g, h, {.heads = o.heads, .kv_heads = o.kv_heads, .ffn_hidden = ffn, .rope_theta = o.rope_theta,
                                .epsilon = o.rms_eps,
                                .mask = o.mask == Mask::padding ? Mask::causal | Mask::padding : Mask::causal,
                                .lengths = lengths, .window = o.window, .prefix = prefix, .cache = cache});
    }));
  } else {  // decoder_layer: causal self-attention (causal, padding); padding masks the memory
    Value memory = g.input("memory", {o.batch, kv_seq, o.model}, dtype);
    g.output("y", stack(x, "layers", [&](Value h, const std::string& prefix) {
      DecoderOptions d{.heads = o.heads, .ffn_hidden = ffn, .norm_first = o.norm_first, .activation = o.activation,
                       .prefix = prefix, .cache = cache};
      d.self_mask = o.self_mask ? *o.self_mask : o.mask == Mask::none && !decoding ? Mask::none : Mask::causal;
      if (o.mask == Mask::padding) d.memory_lengths = lengths;
      return decoder_layer(g, h, memory, d);
    }));
  }
  return g;
}

Graph build_llama_model(const LlamaModelOptions& model, const ModelGraphOptions& o) {
  if (o.batch < 1 || o.seq < 1) throw std::invalid_argument("a model runs at least one sequence of one token");
  if (o.cache < 0 || o.cache > (std::int64_t(1) << 24))
    throw std::invalid_argument("the cache capacity must be 0 (none) to 2^24 positions");
  Graph g{"llama_model"};
  const bool decoding = o.cache > 0;
  Value ids = g.input("ids", {o.batch, dyn("seq", decoding ? o.cache : o.seq)}, DType::i32);
  LlamaModelOptions m = model;
  m.dtype = o.f16 ? DType::f16 : DType::f32;
  m.last_position_only = o.last_position_only;
  m.unrolled = o.unrolled;
  if (decoding) m.layer.cache = KvCache{.capacity = o.cache, .positions = g.input("positions", {o.batch}, DType::i32)};
  g.output("logits", llama_model(g, ids, m));
  return g;
}

}  // namespace vkattn
