#pragma once
// Command-line parsing shared by the vkattn subcommands: flags, the GRAPH argument
// (a preset or a graph JSON file) and its sizing flags.
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <vkattn/compile.hpp>
#include <vkattn/presets.hpp>

namespace vkattn::cli {

// A mistake on the command line; main prints it with the subcommand's usage hint.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Flags of one subcommand: "--name value" for the valued ones, "--name" for switches.
class Arguments {
 public:
  Arguments(const std::vector<std::string>& args, const std::vector<std::string>& valued,
            const std::vector<std::string>& switches);
  const std::vector<std::string>& positional() const { return positional_; }
  bool has(const std::string& flag) const { return values_.count(flag) > 0; }
  // The value of a flag given at most once (a UsageError when it is repeated).
  std::string text(const std::string& flag, const std::string& fallback) const;
  // Every value of a repeatable flag, in order.
  std::vector<std::string> all(const std::string& flag) const;
  std::int64_t integer(const std::string& flag, std::int64_t fallback, std::int64_t minimum = 1,
                       std::int64_t maximum = std::int64_t(1) << 40) const;
  // A finite number in [minimum, maximum].
  double number(const std::string& flag, double fallback, double minimum, double maximum) const;

 private:
  std::vector<std::string> positional_;
  std::map<std::string, std::vector<std::string>> values_;
};

// The sizing flags every GRAPH takes: valued ones and switches.
inline const std::vector<std::string> graph_flags{"--batch", "--seq",    "--kv-seq", "--model",      "--heads", "--kv-heads",
                                                  "--mask",  "--ffn",    "--layers", "--activation", "--rope-theta",
                                                  "--cache", "--rms-eps", "--self-mask", "--logits", "--window",
                                                  "--page-size", "--pages", "--sequences"};
inline const std::vector<std::string> graph_switches{"--f16", "--norm-first", "--unroll"};
// The sizing flags a model folder takes (its config.json gives the rest).
inline const std::vector<std::string> model_flags{"--batch", "--seq", "--cache", "--logits", "--f16", "--unroll"};
inline constexpr const char* graph_help =
    "GRAPH is a preset (mha, cross_attention, gqa, encoder_layer, decoder_layer, llama_block), a graph\n"
    "JSON file, or a model folder as Hugging Face ships it (config.json of a Llama, Mistral or\n"
    "Qwen2 model beside model.safetensors or its sharded index): token ids \"ids\" [batch, seq] in,\n"
    "\"logits\" [batch, seq, vocab] out, the folder's checkpoint bound.\n"
    "Model folder sizes: --batch N (1) --seq N (tokens per run at most; 128) --cache N (decoding:\n"
    "              a KV cache of N positions, ids are up to N new tokens placed by \"positions\")\n"
    "              --logits all|last (last: each sequence's last position only) --f16\n"
    "              --unroll (each layer written out and compiled on its own; by default one\n"
    "              layer body, model.layers.{i}, is compiled once and run per layer)\n"
    "Preset sizes: --batch N (1) --seq N (128) --kv-seq N (memory length; seq) --model N (512)\n"
    "              --heads N (8) --kv-heads N (gqa; heads/4) --mask causal|padding|none (none)\n"
    "              --f16 (f16 inputs and weights)\n"
    "  encoder_layer, decoder_layer: --ffn N (4 x model) --activation relu|gelu|silu|gelu_tanh|tanh (relu)\n"
    "              --norm-first (pre-norm) --layers N (1; a stack named layers.N.* as\n"
    "              nn.TransformerEncoder / nn.TransformerDecoder name it). decoder_layer is\n"
    "              causal with --mask causal or padding; padding masks its memory\n"
    "  llama_block (Hugging Face's LlamaDecoderLayer, always causal): --kv-heads N (heads)\n"
    "              --ffn N (4 x model) --rope-theta X (10000) --rms-eps X (1e-6, rms_norm_eps)\n"
    "              --layers N (1; model.layers.N.*) --window N (a sliding window of N keys, Mistral's;\n"
    "              with --cache, the cache rolls: --cache rows reused modulo, runs of at most\n"
    "              cache - window + 1 tokens, sequences of any length; with --page-size each\n"
    "              sequence's table row of pages rolls the same way)\n"
    "  --layers N > 1: one layer body compiled once and run N times, its weights named with\n"
    "              {i} = 0..N-1; --unroll writes the N layers out, each compiled on its own\n"
    "  decoder_layer: --self-mask none|causal its self-attention's mask whatever --mask says\n"
    "              (--mask padding --self-mask none: padded memory, full self-attention)\n"
    "  mha, gqa, decoder_layer, llama_block: --cache N gives the self-attention a KV cache of N positions\n"
    "              per sequence, causal in the cache: x becomes [batch, seq<=N, model] and the\n"
    "              i32 input positions [batch] says where each sequence's tokens start; --seq\n"
    "              is then the tokens of one run (1 to N; N when not given)\n"
    "              --page-size P pages the cache: the sequences share one pool of --pages M\n"
    "              pages of P positions (batch x N / P when not given) through the i32 input\n"
    "              block_table [batch, N / P]\n"
    "  mha, gqa, llama_block with --page-size: --sequences S a ragged batch of S sequences\n"
    "              (instead of --batch): their new tokens are packed into one axis, x [tokens,\n"
    "              1, model] with tokens <= --seq (the cache when not given), and each token\n"
    "              has its own position, positions [tokens], and its sequence's table row,\n"
    "              block_table [tokens, N / P]: one run mixes prefills and decode steps\n";

// GRAPH when it is a model folder (config.json beside its checkpoint), else nothing.
std::optional<std::string> model_folder(const Arguments& args);

// "NAME=FILE" of --input and --output.
struct Assignment {
  std::string name, file;
};
Assignment parse_assignment(const std::string& flag, const std::string& text);

// "a,b,,c" as its items ("a", "b", "", "c"); a trailing comma ends with an empty item.
std::vector<std::string> comma_list(const std::string& text);

// Flag lists joined: graph_flags plus a command's own.
std::vector<std::string> with_graph_flags(std::vector<std::string> own);
std::vector<std::string> with_graph_switches(std::vector<std::string> own);

// --storage f16|f32 (f32: as the graph declares) and --unfused, as compile options.
CompileOptions compile_options(const Arguments& args);
inline constexpr const char* storage_help =
    "  --storage f16|f32   f16: hold every float tensor in f16 on the device (weights,\n"
    "                      activations; inputs and outputs converted at upload and\n"
    "                      download), computing in f32; f32 (default): as the graph declares\n";

// Whether GRAPH names a graph JSON file rather than a preset.
bool is_graph_file(const std::string& graph);

// Builds the graph named by the first positional argument. A preset under --cache with
// --seq is sized for runs of --seq tokens (its bound stays the cache), and
// compile_options() chooses its kernels for that size.
Graph load_graph(const Arguments& args);

}  // namespace vkattn::cli
