#include "cli_options.hpp"

#include <algorithm>

#include <vkattn/graph_json.hpp>

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
      values_[a] = "";
    } else if (contains(valued, a)) {
      if (i + 1 >= args.size()) throw UsageError(a + " needs a value");
      values_[a] = args[++i];
    } else {
      throw UsageError("unknown option " + a);
    }
  }
}

std::string Arguments::text(const std::string& flag, const std::string& fallback) const {
  auto it = values_.find(flag);
  return it == values_.end() ? fallback : it->second;
}

std::int64_t Arguments::integer(const std::string& flag, std::int64_t fallback, std::int64_t minimum) const {
  auto it = values_.find(flag);
  if (it == values_.end()) return fallback;
  std::size_t used = 0;
  std::int64_t v = 0;
  try {
    v = std::stoll(it->second, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != it->second.size() || it->second.empty())
    throw UsageError(flag + " needs a whole number, not '" + it->second + "'");
  if (v < minimum) throw UsageError(flag + " must be at least " + std::to_string(minimum) + ", not " + it->second);
  return v;
}

Graph load_graph(const Arguments& args) {
  if (args.positional().empty()) throw UsageError("missing GRAPH");
  if (args.positional().size() > 1) throw UsageError("unexpected argument '" + args.positional()[1] + "'");
  const std::string& name = args.positional()[0];
  if (name.size() > 5 && name.substr(name.size() - 5) == ".json") return load_graph_json(name);
  PresetOptions o;
  o.name = name;
  o.batch = args.integer("--batch", o.batch);
  o.seq = args.integer("--seq", o.seq);
  o.kv_seq = args.integer("--kv-seq", 0, 0);
  o.model = args.integer("--model", o.model);
  o.heads = args.integer("--heads", o.heads);
  o.kv_heads = args.integer("--kv-heads", 0, 0);
  std::string mask = args.text("--mask", "none");
  if (mask == "none") o.mask = Mask::none;
  else if (mask == "causal") o.mask = Mask::causal;
  else if (mask == "padding") o.mask = Mask::padding;
  else throw UsageError("--mask is causal, padding or none, not '" + mask + "'");
  try {
    return build_preset(o);
  } catch (const std::invalid_argument& e) {
    throw UsageError(e.what());
  }
}

}  // namespace vkattn::cli
