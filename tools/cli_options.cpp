#include "cli_options.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>

#include <vkattn/graph_json.hpp>
#include <vkattn/model_config.hpp>

namespace vkattn::cli {

Arguments::Arguments(const std::vector<std::string>& args, const std::vector<std::string>& valued,
                     const std::vector<std::string>& switches) {
  auto contains = [](const std::vector<std::string>& list, const std::string& s) {
    return std::find(list.begin(), list.end(), s) != list.end();
  };
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a.rfind("--", 0) != 0) {
      positional_.push_back(a);
      continue;
    }
    if (contains(switches, a)) {
      values_[a].push_back("");
    } else if (contains(valued, a)) {
      if (i + 1 >= args.size()) throw UsageError(a + " needs a value");
      values_[a].push_back(args[++i]);
    } else {
      throw UsageError("unknown option " + a);
    }
  }
}

std::string Arguments::text(const std::string& flag, const std::string& fallback) const {
  auto it = values_.find(flag);
  if (it == values_.end()) return fallback;
  if (it->second.size() > 1) throw UsageError(flag + " is given " + std::to_string(it->second.size()) + " times");
  return it->second.front();
}

std::vector<std::string> Arguments::all(const std::string& flag) const {
  auto it = values_.find(flag);
  return it == values_.end() ? std::vector<std::string>{} : it->second;
}

Assignment parse_assignment(const std::string& flag, const std::string& text) {
  std::size_t at = text.find('=');
  if (at == std::string::npos || at == 0 || at + 1 == text.size())
    throw UsageError(flag + " takes NAME=FILE, not '" + text + "'");
  return {text.substr(0, at), text.substr(at + 1)};
}

std::vector<std::string> with_graph_flags(std::vector<std::string> own) {
  own.insert(own.end(), graph_flags.begin(), graph_flags.end());
  return own;
}

CompileOptions compile_options(const Arguments& args) {
  const std::string storage = args.text("--storage", "f32");
  if (storage != "f32" && storage != "f16") throw UsageError("--storage is f16 or f32, not '" + storage + "'");
  CompileOptions options{.fuse = !args.has("--unfused"), .f16_storage = storage == "f16"};
  // A preset under --cache with --seq: the kernels are chosen for runs of that many tokens.
  if (args.has("--cache") && args.has("--seq") && !args.positional().empty() && !is_graph_file(args.positional()[0]))
    options.tune_for.push_back({args.has("--sequences") ? "tokens" : "seq", args.integer("--seq", 1)});
  return options;
}

std::vector<std::string> with_graph_switches(std::vector<std::string> own) {
  own.insert(own.end(), graph_switches.begin(), graph_switches.end());
  return own;
}

