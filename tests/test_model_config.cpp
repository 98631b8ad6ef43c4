// config.json of Llama-architecture models: every field vkattn builds read into
// LlamaModelOptions, and every one it does not build refused by name.
#include <catch2/catch.hpp>

#include "vkattn/model_config.hpp"
#include "vkattn/presets.hpp"

namespace va = vkattn;

namespace {

// A Llama 3 style config.json, as Hugging Face writes it (trimmed of token ids).
const char* llama_json = R"({
  "architectures": ["LlamaForCausalLM"], "model_type": "llama", "attention_bias": false,
  "hidden_act": "silu", "hidden_size": 64, "intermediate_size": 160, "max_position_embeddings": 256,
  "num_attention_heads": 8, "num_hidden_layers": 3, "num_key_value_heads": 2, "rms_norm_eps": 1e-05,
  "rope_scaling": null, "rope_theta": 500000.0, "tie_word_embeddings": true, "torch_dtype": "bfloat16",
  "vocab_size": 131, "bos_token_id": 1, "pretraining_tp": 1
})";

std::string error_of(const std::string& text) {
  try {
    va::parse_llama_config(text, "config.json");
  } catch (const va::ModelConfigError& e) {
    return e.what();
  }
  return "(no error)";
}

// llama_json with `field` set to `value` (JSON text); an empty value removes the field.
std::string with(const std::string& field, const std::string& value) {
  std::string text = llama_json;
  const std::string key = "\"" + field + "\": ";
  const std::size_t at = text.find(key);
  if (at == std::string::npos) return "{\"" + field + "\": " + value + ", " + text.substr(text.find('{') + 1);
  std::size_t end = at + key.size();
  int depth = 0;
  for (; end < text.size(); ++end) {
    const char c = text[end];
    if (c == '{' || c == '[') ++depth;
    if (c == '}' || c == ']') {
      if (depth == 0) break;
      --depth;
    }
    if (c == ',' && depth == 0) break;
  }
  if (value.empty()) return text.substr(0, at) + text.substr(end + (text[end] == ',' ? 2 : 0));
  return text.substr(0, at) + key + value + text.substr(end);
}

}  // namespace

TEST_CASE("a Llama config.json gives the model's sizes, norm, RoPE base and tied head") {
  const va::LlamaConfig c = va::parse_llama_config(llama_json, "config.json");
  CHECK(c.model_type == "llama");
  CHECK(c.model.vocab == 131);
  CHECK(c.model.model == 64);
  CHECK(c.model.layers == 3);
  CHECK(c.model.layer.heads == 8);
  CHECK(c.model.layer.kv_heads == 2);
  CHECK(c.model.layer.ffn_hidden == 160);
  CHECK(c.model.layer.epsilon == 1e-5);
  CHECK(c.model.layer.rope_theta == 500000.0);
  CHECK(c.model.layer.window == 0);
  CHECK_FALSE(c.model.layer.qkv_bias);
  CHECK(c.model.tie_embeddings);
  CHECK(c.max_positions == 256);
  // The graph it builds: one weight per tensor a checkpoint of it holds, no lm_head when tied.
  const va::Graph g = va::build_llama_model(c.model, {.batch = 1, .seq = 4});
  bool head = false;
  for (const va::BoundTensor& w : va::bound_tensors(g)) head = head || w.name == "lm_head.weight";
  CHECK(va::bound_tensors(g).size() == 1 + 3 * 9 + 1);  // embedding, 9 per layer, the final norm
  int declared = 0;  // the layers are one body repeated: its 9 weights are declared once
  for (const va::Node& n : g.nodes()) declared += n.op == va::Op::weight;
  CHECK(declared == 1 + 9 + 1);
  CHECK_FALSE(head);
  // Defaults: no num_key_value_heads means as many as heads; untied.
  const va::LlamaConfig d = va::parse_llama_config(with("tie_word_embeddings", "") , "config.json");
  CHECK_FALSE(d.model.tie_embeddings);
  CHECK(va::parse_llama_config(with("num_key_value_heads", ""), "c").model.layer.kv_heads == 8);
  // Llama's attention_bias puts biases on all four projections.
  const va::LlamaConfig biased = va::parse_llama_config(with("attention_bias", "true"), "c");
  CHECK(biased.model.layer.qkv_bias);
  CHECK(biased.model.layer.o_proj_bias);
  // rope_scaling of the default type changes nothing.
  CHECK_NOTHROW(va::parse_llama_config(with("rope_scaling", R"({"rope_type": "default"})"), "c"));
}

