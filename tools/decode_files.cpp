// vkattn decode --input: decoding driven by files and checked against the reference.
#include "decode_files.hpp"

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <map>

#include <vkattn/reference.hpp>
#include <vkattn/tensor_files.hpp>

#include "text_output.hpp"

namespace vkattn::cli {

namespace {

// The axis of `shape` that is dynamic (the sequence a run appends), or -1.
int dynamic_axis(const Shape& shape) {
  for (int axis = 0; axis < shape.rank; ++axis)
    if (shape.dynamic(axis)) return axis;
  return -1;
}

// Positions [first, first + count) of `t` along `axis`.
Tensor take(const Tensor& t, int axis, std::int64_t first, std::int64_t count) {
  Tensor out;
  out.dtype = t.dtype;
  out.shape = t.shape;
  out.shape[axis] = count;
  std::int64_t outer = 1, inner = 1;
  for (int a = 0; a < axis; ++a) outer *= t.shape[a];
  for (int a = axis + 1; a < t.shape.rank; ++a) inner *= t.shape[a];
  for (std::int64_t o = 0; o < outer; ++o) {
    const auto from = t.values.begin() + std::ptrdiff_t((o * t.shape[axis] + first) * inner);
    out.values.insert(out.values.end(), from, from + std::ptrdiff_t(count * inner));
  }
  return out;
}

// `parts` joined along `axis` (every other axis equal).
Tensor join(const std::vector<Tensor>& parts, int axis) {
  Tensor out = parts.front();
  std::int64_t total = 0;
  for (const Tensor& p : parts) total += p.shape[axis];
  out.shape[axis] = total;
  out.values.clear();
  std::int64_t outer = 1, inner = 1;
  for (int a = 0; a < axis; ++a) outer *= out.shape[a];
  for (int a = axis + 1; a < out.shape.rank; ++a) inner *= out.shape[a];
  for (std::int64_t o = 0; o < outer; ++o)
    for (const Tensor& p : parts) {
      const auto from = p.values.begin() + std::ptrdiff_t(o * p.shape[axis] * inner);
      out.values.insert(out.values.end(), from, from + std::ptrdiff_t(p.shape[axis] * inner));
    }
  return out;
}

}  // namespace

int decode_files(const Arguments& args, const Graph& graph, Decoder& decoder, const TensorMap& weights,
                 const CompileOptions& options) {
  for (const char* flag : {"--steps", "--at", "--runs", "--json", "--bandwidth"})
    if (args.has(flag))
      throw UsageError(std::string(flag) + " times random steps; with --input the files' tokens are decoded");
  const std::string positions = DecodeOptions{}.positions, table = DecodeOptions{}.block_table;
  auto decoder_fills = [&](std::string_view name) { return name == positions || (decoder.paged() && name == table); };
  // Every input of a run but the positions and block table: from its file, the whole
  // sequence along its dynamic axis.
  TensorMap sequences;
  std::int64_t total = -1;
  std::string sized_by;
  for (const std::string& text : args.all("--input")) {
    const Assignment a = parse_assignment("--input", text);
    const Node* input = nullptr;
    for (const Node& n : graph.nodes())
      if (n.op == Op::input && n.name.view() == a.name && !decoder_fills(a.name)) input = &n;
    if (!input)
      throw UsageError("--input " + a.name + ": the graph has no input '" + a.name + "' a run takes" +
                       (decoder_fills(a.name) ? " (the decoder fills it)" : ""));
    if (sequences.count(a.name)) throw UsageError("--input " + a.name + " is given more than once");
    Tensor t = read_npy(a.file);
    const int axis = dynamic_axis(input->shape);
    Shape expected = input->shape;
    if (axis >= 0 && t.shape.rank == expected.rank) expected[axis] = t.shape[axis];
    if (t.shape.rank != expected.rank || !same_sizes(t.shape, expected) || (axis >= 0 && t.shape[axis] < 1))
      throw BindingError(a.file + ": holds shape " + to_string(t.shape) + " but input '" + a.name + "' is declared " +
                         to_string(input->shape) +
                         (axis >= 0 ? " (the file holds the whole sequence: any length along the dynamic axis)" : ""));
    if ((t.dtype == DType::i32) != (input->dtype == DType::i32))
      throw BindingError(a.file + ": holds " + (t.dtype == DType::i32 ? "integers" : "floating-point values") +
                         " but input '" + a.name + "' is " + std::string(dtype_name(input->dtype)));
    t.dtype = input->dtype;
    if (axis >= 0) {
      if (total >= 0 && t.shape[axis] != total)
        throw BindingError(a.file + ": holds " + std::to_string(t.shape[axis]) + " positions but " + sized_by + " holds " +
                           std::to_string(total) + "; every sequence file holds the same positions");
      total = t.shape[axis];
      sized_by = a.file;
    }
    sequences[a.name] = std::move(t);
  }
  for (const Node& n : graph.nodes())
    if (n.op == Op::input && !decoder_fills(n.name.view()) && !sequences.count(std::string(n.name.view())))
      throw UsageError("--input: the graph's input '" + std::string(n.name.view()) + "' " + to_string(n.shape) +
                       " has no file; give --input " + std::string(n.name.view()) + "=FILE.npy");
  if (total < 0) throw UsageError("--input: no input has a dynamic dimension, so there is no sequence to decode");
  // A ragged batch's sequences lie one after another along the token axis: each one's
  // first token (--offsets, cumulative lengths), the file's tokens last.
  std::vector<std::int64_t> starts;
  if (args.has("--offsets") && !decoder.ragged())
    throw UsageError("--offsets places the sequences of a ragged batch (--sequences S); graph '" +
                     std::string(graph.name()) + "' gives every sequence its own row of the inputs");
  if (decoder.ragged()) {
    const std::int64_t sequences = decoder.batch();
    if (args.has("--offsets")) {
      for (const std::string& item : comma_list(args.text("--offsets", ""))) {
        std::size_t used = 0;
        long long n = -1;
        try {
          n = std::stoll(item, &used);
        } catch (const std::exception&) {
          used = 0;
        }
        if (used != item.size() || n < 0) throw UsageError("--offsets takes token indices 0,A,B,..., not '" + item + "'");
        starts.push_back(n);
      }
      if (std::int64_t(starts.size()) != sequences + 1 || starts.front() != 0 || starts.back() != total ||
          !std::is_sorted(starts.begin(), starts.end()))
        throw UsageError("--offsets gives " + std::to_string(starts.size()) + " offsets; the " +
                         std::to_string(sequences) + " sequences take " + std::to_string(sequences + 1) +
                         ", rising from 0 to the files' " + std::to_string(total) + " tokens");
    } else {
      if (total % sequences != 0)
        throw UsageError("the files hold " + std::to_string(total) + " tokens, which do not split evenly among the " +
                         std::to_string(sequences) + " sequences: give --offsets 0,...," + std::to_string(total));
      for (std::int64_t b = 0; b <= sequences; ++b) starts.push_back(b * total / sequences);
    }
    for (std::int64_t b = 0; b < sequences; ++b)
      if (starts[std::size_t(b + 1)] - starts[std::size_t(b)] > decoder.capacity())
        throw BindingError("sequence " + std::to_string(b) + " holds " +
                           std::to_string(starts[std::size_t(b + 1)] - starts[std::size_t(b)]) +
                           " tokens, more than the cache's " + std::to_string(decoder.capacity()) +
                           " (nothing was run: give a larger --cache)");
  } else if (total > decoder.capacity()) {
    throw BindingError(sized_by + " holds " + std::to_string(total) + " positions, more than the cache's " +
                       std::to_string(decoder.capacity()) + " (nothing was run: give a larger --cache)");
  }
  const std::int64_t step_tokens = args.integer("--step-tokens", 1);
  const std::int64_t prompt = std::min(args.integer("--prompt", std::min<std::int64_t>(128, total)), total);
  std::vector<Assignment> outputs;
  for (const std::string& text : args.all("--output")) {
    Assignment a = parse_assignment("--output", text);
    bool known = false;
    for (const Node& n : graph.nodes()) known = known || (n.op == Op::output && n.name.view() == a.name);
    if (!known) throw UsageError("--output " + a.name + ": the graph has no output '" + a.name + "'");
    check_writable("--output " + a.name, a.file);
    outputs.push_back(a);
  }

  // The runs: the prompt, then steps; each output's runs kept in order.
  std::map<std::string, std::vector<Tensor>> runs;
  std::int64_t runs_made = 0;
  TensorMap joined;
  if (decoder.ragged()) {
    // Each sequence its own prompt (up to --prompt of its tokens), then up to
    // --step-tokens of the rest a run, every sequence's share packed into one run; the
    // outputs are gathered back per sequence and packed as the inputs were.
    const std::size_t count_of = std::size_t(decoder.batch());
    auto packed_axis = [&](const std::string& name) {
      for (const Node& n : graph.nodes())
        if (n.op == Op::input && n.name.view() == name) return dynamic_axis(n.shape) == 0;
      return false;
    };
    std::vector<std::int64_t> done(count_of, 0);
    std::vector<std::map<std::string, std::vector<Tensor>>> per_sequence(count_of);
    decoder.reset();
    for (;; ++runs_made) {
      std::vector<std::int64_t> counts(count_of, 0);
      for (std::size_t b = 0; b < count_of; ++b)
        counts[b] = std::min(runs_made == 0 ? prompt : step_tokens, starts[b + 1] - starts[b] - done[b]);
      if (std::all_of(counts.begin(), counts.end(), [](std::int64_t c) { return c == 0; })) break;
      std::int64_t run_total = 0;
      for (std::int64_t c : counts) run_total += c;
      for (const DimSize& d : dynamic_dims(graph))
        if (run_total > d.size)
          throw UsageError("a run of " + std::to_string(run_total) + " tokens (each sequence's --prompt or " +
                           "--step-tokens) exceeds the graph's " + std::to_string(d.size) +
                           " tokens of one run; give a smaller --prompt or --step-tokens, or a larger --seq");
      TensorMap inputs;
      for (const auto& [name, t] : sequences) {
        if (!packed_axis(name)) {
          inputs[name] = t;
          continue;
        }
        std::vector<Tensor> parts;
        for (std::size_t b = 0; b < count_of; ++b)
          if (counts[b] > 0) parts.push_back(take(t, 0, starts[b] + done[b], counts[b]));
        inputs[name] = join(parts, 0);
      }
      const TensorMap result = decoder.step(inputs, counts);
      for (std::size_t b = 0; b < count_of; ++b) {
        if (counts[b] == 0) continue;
        for (const auto& [name, t] : sequence_rows(result, counts, std::int64_t(b))) per_sequence[b][name].push_back(t);
        done[b] += counts[b];
      }
    }
    for (const Node& n : graph.nodes()) {
      if (n.op != Op::output) continue;
      const std::string name(n.name.view());
      std::vector<Tensor> parts;
      for (auto& sequence : per_sequence)
        if (sequence.count(name)) parts.push_back(join(sequence.at(name), 0));
      joined[name] = join(parts, 0);
    }
  }
  for (std::int64_t first = 0; !decoder.ragged() && first < total; ++runs_made) {
    const std::int64_t count = first == 0 ? prompt : std::min(step_tokens, total - first);
    TensorMap inputs;
    for (const auto& [name, t] : sequences) {
      int axis = -1;
      for (const Node& n : graph.nodes())
        if (n.op == Op::input && n.name.view() == name) axis = dynamic_axis(n.shape);
      inputs[name] = axis >= 0 ? take(t, axis, first, count) : t;
    }
    const TensorMap result = first == 0 ? decoder.prefill(inputs) : decoder.step(inputs);
    for (const auto& [name, t] : result) runs[name].push_back(t);
    first += count;
  }
  for (const Node& n : graph.nodes()) {
    if (decoder.ragged() || n.op != Op::output) continue;
    const std::string name(n.name.view());
    const int axis = dynamic_axis(n.shape);
    joined[name] = axis >= 0 ? join(runs.at(name), axis) : runs.at(name).back();
  }
  std::printf("%s: decoded %lld positions of %lld sequence%s: a prefill of %lld, then %lld step%s of up to %lld\n",
              std::string(graph.name()).c_str(), static_cast<long long>(total), static_cast<long long>(decoder.batch()),
              decoder.batch() == 1 ? "" : "s", static_cast<long long>(prompt), static_cast<long long>(runs_made - 1),
              runs_made == 2 ? "" : "s", static_cast<long long>(step_tokens));

  bool passed = true;
  if (args.has("--check")) {
    // The whole sequence in one run from empty caches: causal attention over the cache.
    DimSizes sizes;
    for (const DimSize& d : dynamic_dims(graph)) {
      if (total > d.size)
        throw UsageError("--check runs the whole sequence at once, but " + std::to_string(total) +
                         " positions exceed the graph's bound of " + std::to_string(d.size) + " for `" +
                         std::string(d.name.text().view()) + "` (a rolling cache holds fewer positions than it decodes)");
      sizes.push_back({d.name, total});
    }
    TensorMap bindings = weights;
    for (const auto& [name, t] : sequences) bindings[name] = t;
    bindings[positions] = Tensor::zeros(Shape{decoder.batch()}, DType::i32);
    if (decoder.ragged()) {  // each token at its place in its sequence, each sequence its own pages
      const std::int64_t row = decoder.capacity() / decoder.page_size();
      Tensor at = Tensor::zeros(Shape{total}, DType::i32), block_table = Tensor::zeros(Shape{total, row}, DType::i32);
      std::int64_t first_page = 0;
      for (std::size_t b = 0; b + 1 < starts.size(); ++b) {
        const std::int64_t used = (starts[b + 1] - starts[b] + decoder.page_size() - 1) / decoder.page_size();
        for (std::int64_t t = starts[b]; t < starts[b + 1]; ++t) {
          at.values[std::size_t(t)] = double(t - starts[b]);
          for (std::int64_t e = 0; e < row; ++e)
            block_table.values[std::size_t(t * row + e)] = e < used ? double(first_page + e) : -1.0;
        }
        first_page += used;
      }
      bindings[positions] = at;
      bindings[table] = block_table;
    } else if (decoder.paged()) {  // each sequence's pages one after another, as many as the total needs
      const std::int64_t row = decoder.capacity() / decoder.page_size();
      const std::int64_t used = (total + decoder.page_size() - 1) / decoder.page_size();
      Tensor block_table = Tensor::zeros(Shape{decoder.batch(), row}, DType::i32);
      for (std::int64_t b = 0; b < decoder.batch(); ++b)
        for (std::int64_t e = 0; e < row; ++e)
          block_table.values[std::size_t(b * row + e)] = e < used ? double(b * used + e) : -1.0;
      bindings[table] = block_table;
    }
    const ReferenceResult reference = run_reference(with_sizes(graph, sizes), bindings);
    const double tolerance = options.f16_storage ? 5e-3 : 1e-4;
    for (const auto& [name, t] : joined) {
      const double error = normalised_error(t, reference.outputs.at(name));
      const bool ok = error <= tolerance;  // false for a NaN error
      passed = passed && ok;
      std::printf("  %s %s: normalised error vs one causal pass of the reference %.3g (%s, tolerance %.0e)\n",
                  name.c_str(), to_string(t.shape).c_str(), error, ok ? "ok" : "FAILED", tolerance);
    }
  }
  for (const Assignment& a : outputs) {
    write_npy(a.file, joined.at(a.name), FileElement::f32);
    std::printf("wrote %s %s to %s\n", a.name.c_str(), to_string(joined.at(a.name).shape).c_str(), a.file.c_str());
  }
  if (!passed) std::fprintf(stderr, "vkattn decode: the decoded outputs differ from the CPU reference\n");
  return passed ? 0 : 1;
}

}  // namespace vkattn::cli