std::int64_t Arguments::integer(const std::string& flag, std::int64_t fallback, std::int64_t minimum,
                                std::int64_t maximum) const {
  if (!has(flag)) return fallback;
  const std::string value = text(flag, "");
  std::size_t used = 0;
  std::int64_t v = 0;
  try {
    v = std::stoll(value, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != value.size() || value.empty()) throw UsageError(flag + " needs a whole number, not '" + value + "'");
  if (v < minimum) throw UsageError(flag + " must be at least " + std::to_string(minimum) + ", not " + value);
  if (v > maximum) throw UsageError(flag + " must be at most " + std::to_string(maximum) + ", not " + value);
  return v;
}

double Arguments::number(const std::string& flag, double fallback, double minimum, double maximum) const {
  if (!has(flag)) return fallback;
  const std::string value = text(flag, "");
  std::size_t used = 0;
  double v = 0;
  try {
    v = std::stod(value, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != value.size() || value.empty() || !std::isfinite(v))
    throw UsageError(flag + " needs a number, not '" + value + "'");
  if (v < minimum || v > maximum)
    throw UsageError(flag + " must lie in [" + std::to_string(minimum) + ", " + std::to_string(maximum) + "], not " + value);
  return v;
}

std::vector<std::string> comma_list(const std::string& text) {
  std::vector<std::string> items;
  std::string item;
  std::istringstream in(text);
  while (std::getline(in, item, ',')) items.push_back(item);
  if (!text.empty() && text.back() == ',') items.push_back("");
  return items;
}

bool is_graph_file(const std::string& graph) {
  return graph.size() > 5 && graph.substr(graph.size() - 5) == ".json";
}

std::optional<std::string> model_folder(const Arguments& args) {
  if (args.positional().empty() || !is_model_folder(args.positional()[0])) return std::nullopt;
  return args.positional()[0];
}

namespace {

// A model folder's graph: its config.json, sized by the model flags.
Graph load_model(const Arguments& args, const std::string& folder) {
  for (const std::string& flag : graph_flags)
    if (args.has(flag) && std::find(model_flags.begin(), model_flags.end(), flag) == model_flags.end())
      throw UsageError(flag + " sizes a preset; a model folder's config.json gives its own sizes");
  for (const std::string& flag : graph_switches)
    if (args.has(flag) && std::find(model_flags.begin(), model_flags.end(), flag) == model_flags.end())
      throw UsageError(flag + " shapes a preset; a model folder's config.json gives its own graph");
  const LlamaConfig config = read_llama_config(folder);
  ModelGraphOptions o;
  o.batch = args.integer("--batch", 1);
  o.cache = args.integer("--cache", 0, 0, std::int64_t(1) << 24);
  o.seq = args.integer("--seq", o.cache > 0 ? o.cache : 128);
  o.f16 = args.has("--f16");
  o.unrolled = args.has("--unroll");
  const std::string logits = args.text("--logits", "all");
  if (logits != "all" && logits != "last") throw UsageError("--logits is all or last, not '" + logits + "'");
  o.last_position_only = logits == "last";
  if (o.cache > 0 && o.seq > o.cache)
    throw UsageError("--seq " + std::to_string(o.seq) + " is more than --cache " + std::to_string(o.cache) +
                     ": a run appends at most the cache's positions");
  if (config.max_positions > 0 && std::max(o.seq, o.cache) > config.max_positions)
    throw UsageError(folder + "/config.json: max_position_embeddings is " + std::to_string(config.max_positions) +
                     ", fewer than the " + std::to_string(std::max(o.seq, o.cache)) +
                     " positions asked for (--seq / --cache)");
  Graph graph;
  try {
    graph = build_llama_model(config.model, o);
  } catch (const std::invalid_argument& e) {
    throw UsageError(e.what());
  }
  if (o.cache > 0 && args.has("--seq")) {
    DimSizes sizes;
    sizes.push_back({"seq", o.seq});
    graph = with_sizes(graph, sizes);
  }
  return graph;
}

}  // namespace

Graph load_graph(const Arguments& args) {
  if (args.positional().empty()) throw UsageError("missing GRAPH");
  if (args.positional().size() > 1) throw UsageError("unexpected argument '" + args.positional()[1] + "'");
  const std::string& name = args.positional()[0];
  if (is_model_folder(name)) return load_model(args, name);
  if (is_graph_file(name)) {
    for (const std::string& flag : graph_flags)
      if (args.has(flag)) throw UsageError(flag + " sizes a preset; a graph JSON file has its own sizes");
    for (const std::string& flag : graph_switches)
      if (args.has(flag)) throw UsageError(flag + " shapes a preset; a graph JSON file declares its own graph");
    return load_graph_json(name);
  }
  if (args.has("--logits")) throw UsageError("--logits applies to a model folder");
  PresetOptions o;
  o.name = name;
  o.batch = args.integer("--batch", o.batch);
  o.seq = args.integer("--seq", o.seq);
  o.kv_seq = args.integer("--kv-seq", 0, 0);
  o.model = args.integer("--model", o.model);
  o.heads = args.integer("--heads", o.heads);
  o.kv_heads = args.integer("--kv-heads", 0, 0);
  o.f16 = args.has("--f16");
  o.norm_first = args.has("--norm-first");
  o.ffn_hidden = args.integer("--ffn", 0, 1);
  o.layers = args.integer("--layers", 1, 1, 512);
  o.unrolled = args.has("--unroll");
  if (o.unrolled && o.layers == 1) throw UsageError("--unroll writes out a stack of layers: give --layers N > 1");
  o.rope_theta = args.number("--rope-theta", o.rope_theta, 1.0 + 1e-9, 1e12);
  o.cache = args.integer("--cache", 0, 0, std::int64_t(1) << 24);
  o.rms_eps = args.number("--rms-eps", o.rms_eps, 1e-12, 0.5);
  o.window = args.integer("--window", 0, 1, std::int64_t(1) << 24);
  o.page_size = args.integer("--page-size", 0, 1, std::int64_t(1) << 24);
  o.pages = args.integer("--pages", 0, 1, std::int64_t(1) << 30);
  if (o.pages > 0 && o.page_size == 0) throw UsageError("--pages sizes a paged cache: give --page-size P too");
  if (o.page_size > 0 && o.cache == 0) throw UsageError("--page-size pages a KV cache: give --cache N too");
  if (args.has("--sequences")) {
    if (args.has("--batch"))
      throw UsageError("--sequences N is a ragged batch of N sequences; it replaces --batch, give one of them");
    if (o.page_size == 0)
      throw UsageError("--sequences packs the tokens of sequences that page one KV cache: give --cache N and "
                       "--page-size P too");
    o.batch = args.integer("--sequences", 1, 1, 1 << 16);
    o.ragged = true;
  }
  if (args.has("--self-mask")) {
    const std::string self = args.text("--self-mask", "");
    if (self != "none" && self != "causal") throw UsageError("--self-mask is none or causal, not '" + self + "'");
    o.self_mask = self == "none" ? Mask::none : Mask::causal;
  }
  // Sizes the graph would refuse, named by the flags that set them.
  if (o.model % o.heads != 0)
    throw UsageError("--model " + std::to_string(o.model) + " is not divisible by --heads " + std::to_string(o.heads) +
                     "; choose a model width that is a multiple of the head count");
  if (o.kv_heads > 0 && o.heads % o.kv_heads != 0)
    throw UsageError("--heads " + std::to_string(o.heads) + " is not a multiple of --kv-heads " +
                     std::to_string(o.kv_heads) + "; each key/value head serves an equal share of query heads");
  const std::string activation = args.text("--activation", "relu");
  const std::optional<Activation> parsed = activation_from_name(activation);
  if (!parsed || *parsed == Activation::none)
    throw UsageError("--activation is " + activation_choices() + ", not '" + activation + "'");
  o.activation = *parsed;
  std::string mask = args.text("--mask", "none");
  if (mask == "none") o.mask = Mask::none;
  else if (mask == "causal") o.mask = Mask::causal;
  else if (mask == "padding") o.mask = Mask::padding;
  else throw UsageError("--mask is causal, padding or none, not '" + mask + "'");
  // Under --cache, x is [batch, seq<=N, model] with N the tokens of one run at most:
  // --seq, else the cache's.
  if (o.cache > 0 && args.has("--seq")) {
    const std::int64_t most = o.window > 0 ? o.cache - o.window + 1 : o.cache;
    if (o.seq > most)
      throw UsageError("--seq " + std::to_string(o.seq) + " is more than " +
                       (o.window > 0 ? "--cache - --window + 1 = " + std::to_string(most) +
                                           ": a run appends at most that many tokens to a rolling cache"
                                     : "--cache " + std::to_string(o.cache) + ": a run appends at most the cache's positions"));
    o.run_tokens = o.seq;
  }
  try {
    return build_preset(o);
  } catch (const std::invalid_argument& e) {
    throw UsageError(e.what());
  }
}

}  // namespace vkattn::cli
