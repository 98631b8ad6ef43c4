// Whole models on the device, validation on: token ids to logits through embeddings,
// stacked Llama-architecture layers, the final norm and the output head; a random
// checkpoint in Hugging Face's layout (config.json, index, BF16 and F32 shards) read,
// bound and run prefill and token by token against the reference.
#include <filesystem>
#include <fstream>
#include <functional>

#include <nlohmann/json.hpp>

#include "vkattn/decoder.hpp"
#include "vkattn/model_config.hpp"
#include "vkattn/presets.hpp"
#include "vkattn/state_dict.hpp"
#include "vkattn/tensor_files.hpp"
#include "error_text.hpp"
#include "vulkan_harness.hpp"

namespace va = vkattn;
namespace fs = std::filesystem;
using va::testing::check_on_device;
using va::testing::compare;
using va::testing::error_of;
using va::testing::rows_of;
using va::testing::validated_context;

namespace {

va::LlamaConfig tiny_config(const std::string& model_type = "llama") {
  va::LlamaConfig config;
  config.model_type = model_type;
  config.max_positions = 64;
  va::LlamaModelOptions& m = config.model;
  m.vocab = 61;
  m.model = 24;
  m.layers = 2;
  m.layer.heads = 4;
  m.layer.kv_heads = 2;
  m.layer.ffn_hidden = 40;
  m.layer.rope_theta = 500.0;
  m.layer.epsilon = 1e-5;
  if (model_type == "qwen2") m.layer.qkv_bias = true;
  if (model_type == "mistral") m.layer.window = 5;
  return config;
}

// Token ids [batch, count] from positions [first, first + count) of `ids`.
va::Tensor tokens_of(const va::Tensor& ids, std::int64_t first, std::int64_t count) {
  va::Tensor out;
  out.dtype = va::DType::i32;
  out.shape = va::Shape{ids.shape[0], count};
  for (std::int64_t b = 0; b < ids.shape[0]; ++b)
    for (std::int64_t s = first; s < first + count; ++s) out.values.push_back(ids.values[std::size_t(b * ids.shape[1] + s)]);
  return out;
}

va::Tensor random_ids(std::int64_t batch, std::int64_t seq, std::int64_t vocab, std::uint64_t seed) {
  va::Tensor ids = va::Tensor::random(va::Shape{batch, seq}, seed, 0.0, double(vocab), va::DType::i32);
  for (double& v : ids.values) v = std::min(std::floor(v), double(vocab - 1));
  return ids;
}

}  // namespace

TEST_CASE("llama_model: ids to logits, fused and unfused, every target, against the reference", "[vulkan]") {
  struct Case {
    const char* type;
    bool tied, last_only;
    std::int64_t seq;
  };
  for (const Case& c : {Case{"llama", false, false, 7}, Case{"llama", true, true, 9}, Case{"mistral", false, false, 11},
                        Case{"qwen2", true, false, 1}}) {
    INFO(c.type << (c.tied ? ", tied" : "") << (c.last_only ? ", last position only" : "") << ", seq " << c.seq);
    va::LlamaModelOptions m = tiny_config(c.type).model;
    m.tie_embeddings = c.tied;
    const va::Graph g = va::build_llama_model(m, {.batch = 2, .seq = c.seq, .last_position_only = c.last_only});
    const va::Shape logits = g.nodes().back().shape;  // the output "logits"
    CHECK(logits.last() == m.vocab);
    CHECK(logits[1] == (c.last_only ? 1 : c.seq));
    va::TensorMap bindings = va::random_bindings(g, 3);
    bindings["ids"] = random_ids(2, c.seq, m.vocab, 4);
    check_on_device(g, bindings, 1e-5);
    // Held in f16 on the device, every target: the reference sees the rounded values.
    va::testing::check_schedule_on_device(g, true, va::testing::rounded_to_f16(bindings), 2e-2, true);
  }
}

