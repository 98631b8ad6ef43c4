// A random Llama-architecture checkpoint in Hugging Face's layout (config.json, an
// index and two shards in BF16 and F32).
#include <cmath>
#include <fstream>

#include <nlohmann/json.hpp>

#include "vkattn/model_config.hpp"
#include "vkattn/presets.hpp"
#include "vkattn/reference.hpp"
#include "vkattn/tensor_files.hpp"

namespace vkattn {

namespace {

void write_text(const std::filesystem::path& path, const std::string& text) {
  // Written beside and renamed, so a reader never sees half a file.
  const std::filesystem::path partial = path.string() + ".partial";
  {
    std::ofstream out(partial, std::ios::binary | std::ios::trunc);
    if (!out || !(out << text) || !out.flush()) throw TensorFileError(partial.string() + ": cannot write the file");
  }
  std::filesystem::rename(partial, path);
}

// The nearest value with 8 significant bits (what BF16 keeps), so F32 and BF16 files
// read back the same numbers.
double bf16_exact(double v) {
  if (v == 0 || !std::isfinite(v)) return v;
  int exponent = 0;
  const double mantissa = std::frexp(v, &exponent);  // v = mantissa * 2^exponent, 0.5 <= |mantissa| < 1
  return std::ldexp(std::round(mantissa * 256.0) / 256.0, exponent);
}

}  // namespace

TensorMap write_random_llama_checkpoint(const std::filesystem::path& folder, const LlamaConfig& config,
                                        std::uint64_t seed) {
  const LlamaModelOptions& m = config.model;
  const Graph graph = build_llama_model(m, {.batch = 1, .seq = 1});
  TensorMap weights = random_bindings(graph, seed);
  weights.erase("ids");
  for (auto& [name, tensor] : weights)
    for (double& v : tensor.values) v = bf16_exact(v);

  std::filesystem::create_directories(folder);
  const std::string first = "model-00001-of-00002.safetensors", second = "model-00002-of-00002.safetensors";
  TensorMap first_shard, second_shard;
  nlohmann::json index{{"metadata", {{"total_size", 0}}}, {"weight_map", nlohmann::json::object()}};
  std::int64_t total = 0;
  for (const auto& [name, tensor] : weights) {
    const bool early = name == "model.embed_tokens.weight" || name.rfind("model.layers.0.", 0) == 0;
    (early ? first_shard : second_shard)[name] = tensor;
    index["weight_map"][name] = early ? first : second;
    total += std::int64_t(tensor.values.size()) * (early ? 2 : 4);
  }
  index["metadata"]["total_size"] = total;
  write_safetensors((folder / first).string(), first_shard, FileElement::bf16);
  write_safetensors((folder / second).string(), second_shard, FileElement::f32);
  write_text(folder / "model.safetensors.index.json", index.dump(2) + "\n");

  const LlamaOptions& layer = m.layer;
  const std::string architecture = config.model_type == "mistral" ? "MistralForCausalLM"
                                   : config.model_type == "qwen2" ? "Qwen2ForCausalLM"
                                                                   : "LlamaForCausalLM";
  nlohmann::json json{{"architectures", {architecture}},
                      {"model_type", config.model_type},
                      {"vocab_size", m.vocab},
                      {"hidden_size", m.model},
                      {"intermediate_size", layer.ffn_hidden},
                      {"num_hidden_layers", m.layers},
                      {"num_attention_heads", layer.heads},
                      {"num_key_value_heads", layer.kv_heads > 0 ? layer.kv_heads : layer.heads},
                      {"hidden_act", "silu"},
                      {"rms_norm_eps", layer.epsilon},
                      {"rope_theta", layer.rope_theta},
                      {"max_position_embeddings", config.max_positions > 0 ? config.max_positions : 2048},
                      {"tie_word_embeddings", m.tie_embeddings},
                      {"torch_dtype", "bfloat16"}};
  if (config.model_type == "mistral") json["sliding_window"] = layer.window > 0 ? nlohmann::json(layer.window) : nlohmann::json();
  if (config.model_type == "llama") json["attention_bias"] = layer.o_proj_bias;
  write_text(folder / "config.json", json.dump(2) + "\n");
  return weights;
}

}  // namespace vkattn
