// config.json of a Llama-architecture model (Hugging Face's LlamaConfig, MistralConfig,
// Qwen2Config) to LlamaModelOptions.
#include "vkattn/model_config.hpp"

#include <cmath>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

namespace vkattn {

namespace {

using nlohmann::json;

class ConfigReader {
 public:
  ConfigReader(const json& document, const std::string& source) : document_(document), source_(source) {}

  [[noreturn]] void fail(const std::string& field, const std::string& what) const {
    throw ModelConfigError(source_ + ": \"" + field + "\" " + what);
  }

  const json* find(const char* field) const {
    auto it = document_.find(field);
    return it == document_.end() || it->is_null() ? nullptr : &*it;
  }

  std::int64_t integer(const char* field, std::int64_t low, std::int64_t high) const {
    const json* v = find(field);
    if (!v) fail(field, "is missing; a Llama-architecture config.json gives it");
    return integer_of(*v, field, low, high);
  }
  std::int64_t integer_or(const char* field, std::int64_t fallback, std::int64_t low, std::int64_t high) const {
    const json* v = find(field);
    return v ? integer_of(*v, field, low, high) : fallback;
  }
  double number_or(const char* field, double fallback, double low, double high) const {
    const json* v = find(field);
    if (!v) return fallback;
    if (!v->is_number()) fail(field, "is " + v->dump() + ", not a number");
    const double x = v->get<double>();
    if (!std::isfinite(x) || x < low || x > high)
      fail(field, "is " + v->dump() + ", outside " + std::to_string(low) + " to " + std::to_string(high));
    return x;
  }
  bool flag_or(const char* field, bool fallback) const {
    const json* v = find(field);
    if (!v) return fallback;
    if (!v->is_boolean()) fail(field, "is " + v->dump() + ", not true or false");
    return v->get<bool>();
  }
  std::string text_or(const char* field, const std::string& fallback) const {
    const json* v = find(field);
    if (!v) return fallback;
    if (!v->is_string()) fail(field, "is " + v->dump() + ", not a string");
    return v->get<std::string>();
  }

 private:
  std::int64_t integer_of(const json& v, const char* field, std::int64_t low, std::int64_t high) const {
    if (!v.is_number_integer()) fail(field, "is " + v.dump() + ", not a whole number");
    if (v.is_number_unsigned() && v.get<std::uint64_t>() > std::uint64_t(high))
      fail(field, "is " + v.dump() + ", more than " + std::to_string(high));
    const std::int64_t x = v.get<std::int64_t>();
    if (x < low || x > high)
      fail(field, "is " + v.dump() + ", outside " + std::to_string(low) + " to " + std::to_string(high));
    return x;
  }

