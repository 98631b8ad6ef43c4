// vkattn generate: greedy decoding of a model folder on a Vulkan device. The prompt's
// token ids prefill the KV caches; each step appends every sequence's most likely next
// token (the argmax of its last position's logits). Optionally checked step by step
// against the CPU reference over the whole sequence.
#include <algorithm>
#include <cstdio>
#include <iostream>

#include <vkattn/decoder.hpp>
#include <vkattn/model_config.hpp>
#include <vkattn/presets.hpp>
#include <vkattn/reference.hpp>
#include <vkattn/tensor_files.hpp>
#include <vkattn/vkattn.hpp>

#include "cli_options.hpp"
#include "commands.hpp"
#include "device_context.hpp"
#include "graph_bindings.hpp"
#include "statistics.hpp"

namespace vkattn::cli {

const char* generate_help =
    "usage: vkattn generate MODEL_DIR --input ids=PROMPT.npy [--tokens N] [--cache N] [--output F.npy]\n"
    "                       [--check] [--weights F] [--device SEL] [--target NAME] [--storage f16|f32]\n"
    "Greedy decoding of a Hugging Face model folder (config.json and its checkpoint) on a Vulkan\n"
    "device: the prompt's token ids [batch, prompt] (i32 .npy) fill the KV caches in one run,\n"
    "then each of --tokens N (16) steps appends every sequence's most likely next token (the\n"
    "argmax of its last logits). Prints the generated ids of each sequence and the device time\n"
    "of the prefill and of a step. Token ids only: turning text into ids and back is the\n"
    "tokenizer's work.\n"
    "  --input ids=F.npy  the prompt, i32 [batch, prompt] (or [prompt]: one sequence)\n"
    "  --tokens N         tokens generated after the prompt (16)\n"
    "  --cache N          KV cache positions per sequence (prompt + tokens)\n"
    "  --output F.npy     write the prompt and generated ids, i32 [batch, prompt + tokens]\n"
    "  --check            compare every run's logits with the CPU reference over the whole\n"
    "                     sequence (double precision on the host: slow for a large model)\n"
    "  --weights F        another checkpoint than the folder's\n"
    "  --storage f16      hold every float tensor in f16 on the device\n";

namespace {

// Ids [batch, count] from positions [first, first + count) of all ids [batch, total].
Tensor columns(const Tensor& ids, std::int64_t first, std::int64_t count) {
  Tensor out;
  out.dtype = DType::i32;
  out.shape = Shape{ids.shape[0], count};
  for (std::int64_t b = 0; b < ids.shape[0]; ++b)
    for (std::int64_t s = first; s < first + count; ++s) out.values.push_back(ids.values[std::size_t(b * ids.shape[1] + s)]);
  return out;
}

// Logits [batch, 1, vocab] of position `position` of the reference's [batch, seq, vocab].
Tensor logits_at(const Tensor& logits, std::int64_t position) {
  Tensor out;
  out.dtype = logits.dtype;
  const std::int64_t seq = logits.shape[1], vocab = logits.shape[2];
  out.shape = Shape{logits.shape[0], 1, vocab};
  for (std::int64_t b = 0; b < logits.shape[0]; ++b)
    for (std::int64_t v = 0; v < vocab; ++v) out.values.push_back(logits.values[std::size_t((b * seq + position) * vocab + v)]);
  return out;
}

}  // namespace

int run_generate(const std::vector<std::string>& raw) {
  Arguments args(raw,
                 {"--input", "--tokens", "--cache", "--output", "--weights", "--weights-prefix", "--device", "--target",
                  "--storage", "--seed"},
                 {"--check"});
  if (args.positional().empty()) throw UsageError("missing MODEL_DIR");
  if (args.positional().size() > 1) throw UsageError("unexpected argument '" + args.positional()[1] + "'");
  const std::string folder = args.positional()[0];
  if (!is_model_folder(folder))
    throw UsageError("'" + folder + "' is not a model folder: generate needs a folder with config.json and its "
                     "checkpoint (as Hugging Face ships a model)");
  const std::vector<std::string> given = args.all("--input");
  if (given.size() != 1) throw UsageError("give the prompt once, as --input ids=PROMPT.npy");
  const Assignment prompt_file = parse_assignment("--input", given.front());
  if (prompt_file.name != "ids") throw UsageError("the prompt is the input 'ids', not '" + prompt_file.name + "'");
  Tensor prompt = read_npy(prompt_file.file);
  if (prompt.dtype != DType::i32) throw BindingError(prompt_file.file + ": holds floating-point values; token ids are integers");
  if (prompt.shape.rank == 1) prompt.shape = Shape{1, prompt.shape[0]};
  if (prompt.shape.rank != 2 || prompt.shape[1] < 1)
    throw BindingError(prompt_file.file + ": holds shape " + to_string(prompt.shape) +
                       "; a prompt is [batch, tokens] or [tokens]");
  const std::int64_t batch = prompt.shape[0], prompt_tokens = prompt.shape[1];
  const std::int64_t tokens = args.integer("--tokens", 16, 0, std::int64_t(1) << 24);
  const std::int64_t cache = args.integer("--cache", prompt_tokens + tokens, prompt_tokens + tokens, std::int64_t(1) << 24);

  const LlamaConfig config = read_llama_config(folder);
  if (config.max_positions > 0 && prompt_tokens + tokens > config.max_positions)
    throw UsageError(folder + "/config.json: max_position_embeddings is " + std::to_string(config.max_positions) +
                     ", fewer than the prompt's " + std::to_string(prompt_tokens) + " and " + std::to_string(tokens) +
                     " generated tokens");
  const Graph graph = build_llama_model(config.model, {.batch = batch, .cache = cache, .last_position_only = true});
  std::unique_ptr<Context> opened = open_context(args);
  Context& context = *opened;
  DecodeOptions options{.compile = compile_options(args)};
  options.compile.target = target_for(args, context);
  const TensorMap weights = graph_weights(graph, args, std::cerr);
  Decoder decoder(context, graph, weights, options);

  Tensor all = prompt;  // every sequence's ids so far, [batch, prompt + generated]
  std::vector<Tensor> last_logits;  // of each run, [batch, 1, vocab]
  std::vector<double> step_ms;
  double prefill_ms = 0;
  for (std::int64_t s = 0; s <= tokens; ++s) {
    const TensorMap out = s == 0 ? decoder.prefill({{"ids", prompt}})
                                 : decoder.step({{"ids", columns(all, all.shape[1] - 1, 1)}});
    (s == 0 ? prefill_ms : step_ms.emplace_back()) = decoder.executable().last_run_ms();
    const Tensor& logits = out.at("logits");
    last_logits.push_back(logits);
    if (s == tokens) break;
    // The next token of each sequence: its last logits' argmax (the first of equals).
    Tensor next;
    next.dtype = DType::i32;
    next.shape = Shape{batch, all.shape[1] + 1};
    const std::int64_t vocab = logits.shape.last();
    for (std::int64_t b = 0; b < batch; ++b) {
      for (std::int64_t i = 0; i < all.shape[1]; ++i) next.values.push_back(all.values[std::size_t(b * all.shape[1] + i)]);
      const auto row = logits.values.begin() + b * vocab;
      next.values.push_back(double(std::max_element(row, row + vocab) - row));
    }
    all = std::move(next);
  }
  check_validation(context);

  for (std::int64_t b = 0; b < batch; ++b) {
    std::printf("sequence %lld:", static_cast<long long>(b));
    for (std::int64_t i = 0; i < all.shape[1]; ++i)
      std::printf(i == prompt_tokens ? " |%lld" : " %lld", static_cast<long long>(all.values[std::size_t(b * all.shape[1] + i)]));
    std::printf("\n");
  }
  std::printf("%s on %s: prompt of %lld tokens %.3f ms", std::string(graph.name()).c_str(), context.device().name.c_str(),
              static_cast<long long>(prompt_tokens), prefill_ms);
  if (!step_ms.empty()) std::printf(", then %zu tokens at a median %.3f ms each", step_ms.size(), median(step_ms));
  std::printf(" (device time; the first run of each size makes its pipelines)\n");
  if (args.has("--output")) {
    write_npy(args.text("--output", ""), all, FileElement::i32);
    std::printf("wrote %s: ids [%lld, %lld]\n", args.text("--output", "").c_str(), static_cast<long long>(batch),
                static_cast<long long>(all.shape[1]));
  }
  if (args.has("--check")) {
    // The whole sequence at once, without a cache: each run's last logits are those of
    // its last position there.
    const Graph whole = build_llama_model(config.model, {.batch = batch, .seq = all.shape[1]});
    TensorMap bindings = weights;
    bindings["ids"] = all;
    const Tensor reference = run_reference(whole, bindings).outputs.at("logits");
    const double tolerance = options.compile.f16_storage ? 2e-2 : 1e-4;
    double worst = 0;
    for (std::size_t r = 0; r < last_logits.size(); ++r)
      worst = std::max(worst, normalised_error(last_logits[r], logits_at(reference, prompt_tokens - 1 + std::int64_t(r))));
    const bool ok = worst <= tolerance;
    std::printf("logits of every run vs the reference over the whole sequence: normalised error %.3g (%s, tolerance %.0e)\n",
                worst, ok ? "ok" : "FAILED", tolerance);
    if (!ok) return 1;
  }
  return 0;
}

}  // namespace vkattn::cli
