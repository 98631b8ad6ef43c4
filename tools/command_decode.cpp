// vkattn decode: prefill a prompt, then decode step by step over a KV cache; time to
// first token and the device time of a step against the context length.
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <sstream>
#include <thread>
#include <chrono>

#include <nlohmann/json.hpp>
#include <vkattn/decoder.hpp>
#include <vkattn/reference.hpp>
#include <vkattn/vkattn.hpp>

#include "cli_options.hpp"
#include "commands.hpp"
#include "decode_files.hpp"
#include "device_context.hpp"
#include "graph_bindings.hpp"
#include "statistics.hpp"

namespace vkattn::cli {

const char* decode_help =
    "usage: vkattn decode GRAPH --cache N [--page-size P [--pages M]] [--prompt N] [--steps N]\n"
    "                     [--step-tokens N] [--at N,N,...] [--lengths L [--tokens T]] [--runs N]\n"
    "                     [--json]\n"
    "                     [--device SEL] [--target NAME]\n"
    "                     [--storage f16|f32] [sizes]\n"
    "       vkattn decode GRAPH --cache N --input NAME=FILE.npy... [--output NAME=FILE.npy]...\n"
    "                     [--check] [--prompt N] [--step-tokens N] [--weights FILE]\n"
    "Decodes with a KV cache on a Vulkan device, random inputs, and random weights unless\n"
    "--weights or a model folder gives them: one prefill\n"
    "of a prompt, then steps of a few tokens, each run appending to the cache on the\n"
    "device. Reports the prefill's device time (time to first token), the device time of\n"
    "each step against the context length it attends over, and the time to read the\n"
    "caches once at the memory bandwidth (--bandwidth) as the bound a step approaches when\n"
    "the context is long. Each size runs once untimed first (pipelines compile lazily on\n"
    "some drivers).\n"
    "  --cache N        positions each sequence's KV cache holds (presets mha, gqa,\n"
    "                   decoder_layer, llama_block, and model folders; a graph JSON file\n"
    "                   declares its own)\n"
    "  --weights FILE   weights by name (a safetensors file, a sharded index or its folder);\n"
    "                   a model folder as GRAPH binds its own\n"
    "  --prompt N       tokens of the prefill (128, at most the cache and --seq)\n"
    "  --seq N          a preset's most tokens of one run, prefill or step (the cache): memory\n"
    "                   is planned for it\n"
    "  --steps N        steps run after the prefill (16)\n"
    "  --step-tokens N  tokens per step (1)\n"
    "  --at N,N,...     also time steps at these context lengths (the cache holds that many\n"
    "                   positions, whatever their values): --runs steps at each\n"
    "  --runs N         steps timed at each --at length (5; the median is reported)\n"
    "  --lengths L      also time steps with each sequence at its own context length:\n"
    "                   A,B,... (repeated over the batch) or LO..HI (drawn evenly at random\n"
    "                   between them, --seed); reports tokens per second and the KV cache\n"
    "                   memory the sequences hold (a paged cache's pages in use) against the\n"
    "                   tokens they hold\n"
    "  --tokens T       with --sequences (a ragged batch): each sequence's new tokens in the\n"
    "                   --lengths steps, A,B,... or LO..HI as --lengths takes them (--step-tokens\n"
    "                   each): one run mixes prefills with single tokens\n"
    "  --seed N         the seed of --lengths and --tokens LO..HI (1)\n"
    "  --bandwidth X    the device's memory bandwidth in GB/s, to compare steps with reading\n"
    "                   the caches once; default on a CPU device (lavapipe): this machine's\n"
    "                   memory read bandwidth, measured here; elsewhere none\n"
    "  --json           print JSON instead of a table\n"
    "  --device SEL     a device index or part of its name (VKATTN_DEVICE; the preferred one)\n"
    "  --storage f16    hold every float tensor in f16 on the device (f32: as declared)\n"
    "From files: --input NAME=FILE.npy gives each input a run takes (all but the positions)\n"
    "the whole sequence along its dynamic axis ([batch, total, model] for a preset's x, ids\n"
    "[batch, total] for a model folder); the decoder prefills --prompt positions (128, at\n"
    "most the total) and steps through the rest --step-tokens at a time. A ragged batch\n"
    "(--sequences S) packs the sequences one after another along the token axis: --offsets\n"
    "O0,O1,...,OS says where each starts (0 first, the file's tokens last; even shares of the\n"
    "tokens when not given); each sequence prefills its own --prompt tokens at most, and each\n"
    "output is written in the same packing.\n"
    "  --offsets O,...  a ragged batch's sequence starts in the --input files (cumulative lengths)\n"
    "  --output NAME=FILE.npy  write an output's runs joined along its sequence axis\n"
    "  --check          compare the joined outputs with the CPU reference of the whole\n"
    "                   sequence in one run from empty caches (a causal pass); exit 1 if any\n"
    "                   differs (tolerance 1e-4, 5e-3 with --storage f16)\n";

namespace {

std::vector<std::int64_t> lengths_list(const std::string& text) {
  std::vector<std::int64_t> lengths;
  for (const std::string& item : comma_list(text)) {
    std::size_t used = 0;
    long long n = 0;
    try {
      n = std::stoll(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != item.size() || item.empty() || n < 0 || n > (1LL << 40))
      throw UsageError("--at takes context lengths from 0 to 2^40 separated by commas (128,1024,4096), not '" + text +
                       "'");
    lengths.push_back(n);
  }
  return lengths;
}

// Random inputs for `tokens` new tokens, whose dynamic dimension takes that size: every
// input but the positions and block table (the decoder's to fill); token ids lie within
// the vocabulary.
TensorMap step_inputs(const Graph& graph, std::int64_t tokens, std::uint64_t seed, const DecodeOptions& decoding) {
  DimSizes sizes;
  for (const DimSize& d : dynamic_dims(graph)) sizes.push_back({d.name, std::min(tokens, d.size)});
  TensorMap inputs = random_bindings(with_sizes(graph, sizes), seed);
  for (auto it = inputs.begin(); it != inputs.end();) {
    bool keep = false;
    for (const Node& node : graph.nodes())
      keep = keep || (node.op == Op::input && node.name.view() == it->first && it->first != decoding.positions &&
                      it->first != decoding.block_table);
    it = keep ? std::next(it) : inputs.erase(it);
  }
  return inputs;
}

// Bytes of every state tensor (the caches) that a step reads up to `context` positions
// of each sequence (a rolling cache holds at most its capacity; a paged pool holds
// `sequences` x context positions in its pages).
double cache_bytes(const Schedule& schedule, std::int64_t context, const Decoder& decoder) {
  double bytes = 0;
  for (const TensorSlot& slot : schedule.slots) {
    if (slot.role != SlotRole::state || slot.shape.rank != 4) continue;
    const double positions = decoder.paged() ? double(slot.shape[0] * slot.shape[2]) : double(slot.shape[2]);
    const double read = decoder.paged() ? double(decoder.batch() * std::min(context, decoder.capacity()))
                                        : double(std::min(context, slot.shape[2]));
    bytes += double(slot.bytes) * std::min(read, positions) / positions;
  }
  return bytes;
}

// The memory read bandwidth of this machine, bytes per second: every hardware thread
// summing its share of a buffer of at least `bytes` and 256 MiB (beyond the CPU's caches),
// best of five. It is the device's own memory bandwidth when the device is the CPU
// (lavapipe).
double host_read_bandwidth(double bytes) {
  const std::size_t words = std::max<std::size_t>(std::size_t(256) << 17, std::size_t(bytes / 8));
  std::vector<std::uint64_t> buffer(words);
  for (std::size_t i = 0; i < words; ++i) buffer[i] = i;
  const unsigned threads = std::max(1u, std::thread::hardware_concurrency());
  std::vector<std::uint64_t> sums(threads);
  double best = 0;
  for (int r = 0; r < 5; ++r) {
    const auto start = std::chrono::steady_clock::now();
    std::vector<std::thread> workers;
    for (unsigned t = 0; t < threads; ++t)
      workers.emplace_back([&, t] {
        std::uint64_t sum = 0;
        for (std::size_t i = words * t / threads; i < words * (t + 1) / threads; ++i) sum += buffer[i];
        sums[t] = sum;
      });
    for (std::thread& w : workers) w.join();
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    best = std::max(best, double(words) * 8.0 / seconds);
  }
  return best;
}

// Each of `batch` sequences' context length from --lengths: A,B,... repeated over the
// batch, or LO..HI drawn evenly at random between them.
std::vector<std::int64_t> sequence_lengths(const std::string& text, std::int64_t batch, std::uint64_t seed,
                                           const std::string& flag = "--lengths") {
  std::vector<std::int64_t> lengths;
  if (const std::size_t dots = text.find(".."); dots != std::string::npos) {
    const std::vector<std::int64_t> ends = lengths_list(text.substr(0, dots) + "," + text.substr(dots + 2));
    if (ends.size() != 2 || ends[0] > ends[1])
      throw UsageError(flag + " LO..HI takes two lengths, the lower first, not '" + text + "'");
    std::uint64_t state = seed * 0x9E3779B97F4A7C15ull + 1;
    for (std::int64_t b = 0; b < batch; ++b) {
      state ^= state << 13, state ^= state >> 7, state ^= state << 17;
      lengths.push_back(ends[0] + std::int64_t(state % std::uint64_t(ends[1] - ends[0] + 1)));
    }
    return lengths;
  }
  const std::vector<std::int64_t> listed = lengths_list(text);
  if (listed.empty()) throw UsageError(flag + " takes A,B,... or LO..HI, not '" + text + "'");
  for (std::int64_t b = 0; b < batch; ++b) lengths.push_back(listed[std::size_t(b) % listed.size()]);
  return lengths;
}

}  // namespace

int run_decode(const std::vector<std::string>& raw) {
  Arguments args(raw,
                 with_graph_flags({"--prompt", "--steps", "--step-tokens", "--at", "--runs", "--device", "--target",
                                   "--storage", "--bandwidth", "--weights", "--weights-prefix", "--seed", "--input",
                                   "--output", "--lengths", "--tokens", "--offsets"}),
                 with_graph_switches({"--json", "--check"}));
  if (args.has("--unfused")) throw UsageError("decode runs the fused schedule");
  Graph graph = load_graph(args);
  bool has_cache = false;
  for (const Node& node : graph.nodes()) has_cache = has_cache || is_cache_write(node.op);
  if (!has_cache)
    throw UsageError("graph '" + std::string(graph.name()) +
                     "' has no KV cache: give --cache N (positions per sequence) to a preset, or a graph JSON "
                     "file with state tensors and cache_write");
  const std::int64_t step_tokens = args.integer("--step-tokens", 1);
  const std::int64_t steps = args.integer("--steps", 16, 0);
  const std::int64_t runs = args.integer("--runs", 5);
  const std::vector<std::int64_t> at = lengths_list(args.text("--at", ""));
  const bool from_files = args.has("--input");
  if (!from_files && (args.has("--output") || args.has("--check")))
    throw UsageError("--output and --check go with --input: decoding the sequences of files");
  std::unique_ptr<Context> opened = open_context(args);
  Context& context = *opened;
  if (!from_files && !context.device().timestamps)
    throw std::runtime_error(context.device().name + " has no timestamp queries on its compute queue; cannot time");
  DecodeOptions options{.compile = compile_options(args), .step_tokens = step_tokens};
  options.compile.target = target_for(args, context);
  const TensorMap weights = graph_weights(graph, args, std::cerr);
  Decoder decoder(context, graph, weights, options);
  if (from_files) {
    const int code = decode_files(args, graph, decoder, weights, options.compile);
    check_validation(context);
    return code;
  }
  const std::int64_t capacity = decoder.capacity();
  // A ragged batch's runs give every sequence its tokens in one token axis: `share` rows
  // per token of each sequence.
  const std::int64_t share = decoder.ragged() ? decoder.batch() : 1;
  // The most tokens one run takes (a preset's --seq under --cache; the cache's otherwise);
  // in a ragged batch, of each sequence when they share a run evenly.
  std::int64_t run_bound = capacity, token_bound = capacity * share;
  for (const DimSize& d : dynamic_dims(graph)) token_bound = std::min(token_bound, d.size);
  run_bound = std::max<std::int64_t>(1, token_bound / share);
  if (args.has("--tokens") && !decoder.ragged())
    throw UsageError("--tokens gives each sequence its own count of new tokens: a ragged batch, --sequences S");
  if (args.has("--tokens") && !args.has("--lengths"))
    throw UsageError("--tokens sizes the steps of --lengths: give --lengths too");
  if (args.has("--offsets")) throw UsageError("--offsets places the sequences of --input files");
  const std::int64_t prompt = args.integer("--prompt", std::min<std::int64_t>(128, run_bound));
  for (const auto& [flag, tokens] : {std::pair<const char*, std::int64_t>{"--prompt", prompt}, {"--step-tokens", step_tokens}})
    if (tokens > run_bound && run_bound < capacity)
      throw UsageError(std::string(flag) + " " + std::to_string(tokens) + " exceeds " +
                       (decoder.ragged() ? "--seq / --sequences = " : "--seq ") + std::to_string(run_bound) +
                       ", the most tokens of one run" + (decoder.ragged() ? " for each sequence" : ""));
  if (prompt > capacity)
    throw UsageError("--prompt " + std::to_string(prompt) + " exceeds the cache of " + std::to_string(capacity) +
                     " positions");
  if (step_tokens > capacity)
    throw UsageError("--step-tokens " + std::to_string(step_tokens) + " exceeds the cache of " +
                     std::to_string(capacity) + " positions: no step would fit");
  const std::vector<std::int64_t> contexts =
      args.has("--lengths") ? sequence_lengths(args.text("--lengths", ""), decoder.batch(),
                                               std::uint64_t(args.integer("--seed", 1, 0)))
                            : std::vector<std::int64_t>{};
  // A ragged batch's new tokens per sequence in the --lengths steps.
  std::vector<std::int64_t> new_tokens =
      args.has("--tokens") ? sequence_lengths(args.text("--tokens", ""), decoder.batch(),
                                              std::uint64_t(args.integer("--seed", 1, 0)) + 1, "--tokens")
                           : std::vector<std::int64_t>(std::size_t(decoder.batch()), step_tokens);
  std::int64_t new_total = 0;
  for (std::int64_t count : new_tokens) new_total += count;
  if (new_total < 1 || (decoder.ragged() && new_total > token_bound))
    throw UsageError("--tokens adds up to " + std::to_string(new_total) + " tokens a step; a run takes 1 to " +
                     std::to_string(token_bound) + " (--seq)");
  for (std::size_t b = 0; b < contexts.size(); ++b)
    if (contexts[b] > capacity - new_tokens[b] * (runs + 1))
      throw UsageError("--lengths " + std::to_string(contexts[b]) + " leaves no room for " + std::to_string(runs + 1) +
                       " steps of " + std::to_string(new_tokens[b]) + " in the cache of " + std::to_string(capacity) +
                       " positions");
  for (std::int64_t length : at)
    if (length > capacity - step_tokens)
      throw UsageError("--at " + std::to_string(length) + " leaves no room for a step of " +
                       std::to_string(step_tokens) + " in the cache of " + std::to_string(capacity) + " positions");

  // Warm-up: the prefill's and a step's sizes once, untimed.
  decoder.prefill(step_inputs(graph, prompt * share, 2, options));
  if (prompt + step_tokens <= capacity) decoder.step(step_inputs(graph, step_tokens * share, 3, options));
  // Prefill, then steps from the end of the prompt.
  decoder.prefill(step_inputs(graph, prompt * share, 2, options));
  const double prefill_ms = decoder.executable().last_run_ms();
  struct Point {
    std::int64_t context;
    double ms;
    double attention_ms = 0;  // the attention dispatches of the step
  };
  auto attention_ms = [&]() {
    const Schedule& sized = decoder.executable().schedule();
    const std::vector<DispatchTiming>& timings = decoder.executable().timings();
    double ms = 0;
    for (std::size_t i = 0; i < timings.size() && i < sized.dispatches.size(); ++i)
      if (sized.dispatches[i].kernel == Kernel::flash_attention || sized.dispatches[i].kernel == Kernel::attention_combine)
        ms += timings[i].milliseconds;
    return ms;
  };
  std::vector<Point> stepped;
  for (std::int64_t s = 0; s < steps && decoder.lengths()[0] + step_tokens <= capacity; ++s) {
    const std::int64_t before = decoder.lengths()[0];
    decoder.step(step_inputs(graph, step_tokens * share, 3 + std::uint64_t(s), options));
    stepped.push_back({before + step_tokens, decoder.executable().last_run_ms()});
  }
  // Steps at chosen context lengths: the sequences jump there.
  std::vector<Point> measured;
  const TensorMap inputs = step_inputs(graph, step_tokens * share, 99, options);
  for (std::int64_t length : at) {
    std::vector<double> ms, attention;
    for (std::int64_t r = 0; r <= runs; ++r) {  // one warm-up
      for (std::int64_t b = 0; b < decoder.batch(); ++b) decoder.set_length(b, length);
      decoder.step(inputs);
      if (r == 0) continue;
      ms.push_back(decoder.executable().last_run_ms());
      attention.push_back(attention_ms());
    }
    measured.push_back({length + step_tokens, median(ms), median(attention)});
  }
  // Steps with every sequence at its own context length: tokens per second, and the
  // cache memory in use against the tokens held.
  struct Throughput {
    double ms = 0, tokens_per_s = 0, held_bytes = 0, token_bytes = 0, allocated_bytes = 0;
    std::int64_t tokens = 0;
  } throughput;
  if (!contexts.empty()) {
    for (std::int64_t b = 0; b < decoder.batch(); ++b) decoder.set_length(b, contexts[std::size_t(b)]);
    const TensorMap packed = step_inputs(graph, decoder.ragged() ? new_total : step_tokens, 98, options);
    std::vector<double> ms;
    for (std::int64_t r = 0; r <= runs; ++r) {  // one warm-up
      if (decoder.ragged()) decoder.step(packed, new_tokens);
      else decoder.step(packed);
      if (r > 0) ms.push_back(decoder.executable().last_run_ms());
    }
    throughput.ms = median(ms);
    throughput.tokens_per_s = double(decoder.ragged() ? new_total : decoder.batch() * step_tokens) /
                              (throughput.ms * 1e-3);
    for (std::int64_t length : decoder.lengths()) throughput.tokens += length;
    // Bytes of one position of one sequence over every cache: a contiguous cache's row
    // of each state tensor, a pool page's row.
    double per_position = 0;
    for (const TensorSlot& slot : decoder.executable().schedule().slots)
      if (slot.role == SlotRole::state) {
        throughput.allocated_bytes += double(slot.bytes);
        per_position += double(slot.bytes) / double(slot.shape.elements()) * double(slot.shape[1] * slot.shape[3]);
      }
    throughput.token_bytes = per_position * double(throughput.tokens);
    throughput.held_bytes = decoder.paged() ? per_position * double(decoder.pages_used() * decoder.page_size())
                                            : throughput.allocated_bytes;
  }
  const Schedule& step_schedule = decoder.executable().schedule();
  const double largest = cache_bytes(step_schedule, capacity, decoder);
  const double bandwidth = args.has("--bandwidth") ? args.number("--bandwidth", 0, 1e-3, 1e6) * 1e9
                           : context.device().type == DeviceType::cpu && !at.empty() ? host_read_bandwidth(largest)
                                                                                        : 0.0;
  check_validation(context);
  const ExecutableStats stats = decoder.executable().stats();

  if (args.has("--json")) {
    nlohmann::json doc{{"format", "vkattn.decode"},
                       {"version", 1},
                       {"device", context.device().name},
                       {"graph", std::string(graph.name())},
                       {"batch", decoder.batch()},
                       {"ragged", decoder.ragged()},
                       {"cache", capacity},
                       {"prompt", prompt},
                       {"step_tokens", step_tokens},
                       {"prefill_ms", prefill_ms},
                       {"weight_bytes", step_schedule.weight_bytes},
                       {"bandwidth_gbytes_per_s", bandwidth * 1e-9},
                       {"pipelines", stats.pipelines},
                       {"recordings", stats.recordings}};
    nlohmann::json steps_json = nlohmann::json::array(), at_json = nlohmann::json::array();
    for (const Point& p : stepped) steps_json.push_back({{"context", p.context}, {"ms", p.ms}});
    for (const Point& p : measured) {
      const double bytes = cache_bytes(step_schedule, p.context, decoder);
      at_json.push_back({{"context", p.context},
                         {"ms_median", p.ms},
                         {"attention_ms_median", p.attention_ms},
                         {"cache_bytes", bytes},
                         {"cache_read_ms_at_bandwidth", bandwidth > 0 ? bytes / bandwidth * 1e3 : 0.0}});
    }
    doc["steps"] = steps_json;
    doc["at"] = at_json;
    if (!contexts.empty())
      doc["lengths"] = {{"contexts", contexts},
                        {"new_tokens", new_tokens},
                        {"paged", decoder.paged()},
                        {"step_ms_median", throughput.ms},
                        {"tokens_per_s", throughput.tokens_per_s},
                        {"tokens_held", throughput.tokens},
                        {"cache_bytes_held", throughput.held_bytes},
                        {"cache_bytes_of_tokens", throughput.token_bytes},
                        {"cache_bytes_allocated", throughput.allocated_bytes}};
    std::cout << doc.dump(2) << "\n";
    return 0;
  }
  std::printf("%s on %s: %s %lld, cache %lld positions, steps of %lld token%s\n",
              std::string(graph.name()).c_str(), context.device().name.c_str(),
              decoder.ragged() ? "ragged batch of sequences" : "batch", static_cast<long long>(decoder.batch()),
              static_cast<long long>(capacity),
              static_cast<long long>(step_tokens), step_tokens == 1 ? "" : "s");
  std::printf("prefill of %lld tokens (time to first token): %.3f ms\n", static_cast<long long>(prompt), prefill_ms);
  if (!stepped.empty()) {
    std::vector<double> ms;
    for (const Point& p : stepped) ms.push_back(p.ms);
    std::printf("%zu steps after it (context %lld to %lld): median %.3f ms, min %.3f ms, max %.3f ms\n",
                stepped.size(), static_cast<long long>(stepped.front().context),
                static_cast<long long>(stepped.back().context), median(ms), *std::min_element(ms.begin(), ms.end()),
                *std::max_element(ms.begin(), ms.end()));
  }
  if (!measured.empty()) {
    if (bandwidth > 0)
      std::printf("memory bandwidth: %.2f GB/s (%s)\n", bandwidth * 1e-9,
                  args.has("--bandwidth") ? "--bandwidth" : "this machine's, read by every thread");
    // A step reads the caches up to its context and every weight at least once.
    const double weight_bytes = double(step_schedule.weight_bytes);
    std::printf("weights %.2f MiB, read by every step\n", weight_bytes / 1048576.0);
    std::printf("  context   step ms   attention ms   cache MiB   attention GB/s   cache read ms   step / cache read"
                "   step / (cache + weights) read\n");
    for (const Point& p : measured) {
      const double bytes = cache_bytes(step_schedule, p.context, decoder);
      const double read_ms = bandwidth > 0 ? bytes / bandwidth * 1e3 : 0.0;
      const double all_ms = bandwidth > 0 ? (bytes + weight_bytes) / bandwidth * 1e3 : 0.0;
      std::printf("  %7lld  %8.3f  %13.3f  %10.2f  %15.2f  %14.3f  %16.2fx  %29.2fx\n", static_cast<long long>(p.context),
                  p.ms, p.attention_ms, bytes / 1048576.0, p.attention_ms > 0 ? bytes / (p.attention_ms * 1e6) : 0.0,
                  read_ms, read_ms > 0 ? p.ms / read_ms : 0.0, all_ms > 0 ? p.ms / all_ms : 0.0);
    }
  }
  if (!contexts.empty()) {
    const auto [low, high] = std::minmax_element(contexts.begin(), contexts.end());
    std::printf("%lld sequences at contexts %lld to %lld (%lld tokens held): step %.3f ms, %.1f tokens/s\n",
                static_cast<long long>(decoder.batch()), static_cast<long long>(*low), static_cast<long long>(*high),
                static_cast<long long>(throughput.tokens), throughput.ms, throughput.tokens_per_s);
    if (args.has("--tokens")) {
      std::string counts;
      for (std::int64_t count : new_tokens) {
        if (!counts.empty()) counts += ',';
        counts += std::to_string(count);
      }
      std::printf("one ragged run of %lld new tokens: %s\n", static_cast<long long>(new_total), counts.c_str());
    }
    std::printf("KV cache: %.2f MiB %s for %.2f MiB of tokens held (%.3fx); %.2f MiB allocated\n",
                throughput.held_bytes / 1048576.0, decoder.paged() ? "in pages in use" : "(contiguous, full capacity)",
                throughput.token_bytes / 1048576.0, throughput.held_bytes / std::max(throughput.token_bytes, 1.0),
                throughput.allocated_bytes / 1048576.0);
  }
  std::printf("%d pipelines, %d recordings (one per run size) for %d runs\n", stats.pipelines, stats.recordings,
              stats.runs);
  return 0;
}

}  // namespace vkattn::cli