  const json& document_;
  const std::string& source_;
};

}  // namespace

LlamaConfig parse_llama_config(std::string_view text, const std::string& source) {
  json document;
  try {
    document = json::parse(text);
  } catch (const json::exception& e) {
    throw ModelConfigError(source + ": not JSON: " + e.what());
  }
  if (!document.is_object()) throw ModelConfigError(source + ": not a JSON object");
  const ConfigReader r(document, source);
  LlamaConfig config;
  config.model_type = r.text_or("model_type", "");
  if (config.model_type != "llama" && config.model_type != "mistral" && config.model_type != "qwen2")
    r.fail("model_type", "is \"" + config.model_type +
                             "\"; vkattn builds Llama-architecture decoders: \"llama\", \"mistral\" or \"qwen2\"");
  constexpr std::int64_t big = std::int64_t(1) << 31;
  LlamaModelOptions& m = config.model;
  LlamaOptions& layer = m.layer;
  m.vocab = r.integer("vocab_size", 1, big);
  m.model = r.integer("hidden_size", 1, big);
  m.layers = r.integer("num_hidden_layers", 1, 4096);
  layer.heads = r.integer("num_attention_heads", 1, m.model);
  layer.kv_heads = r.integer_or("num_key_value_heads", layer.heads, 1, layer.heads);
  layer.ffn_hidden = r.integer("intermediate_size", 1, big);
  layer.epsilon = r.number_or("rms_norm_eps", 1e-6, 1e-30, 1.0);
  layer.rope_theta = r.number_or("rope_theta", 10000.0, 1.0 + 1e-9, 1e15);
  m.tie_embeddings = r.flag_or("tie_word_embeddings", false);
  config.max_positions = r.integer_or("max_position_embeddings", 0, 0, big);
  if (m.model % layer.heads != 0)
    r.fail("hidden_size", "is " + std::to_string(m.model) + ", not a multiple of num_attention_heads " +
                              std::to_string(layer.heads));
  if (layer.heads % layer.kv_heads != 0)
    r.fail("num_key_value_heads", "is " + std::to_string(layer.kv_heads) + ", which does not divide num_attention_heads " +
                                      std::to_string(layer.heads));
  if (const std::int64_t head_dim = r.integer_or("head_dim", m.model / layer.heads, 1, big);
      head_dim != m.model / layer.heads)
    r.fail("head_dim", "is " + std::to_string(head_dim) + ", but hidden_size / num_attention_heads is " +
                           std::to_string(m.model / layer.heads) + "; vkattn's heads split the hidden size evenly");

  // Biases: Llama's attention_bias puts one on all four projections; Qwen 2 has them on
  // q, k and v only.
  if (config.model_type == "qwen2") {
    layer.qkv_bias = true;
  } else if (r.flag_or("attention_bias", false)) {
    layer.qkv_bias = layer.o_proj_bias = true;
  }
  // The sliding window: Mistral's sliding_window; Qwen 2 only with use_sliding_window,
  // whose per-layer split (max_window_layers) is not built.
  if (config.model_type == "mistral") {
    layer.window = r.integer_or("sliding_window", 0, 1, big);
  } else if (config.model_type == "qwen2" && r.flag_or("use_sliding_window", false)) {
    r.fail("use_sliding_window", "is true: Qwen 2's sliding window over the layers from max_window_layers on is not "
                                 "built; set it to false for full attention in every layer");
  }

  // What changes the math and is not built: refused by name.
  if (const std::string act = r.text_or("hidden_act", "silu"); act != "silu")
    r.fail("hidden_act", "is \"" + act + "\"; the gated MLP is built with \"silu\" only");
  if (const json* scaling = r.find("rope_scaling")) {
    std::string type = "?";
    if (scaling->is_object()) {
      for (const char* key : {"rope_type", "type"})
        if (auto t = scaling->find(key); t != scaling->end() && t->is_string()) {
          type = t->get<std::string>();
          break;
        }
    }
    if (type != "default")
      r.fail("rope_scaling", "has type \"" + type + "\"; RoPE scaling is not built (only plain rope_theta): remove "
                             "it for a model trained without it, or use a model that has none");
  }
  if (r.flag_or("mlp_bias", false)) r.fail("mlp_bias", "is true; the MLP is built without biases");
  if (const double factor = r.number_or("partial_rotary_factor", 1.0, 0.0, 1.0); factor != 1.0)
    r.fail("partial_rotary_factor", "is " + std::to_string(factor) + "; RoPE is built over whole heads only");
  return config;
}

LlamaConfig read_llama_config(const std::filesystem::path& path) {
  const std::filesystem::path file = std::filesystem::is_directory(path) ? path / "config.json" : path;
  std::ifstream in(file, std::ios::binary);
  std::ostringstream text;
  if (!in || !(text << in.rdbuf()))
    throw ModelConfigError(file.string() + ": cannot read the file" +
                           (std::filesystem::is_directory(path) ? " (a model folder holds config.json)" : ""));
  return parse_llama_config(text.str(), file.string());
}

bool is_model_folder(const std::filesystem::path& path) {
  std::error_code error;
  return std::filesystem::is_directory(path, error) && std::filesystem::is_regular_file(path / "config.json", error);
}

}  // namespace vkattn