TEST_CASE("a random checkpoint in Hugging Face's layout runs from ids to logits, prefill and token by token",
          "[vulkan]") {
  const fs::path folder = fs::temp_directory_path() / "vkattn_test_tiny_llama";
  fs::remove_all(folder);
  for (const char* type : {"llama", "mistral"}) {
    INFO(type);
    const va::TensorMap written = va::write_random_llama_checkpoint(folder, tiny_config(type), 7);
    const va::LlamaConfig config = va::read_llama_config(folder);
    CHECK(config.model.layer.window == (std::string(type) == "mistral" ? 5 : 0));
    const std::int64_t batch = 2, total = 12, capacity = 16;
    const va::Graph whole = va::build_llama_model(config.model, {.batch = batch, .seq = total});
    const va::TensorMap checkpoint = va::read_checkpoint(folder.string());
    const va::StateDictBinding bound = va::bind_state_dict(whole, checkpoint, folder.string());
    CHECK(bound.unused.empty());
    for (const auto& [name, tensor] : written) CHECK(bound.weights.at(name).values == tensor.values);
    va::TensorMap bindings = bound.weights;
    bindings["ids"] = random_ids(batch, total, config.model.vocab, 8);
    const va::Tensor expected = va::run_reference(whole, bindings).outputs.at("logits");

    // Prefill: the whole sequence in one run.
    va::Executable prefill(validated_context(), whole, {.target = validated_context().target()}, bound.weights);
    prefill.poison_arena(std::numeric_limits<float>::quiet_NaN());
    const auto all = compare(prefill.run({{"ids", bindings.at("ids")}}).at("logits"), expected);
    CHECK(all.nan_count == 0);
    CHECK(all.normalised_error <= 1e-5);

    // Decoding: a 5-token prompt, then one token at a time, each step's logits those of
    // its positions in the whole run.
    const va::Graph decoding = va::build_llama_model(config.model, {.batch = batch, .cache = capacity});
    va::Decoder decoder(validated_context(), decoding, bound.weights, {.compile = {.target = validated_context().target()}});
    decoder.executable().poison_arena(std::numeric_limits<float>::quiet_NaN());
    for (std::int64_t done = 0; done < total;) {
      const std::int64_t count = done == 0 ? 5 : 1;
      INFO("tokens " << done << " to " << done + count - 1);
      const va::TensorMap inputs{{"ids", tokens_of(bindings.at("ids"), done, count)}};
      const va::TensorMap out = done == 0 ? decoder.prefill(inputs) : decoder.step(inputs);
      const auto step = compare(out.at("logits"), rows_of(expected, done, count));
      CHECK(step.nan_count == 0);
      CHECK(step.normalised_error <= 1e-5);
      done += count;
    }
    // The last position's logits alone, as a decoder reads them.
    const va::Graph last = va::build_llama_model(config.model, {.batch = batch, .seq = total, .last_position_only = true});
    va::Executable head(validated_context(), last, {.target = validated_context().target()}, bound.weights);
    const auto tail = compare(head.run({{"ids", bindings.at("ids")}}).at("logits"), rows_of(expected, total - 1, 1));
    CHECK(tail.normalised_error <= 1e-5);

    // An id outside the vocabulary is refused before anything runs.
    va::Tensor bad = bindings.at("ids");
    bad.values[3] = double(config.model.vocab);
    CHECK_THAT(error_of([&] { prefill.run({{"ids", bad}}); }),
               Catch::Contains("input 'ids' holds 61 at element 3, an index into 'model.embed_tokens.weight', which "
                               "has 61 entries") &&
                   Catch::Contains("an index is 0 to 60"));
    bad.values[3] = -1;
    CHECK_THAT(error_of([&] { prefill.run({{"ids", bad}}); }), Catch::Contains("holds -1 at element 3"));
  }
  va::testing::require_no_validation_messages();
  fs::remove_all(folder);
}

TEST_CASE("a checkpoint that disagrees with its config.json, or with itself, is refused by name") {
  const fs::path folder = fs::temp_directory_path() / "vkattn_test_bad_llama";
  fs::remove_all(folder);
  va::LlamaConfig config = tiny_config();
  va::write_random_llama_checkpoint(folder, config, 2);
  // A config.json that says another width than the checkpoint holds.
  config.model.model = 32;
  const va::Graph wider = va::build_llama_model(config.model, {.seq = 4});
  CHECK_THAT(error_of([&] { va::bind_state_dict(wider, va::read_checkpoint(folder.string()), folder.string()); }),
             Catch::Contains("model.embed_tokens.weight") && Catch::Contains("[61, 24]") && Catch::Contains("[61, 32]"));
  // A tensor the graph needs that the index does not list.
  {
    const fs::path index = folder / "model.safetensors.index.json";
    std::ifstream in(index);
    nlohmann::json doc = nlohmann::json::parse(in);
    doc["weight_map"].erase("model.norm.weight");
    std::ofstream(index) << doc.dump();
  }
  const va::Graph graph = va::build_llama_model(tiny_config().model, {.seq = 4});
  CHECK_THAT(error_of([&] { va::bind_state_dict(graph, va::read_checkpoint(folder.string()), folder.string()); }),
             Catch::Contains("model.norm.weight"));
  fs::remove_all(folder);
}
