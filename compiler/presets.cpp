// The built-in graphs behind `vkattn compile|run|bench GRAPH`.
#include "vkattn/presets.hpp"

#include <stdexcept>

namespace vkattn {

const std::vector<std::string_view>& preset_names() {
  static const std::vector<std::string_view> names{"mha", "cross_attention", "gqa", "encoder_layer", "decoder_layer"};
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
  const DType dtype = o.f16 ? DType::f16 : DType::f32;
  const std::int64_t kv_seq = o.kv_seq > 0 ? o.kv_seq : o.seq;
  Graph g{o.name};
  Value x = g.input("x", {o.batch, o.seq, o.model}, dtype);
  Value lengths = o.mask == Mask::padding ? g.input("lengths", {o.batch}, DType::i32) : Value{};
  AttentionOptions attention{.heads = o.heads, .mask = o.mask, .lengths = lengths};
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
    g.output("y", encoder_layer(g, x, {.heads = o.heads, .ffn_hidden = ffn, .mask = o.mask, .lengths = lengths}));
  } else {  // decoder_layer: causal self-attention; padding masks the memory
    Value memory = g.input("memory", {o.batch, kv_seq, o.model}, dtype);
    DecoderOptions d{.heads = o.heads, .ffn_hidden = ffn};
    d.self_mask = o.mask == Mask::causal ? Mask::causal : Mask::none;
    if (o.mask == Mask::padding) d.memory_lengths = lengths;
    g.output("y", decoder_layer(g, x, memory, d));
  }
  return g;
}

}  // namespace vkattn
