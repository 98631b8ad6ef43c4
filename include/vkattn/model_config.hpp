#pragma once
// A Hugging Face model folder's config.json, read as the options of a whole model:
// Llama-architecture decoders (model_type llama, mistral or qwen2) become
// LlamaModelOptions. A field that changes the model's math in a way vkattn does not
// build (a rope_scaling type, another activation, MLP biases) is refused by name
// rather than ignored.
#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>

#include "vkattn/layers.hpp"
#include "vkattn/tensor.hpp"

namespace vkattn {

class ModelConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct LlamaConfig {
  LlamaModelOptions model;
  std::string model_type;            // llama, mistral or qwen2
  std::int64_t max_positions = 0;    // max_position_embeddings (0: not given)
};

// Parses the text of a config.json; `source` names it in errors.
LlamaConfig parse_llama_config(std::string_view text, const std::string& source);
// Reads `path`: a config.json, or the folder holding one.
LlamaConfig read_llama_config(const std::filesystem::path& path);

// Whether `path` is a folder with a config.json (a model as Hugging Face ships it).
bool is_model_folder(const std::filesystem::path& path);

}  // namespace vkattn

namespace vkattn {

// A model folder in Hugging Face's layout with random weights, for tests and
// benchmarks without a download: config.json (`config`, `model_type`), two shards
// (model-00001-of-00002.safetensors in BF16 with the embedding and the first layer,
// model-00002-of-00002.safetensors in F32 with the rest) and
// model.safetensors.index.json. Weights are drawn from `seed` as random_bindings
// draws them and rounded to values BF16 holds exactly, so both shards read back the
// numbers written. Returns the weights as written.
TensorMap write_random_llama_checkpoint(const std::filesystem::path& folder, const LlamaConfig& config,
                                        std::uint64_t seed = 1);

}  // namespace vkattn