TEST_CASE("Mistral's sliding window and Qwen 2's q, k, v biases come from their configs") {
  const va::LlamaConfig mistral =
      va::parse_llama_config(with("model_type", "\"mistral\"").insert(1, "\"sliding_window\": 4096, "), "c");
  CHECK(mistral.model.layer.window == 4096);
  const va::LlamaConfig full = va::parse_llama_config(with("model_type", "\"mistral\"").insert(1, "\"sliding_window\": null, "), "c");
  CHECK(full.model.layer.window == 0);
  const va::LlamaConfig qwen = va::parse_llama_config(with("model_type", "\"qwen2\""), "c");
  CHECK(qwen.model.layer.qkv_bias);
  CHECK_FALSE(qwen.model.layer.o_proj_bias);
  CHECK_THAT(error_of(with("model_type", "\"qwen2\"").insert(1, "\"use_sliding_window\": true, ")),
             Catch::Contains("\"use_sliding_window\" is true"));
}

TEST_CASE("config.json fields vkattn does not build are refused by name") {
  CHECK_THAT(error_of(with("rope_scaling", R"({"factor": 8.0, "rope_type": "llama3"})")),
             Catch::Contains("config.json: \"rope_scaling\" has type \"llama3\"") &&
                 Catch::Contains("RoPE scaling is not built"));
  CHECK_THAT(error_of(with("rope_scaling", R"({"type": "linear", "factor": 2.0})")), Catch::Contains("type \"linear\""));
  CHECK_THAT(error_of(with("hidden_act", "\"gelu\"")), Catch::Contains("\"hidden_act\" is \"gelu\""));
  CHECK_THAT(error_of(with("model_type", "\"gpt2\"")), Catch::Contains("\"model_type\" is \"gpt2\""));
  CHECK_THAT(error_of(with("mlp_bias", "true")), Catch::Contains("\"mlp_bias\" is true"));
  CHECK_THAT(error_of(with("head_dim", "16")), Catch::Contains("\"head_dim\" is 16, but hidden_size / "
                                                               "num_attention_heads is 8"));
  CHECK_THAT(error_of(with("num_key_value_heads", "3")), Catch::Contains("\"num_key_value_heads\" is 3"));
  CHECK_THAT(error_of(with("hidden_size", "")), Catch::Contains("\"hidden_size\" is missing"));
  CHECK_THAT(error_of(with("hidden_size", "\"64\"")), Catch::Contains("\"hidden_size\" is \"64\", not a whole number"));
  CHECK_THAT(error_of(with("vocab_size", "0")), Catch::Contains("\"vocab_size\" is 0, outside 1"));
  CHECK_THAT(error_of(with("rms_norm_eps", "-1")), Catch::Contains("\"rms_norm_eps\" is -1"));
  CHECK_THAT(error_of(with("partial_rotary_factor", "0.5")), Catch::Contains("\"partial_rotary_factor\""));
  CHECK_THAT(error_of("[1, 2]"), Catch::Contains("config.json: not a JSON object"));
  CHECK_THAT(error_of("{"), Catch::Contains("config.json: not JSON"));
  CHECK_THROWS_WITH(va::read_llama_config("/nonexistent/model"), Catch::Contains("/nonexistent/model: cannot read"));
}
