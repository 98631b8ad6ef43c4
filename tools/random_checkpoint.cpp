// vkattn-random-checkpoint: writes a Llama-architecture model folder in Hugging Face's
// layout with random weights (config.json, model.safetensors.index.json and two shards,
// BF16 and F32), and optionally random token ids, so whole-model runs and benchmarks
// need no download.
#include <cmath>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include <vkattn/model_config.hpp>
#include <vkattn/tensor_files.hpp>

namespace {

const char* help =
    "usage: vkattn-random-checkpoint FOLDER [--type llama|mistral|qwen2] [--vocab N] [--model N]\n"
    "                                [--layers N] [--heads N] [--kv-heads N] [--ffn N] [--window N]\n"
    "                                [--tied] [--seed N] [--ids FILE.npy --batch N --seq N]\n"
    "Writes FOLDER/config.json, FOLDER/model.safetensors.index.json and two shards of random\n"
    "weights (the embedding and first layer in BF16, the rest in F32), values BF16 holds exactly.\n"
    "  --type T       model_type: llama (default), mistral (with --window: sliding_window),\n"
    "                 qwen2 (biases on q, k, v)\n"
    "  --vocab N (97) --model N (32, hidden_size) --layers N (2) --heads N (4) --kv-heads N (2)\n"
    "  --ffn N (48, intermediate_size) --window N (mistral's sliding_window; none)\n"
    "  --tied         tie_word_embeddings: no lm_head.weight\n"
    "  --seed N       seed of the weights (1) and ids (N + 1)\n"
    "  --ids FILE     also write random token ids [batch, seq] (i32 .npy) within the vocabulary\n";

long long number(const std::vector<std::string>& args, std::size_t& i, long long low, long long high) {
  if (i + 1 >= args.size()) throw std::invalid_argument(args[i] + " needs a value");
  const std::string& flag = args[i];
  const std::string& text = args[++i];
  std::size_t used = 0;
  long long v = 0;
  try {
    v = std::stoll(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != text.size() || text.empty() || v < low || v > high)
    throw std::invalid_argument(flag + " takes a whole number from " + std::to_string(low) + " to " +
                                std::to_string(high) + ", not '" + text + "'");
  return v;
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  for (const std::string& a : args)
    if (a == "--help" || a == "-h") {
      std::cout << help;
      return 0;
    }
  try {
    vkattn::LlamaConfig config;
    config.model_type = "llama";
    config.max_positions = 4096;
    vkattn::LlamaModelOptions& m = config.model;
    m.vocab = 97, m.model = 32, m.layers = 2;
    m.layer.heads = 4, m.layer.kv_heads = 2, m.layer.ffn_hidden = 48, m.layer.epsilon = 1e-5;
    std::string folder, ids;
    long long seed = 1, batch = 1, seq = 8;
    for (std::size_t i = 0; i < args.size(); ++i) {
      const std::string& a = args[i];
      if (a == "--type") {
        if (i + 1 >= args.size()) throw std::invalid_argument("--type needs a value");
        config.model_type = args[++i];
        if (config.model_type != "llama" && config.model_type != "mistral" && config.model_type != "qwen2")
          throw std::invalid_argument("--type is llama, mistral or qwen2, not '" + config.model_type + "'");
      } else if (a == "--vocab") m.vocab = number(args, i, 1, 1 << 20);
      else if (a == "--model") m.model = number(args, i, 1, 1 << 16);
      else if (a == "--layers") m.layers = number(args, i, 1, 256);
      else if (a == "--heads") m.layer.heads = number(args, i, 1, 1024);
      else if (a == "--kv-heads") m.layer.kv_heads = number(args, i, 1, 1024);
      else if (a == "--ffn") m.layer.ffn_hidden = number(args, i, 1, 1 << 18);
      else if (a == "--window") m.layer.window = number(args, i, 1, 1 << 24);
      else if (a == "--tied") m.tie_embeddings = true;
      else if (a == "--seed") seed = number(args, i, 0, 1LL << 40);
      else if (a == "--batch") batch = number(args, i, 1, 1 << 16);
      else if (a == "--seq") seq = number(args, i, 1, 1 << 24);
      else if (a == "--ids") {
        if (i + 1 >= args.size()) throw std::invalid_argument("--ids needs a file");
        ids = args[++i];
      } else if (a.rfind("--", 0) == 0) throw std::invalid_argument("unknown option " + a);
      else if (folder.empty()) folder = a;
      else throw std::invalid_argument("unexpected argument '" + a + "'");
    }
    if (folder.empty()) throw std::invalid_argument("missing FOLDER");
    if (m.model % m.layer.heads != 0 || m.layer.heads % m.layer.kv_heads != 0)
      throw std::invalid_argument("--model must be a multiple of --heads, and --heads of --kv-heads");
    if (m.layer.window > 0 && config.model_type != "mistral")
      throw std::invalid_argument("--window is mistral's sliding_window; give --type mistral");
    if (config.model_type == "qwen2") m.layer.qkv_bias = true;
    vkattn::write_random_llama_checkpoint(folder, config, std::uint64_t(seed));
    if (!ids.empty()) {
      vkattn::Tensor t = vkattn::Tensor::random(vkattn::Shape{batch, seq}, std::uint64_t(seed) + 1, 0.0,
                                                double(m.vocab), vkattn::DType::i32);
      for (double& v : t.values) v = std::min(std::floor(v), double(m.vocab - 1));
      vkattn::write_npy(ids, t, vkattn::FileElement::i32);
    }
    std::printf("wrote %s: %s, %lld layers, vocabulary %lld, width %lld\n", folder.c_str(), config.model_type.c_str(),
                (long long)m.layers, (long long)m.vocab, (long long)m.model);
    return 0;
  } catch (const std::invalid_argument& e) {
    std::cerr << "vkattn-random-checkpoint: " << e.what() << "\n(see --help)\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "vkattn-random-checkpoint: " << e.what() << "\n";
    return 1;
  }
}
