// Decoding: one Executable over a graph with KV caches, run at each step's size, with
// the positions input kept by the host.
#include "vkattn/decoder.hpp"

#include <algorithm>
#include <array>
#include <limits>

namespace vkattn {

namespace {

// The positions input: i32 [batch], or i32 [dyn tokens] in a ragged graph.
const Node& positions_input(const Graph& graph, const std::string& name) {
  for (const Node& node : graph.nodes())
    if (node.op == Op::input && node.name.view() == name) {
      if (node.dtype != DType::i32 || node.shape.rank != 1)
        throw GraphError("vkattn: the positions input '" + name + "' of graph '" + std::string(graph.name()) +
                         "' must be i32 [batch] (or i32 [tokens] in a ragged batch), but it is " +
                         std::string(dtype_name(node.dtype)) + " " + to_string(node.shape));
      return node;
    }
  throw GraphError("vkattn: graph '" + std::string(graph.name()) + "' has no input '" + name +
                   "' of cache positions (DecodeOptions::positions names it)");
}

// The positions a sequence can reach: the smallest cache's capacity (a paged cache's:
// its table row's pages); a rolling cache reuses its rows, so only exact rotary angles in
// f32 (2^24 positions) bound it.
std::int64_t cache_capacity(const Graph& graph) {
  std::int64_t capacity = 0;
  for (const Node& node : graph.nodes())
    if (is_cache_write(node.op)) {
      const std::int64_t reach = node.attributes.rolling        ? std::int64_t(1) << 24
                                 : node.op == Op::paged_cache_write ? graph.node(node.inputs[3]).shape[1] * node.shape[2]
                                                                    : node.shape[2];
      capacity = capacity == 0 ? reach : std::min(capacity, reach);
    }
  if (capacity == 0)
    throw GraphError("vkattn: graph '" + std::string(graph.name()) +
                     "' writes no KV cache (cache_write, or AttentionOptions::cache), so it cannot decode");
  return capacity;
}

ExecutableOptions executable_options(const Graph& graph, const DecodeOptions& o) {
  ExecutableOptions e{.profile = o.profile};
  const DimSizes dims = dynamic_dims(graph);
  if (o.step_tokens < 1) throw GraphError("vkattn: DecodeOptions::step_tokens must be at least 1");
  if (!dims.empty()) {
    DimSizes steps;
    for (const DimSize& d : dims) steps.push_back({d.name, std::min(o.step_tokens, d.size)});
    e.tune_profiles.push_back(steps);
  }
  return e;
}

// The page size and pages per sequence of the graph's paged caches (0, 0 with none);
// they all page through the one block table input, with one page size and pool size.
std::array<std::int64_t, 3> paging_of(const Graph& graph, const std::string& table_name) {
  std::array<std::int64_t, 3> paging{0, 0, 0};  // page size, table row, pages
  bool contiguous = false;
  for (const Node& node : graph.nodes()) {
    if (node.op == Op::cache_write) contiguous = true;
    if (node.op != Op::paged_cache_write) continue;
    const Node& table = graph.node(node.inputs[3]);
    if (table.name.view() != table_name)
      throw GraphError("vkattn: the paged cache '" + std::string(node.name.view()) + "' of graph '" +
                       std::string(graph.name()) + "' pages through input '" + std::string(table.name.view()) +
                       "', but the decoder fills '" + table_name + "' (DecodeOptions::block_table names it)");
    const std::array<std::int64_t, 3> here{node.shape[2], table.shape[1], node.shape[0]};
    if (paging[0] != 0 && paging != here)
      throw GraphError("vkattn: the paged caches of graph '" + std::string(graph.name()) +
                       "' differ in page size or pool size; the decoder hands out one pool's pages");
    paging = here;
  }
  if (paging[0] != 0 && contiguous)
    throw GraphError("vkattn: graph '" + std::string(graph.name()) +
                     "' has both paged and contiguous KV caches; the decoder takes one kind");
  return paging;
}

// The state tensors of the paged caches as the executable names them (a repeated
// body's, one per iteration).
std::vector<std::string> pool_names(const Graph& graph, const Schedule& schedule) {
  std::vector<std::string> names;
  for (const Node& node : graph.nodes()) {
    if (node.op != Op::paged_cache_write) continue;
    const std::string name(graph.node(node.inputs[0]).name.view());
    for (const TensorSlot& slot : schedule.slots) {
      if (slot.role != SlotRole::state) continue;
      const std::string slot_name(slot.name.view());
      bool match = slot_name == name;
      for (std::int64_t k = 0; !match && has_iteration_placeholder(name) && k < 1 << 16; ++k) {
        const std::string expanded = expand_iteration(name, k);
        if (expanded == slot_name) match = true;
        if (expanded.size() > slot_name.size()) break;
      }
      if (match) names.push_back(slot_name);
    }
  }
  return names;
}

}  // namespace

Decoder::Decoder(Context& context, const Graph& graph, const TensorMap& weights, const DecodeOptions& options)
    : graph_(graph),
      options_(options),
      executable_(context, graph, options.compile, weights, executable_options(graph, options)),
      capacity_(cache_capacity(graph)),
      ragged_(positions_input(graph, options.positions).shape.dynamic(0)) {
  const auto paging = paging_of(graph, options.block_table);
  page_size_ = paging[0];
  table_row_ = paging[1];
  for (const Node& node : graph.nodes()) rolling_ = rolling_ || (node.op == Op::paged_cache_write && node.attributes.rolling);
  if (options.sequences < 0) throw GraphError("vkattn: DecodeOptions::sequences must be 0 (the pool's) or more");
  if (ragged_ && !paged())
    throw GraphError("vkattn: the positions input '" + options.positions + "' of graph '" + std::string(graph.name()) +
                     "' has a token axis (a ragged batch), which needs a paged KV cache: the tokens of a sequence "
                     "share its block table row");
  if (!ragged_ && options.sequences > 0)
    throw GraphError("vkattn: DecodeOptions::sequences sizes a ragged batch; graph '" + std::string(graph.name()) +
                     "' has one sequence per row of its positions input '" + options.positions + "'");
  const std::int64_t sequences = !ragged_ ? positions_input(graph, options.positions).shape[0]
                                 : options.sequences > 0 ? options.sequences
                                                         : std::max<std::int64_t>(1, paging[2] / paging[1]);
  lengths_.assign(std::size_t(sequences), 0);
  active_.assign(lengths_.size(), true);
  if (!paged()) return;
  sequence_pages_.assign(lengths_.size(), {});
  page_users_.assign(std::size_t(paging[2]), 0);
  pools_ = pool_names(graph, executable_.schedule());
}

std::int64_t Decoder::tokens_in(const TensorMap& inputs) const {
  // The size of the first dynamic dimension an input has; with none, the rows each
  // cache write appends.
  for (const Node& node : graph_.nodes()) {
    if (node.op != Op::input || node.name.view() == options_.positions || node.name.view() == options_.block_table)
      continue;
    for (int axis = 0; axis < node.shape.rank; ++axis) {
      if (!node.shape.dynamic(axis)) continue;
      auto found = inputs.find(node.name.view());
      if (found == inputs.end())
        throw BindingError("no tensor was given for input '" + std::string(node.name.view()) + "' " +
                           to_string(node.shape));
      if (found->second.shape.rank != node.shape.rank)
        throw BindingError("input '" + std::string(node.name.view()) + "' is declared " + to_string(node.shape) +
                           " but the tensor given has shape " + to_string(found->second.shape));
      return found->second.shape[axis];
    }
  }
  for (const Node& node : graph_.nodes())
    if (is_cache_write(node.op)) return graph_.node(node.inputs[1]).shape[2];
  return 0;
}

TensorMap Decoder::step(const TensorMap& inputs) {
  const std::int64_t tokens = tokens_in(inputs);
  std::vector<std::int64_t> counts(lengths_.size(), 0);
  std::int64_t active = 0;
  for (bool a : active_) active += a ? 1 : 0;
  // A ragged batch's rows are shared evenly among the active sequences.
  if (ragged_ && (active == 0 || tokens % active != 0))
    throw BindingError("the inputs hold " + std::to_string(tokens) + " tokens, which " +
                       (active == 0 ? std::string("no active sequence takes") : "do not split evenly among the " +
                                                                                  std::to_string(active) +
                                                                                  " active sequences") +
                       ": give each sequence's count, step(inputs, tokens) (nothing was run)");
  for (std::size_t b = 0; b < lengths_.size(); ++b)
    if (active_[b]) counts[b] = ragged_ ? tokens / active : tokens;
  return run_step(inputs, counts);
}

TensorMap Decoder::step(const TensorMap& inputs, const std::vector<std::int64_t>& tokens) {
  if (!ragged_)
    throw BindingError("graph '" + std::string(graph_.name()) + "' appends the same number of tokens to every "
                       "sequence (its positions input '" + options_.positions + "' is [batch]); per-sequence "
                       "counts need a ragged graph (PresetOptions::ragged), or call step(inputs)");
  if (tokens.size() != lengths_.size())
    throw BindingError("step() was given " + std::to_string(tokens.size()) + " token counts for the " +
                       std::to_string(batch()) + " sequences (nothing was run)");
  std::int64_t total = 0;
  for (std::size_t b = 0; b < tokens.size(); ++b) {
    if (tokens[b] < 0 || (tokens[b] > 0 && !active_[b]))
      throw BindingError("sequence " + std::to_string(b) + (tokens[b] < 0 ? " was given " + std::to_string(tokens[b]) +
                                                                                " tokens; a count is 0 or more"
                                                                          : " is idle: add() it before giving it tokens") +
                         " (nothing was run)");
    total += tokens[b];
  }
  const std::int64_t given = tokens_in(inputs);
  if (total != given)
    throw BindingError("the token counts add up to " + std::to_string(total) + ", but the inputs hold " +
                       std::to_string(given) + " tokens: each sequence's tokens are packed one after another, "
                       "and the counts say where each starts (nothing was run)");
  return run_step(inputs, tokens);
}

TensorMap Decoder::run_step(const TensorMap& inputs, const std::vector<std::int64_t>& tokens) {
  for (std::size_t b = 0; b < lengths_.size(); ++b)
    if (active_[b] && lengths_[b] + tokens[b] > capacity_)
      throw BindingError("sequence " + std::to_string(b) + " holds " + std::to_string(lengths_[b]) + " tokens; " +
                         std::to_string(tokens[b]) + " more exceed its cache of " + std::to_string(capacity_) +
                         " positions (nothing was run: reset it, or compile with a larger cache)");
  for (const std::string& own : {options_.positions, paged() ? options_.block_table : std::string()})
    if (!own.empty() && inputs.count(own))
      throw BindingError("input '" + own + "' is the decoder's to fill: leave it out (set_length moves a sequence" +
                         std::string(paged() ? "; add, remove and fork manage the pages)" : ")"));
  std::int64_t total = 0;
  for (std::int64_t count : tokens) total += count;
  if (ragged_ && total == 0) throw BindingError("a step of a ragged batch carries at least one token (nothing was run)");
  TensorMap with_positions = inputs;
  // Each sequence's position (idle: -1), or in a ragged batch each token's.
  Tensor positions;
  positions.dtype = DType::i32;
  for (std::size_t b = 0; b < lengths_.size(); ++b) {
    if (!ragged_) positions.values.push_back(active_[b] ? double(lengths_[b]) : -1.0);
    else
      for (std::int64_t i = 0; i < tokens[b]; ++i) positions.values.push_back(double(lengths_[b] + i));
  }
  positions.shape = Shape{std::int64_t(positions.values.size())};
  with_positions[options_.positions] = std::move(positions);
  // The pages as they were, should the run be refused.
  const auto pages_before = sequence_pages_;
  const auto users_before = page_users_;
  TensorMap outputs;
  try {
    if (paged()) {
      Tensor table = claim_pages(tokens);
      if (ragged_) {  // each token carries its sequence's row
        Tensor rows = Tensor::zeros(Shape{total, table_row_}, DType::i32);
        std::size_t at = 0;
        for (std::size_t b = 0; b < lengths_.size(); ++b)
          for (std::int64_t i = 0; i < tokens[b]; ++i, at += std::size_t(table_row_))
            std::copy_n(table.values.begin() + std::ptrdiff_t(b * std::size_t(table_row_)), table_row_,
                        rows.values.begin() + std::ptrdiff_t(at));
        table = std::move(rows);
      }
      with_positions[options_.block_table] = std::move(table);
    }
    outputs = executable_.run(with_positions);
  } catch (...) {
    sequence_pages_ = pages_before;
    page_users_ = users_before;
    throw;
  }
  for (std::size_t b = 0; b < lengths_.size(); ++b)
    if (active_[b]) lengths_[b] += tokens[b];
  return outputs;
}

std::int64_t Decoder::entries_for(std::int64_t length) const {
  return std::min(table_row_, (length + page_size_ - 1) / page_size_);
}

std::vector<std::int64_t> Decoder::written_entries(std::int64_t length, std::int64_t tokens) const {
  // A rolling pool reuses the table row modulo its positions.
  const std::int64_t wrap = rolling_ ? table_row_ * page_size_ : std::numeric_limits<std::int64_t>::max();
  std::vector<std::int64_t> entries;
  for (std::int64_t position = length; position < length + tokens; ++position) {
    const std::int64_t e = (position % wrap) / page_size_;
    if (std::find(entries.begin(), entries.end(), e) == entries.end()) entries.push_back(e);
  }
  return entries;
}

Tensor Decoder::claim_pages(const std::vector<std::int64_t>& tokens) {
  // What each active sequence needs: pages for its positions to come, and a private
  // copy of each shared page it writes.
  std::int64_t needed = 0, free = 0;
  std::string who;
  for (std::size_t b = 0; b < lengths_.size(); ++b) {
    if (!active_[b] || tokens[b] == 0) continue;  // a sequence without tokens this step writes nothing
    const auto& held = sequence_pages_[b];
    const std::int64_t reach = entries_for(lengths_[b] + tokens[b]);
    std::int64_t more = std::max<std::int64_t>(0, reach - std::int64_t(held.size()));
    for (std::int64_t e : written_entries(lengths_[b], tokens[b]))
      if (e < std::int64_t(held.size()) && page_users_[std::size_t(held[std::size_t(e)])] > 1) ++more;
    if (more > 0) who += (who.empty() ? "" : ", ") + ("sequence " + std::to_string(b) + ": " + std::to_string(more));
    needed += more;
  }
  for (std::int64_t users : page_users_) free += users == 0 ? 1 : 0;
  if (needed > free)
    throw BindingError("the KV cache's page pool is exhausted: this step needs " + std::to_string(needed) +
                       " more pages of " + std::to_string(page_size_) + " positions (" + who + "), and " +
                       std::to_string(free) + " of its " + std::to_string(pages()) +
                       " are free (nothing was run: remove a sequence, or build the graph with more pages, "
                       "KvCache::pages)");
  auto take_free = [&] {
    for (std::size_t page = 0; page < page_users_.size(); ++page)
      if (page_users_[page] == 0) {
        page_users_[page] = 1;
        return std::int64_t(page);
      }
    throw BindingError("internal: no free page after counting them");
  };
  Tensor table = Tensor::zeros(Shape{batch(), table_row_}, DType::i32);
  for (std::size_t b = 0; b < lengths_.size(); ++b) {
    if (!active_[b] || tokens[b] == 0) continue;
    auto& held = sequence_pages_[b];
    const std::int64_t reach = entries_for(lengths_[b] + tokens[b]);
    for (std::int64_t e : written_entries(lengths_[b], tokens[b])) {
      if (e >= std::int64_t(held.size())) continue;
      std::int64_t& page = held[std::size_t(e)];
      if (page_users_[std::size_t(page)] <= 1) continue;
      const std::int64_t copy = take_free();  // copy on write: the other holders keep the original
      for (const std::string& pool : pools_) executable_.copy_state_slice(pool, page, copy);
      --page_users_[std::size_t(page)];
      page = copy;
    }
    while (std::int64_t(held.size()) < reach) held.push_back(take_free());
  }
  for (std::size_t b = 0; b < lengths_.size(); ++b)
    for (std::int64_t e = 0; e < table_row_; ++e)
      table.values[std::size_t(std::int64_t(b) * table_row_ + e)] =
          active_[b] && e < std::int64_t(sequence_pages_[b].size()) ? double(sequence_pages_[b][std::size_t(e)]) : -1.0;
  return table;
}

TensorMap Decoder::prefill(const TensorMap& inputs) {
  reset();
  return step(inputs);
}

void Decoder::reset() {
  executable_.reset_state();
  std::fill(lengths_.begin(), lengths_.end(), 0);
  active_.assign(lengths_.size(), true);
  for (auto& held : sequence_pages_) held.clear();
  std::fill(page_users_.begin(), page_users_.end(), 0);
}

void Decoder::check_sequence(std::int64_t sequence) const {
  if (sequence < 0 || sequence >= batch())
    throw BindingError("sequence " + std::to_string(sequence) + " does not exist: the batch has " +
                       std::to_string(batch()));
}

void Decoder::release_pages(std::int64_t sequence, std::int64_t keep) {
  if (!paged()) return;
  auto& held = sequence_pages_[std::size_t(sequence)];
  while (std::int64_t(held.size()) > keep) {
    --page_users_[std::size_t(held.back())];
    held.pop_back();
  }
}

std::int64_t Decoder::add() {
  if (!paged()) throw BindingError("add() needs a paged KV cache (KvCache::page_size): every sequence of a contiguous one is always active");
  for (std::size_t b = 0; b < active_.size(); ++b)
    if (!active_[b]) {
      active_[b] = true;
      lengths_[b] = 0;
      return std::int64_t(b);
    }
  throw BindingError("every one of the " + std::to_string(batch()) +
                     " sequences is active: remove one first, or build the graph with a larger batch");
}

void Decoder::remove(std::int64_t sequence) {
  check_sequence(sequence);
  if (!paged()) throw BindingError("remove() needs a paged KV cache (KvCache::page_size)");
  release_pages(sequence, 0);
  active_[std::size_t(sequence)] = false;
  lengths_[std::size_t(sequence)] = 0;
}

void Decoder::fork(std::int64_t from, std::int64_t sequence, std::int64_t length) {
  check_sequence(from);
  check_sequence(sequence);
  if (!paged()) throw BindingError("fork() needs a paged KV cache (KvCache::page_size)");
  if (!active_[std::size_t(from)]) throw BindingError("sequence " + std::to_string(from) + " is idle: nothing to fork");
  const std::int64_t held = lengths_[std::size_t(from)];
  if (length < 0) length = held;
  if (length > held)
    throw BindingError("sequence " + std::to_string(from) + " holds " + std::to_string(held) +
                       " tokens; a fork takes 0 to " + std::to_string(held) + " of them, not " + std::to_string(length));
  if (from == sequence) return set_length(sequence, length);
  release_pages(sequence, 0);
  const std::int64_t shared = entries_for(length);
  auto& pages = sequence_pages_[std::size_t(sequence)];
  for (std::int64_t e = 0; e < shared; ++e) {
    const std::int64_t page = sequence_pages_[std::size_t(from)][std::size_t(e)];
    ++page_users_[std::size_t(page)];
    pages.push_back(page);
  }
  active_[std::size_t(sequence)] = true;
  lengths_[std::size_t(sequence)] = length;
}

bool Decoder::active(std::int64_t sequence) const {
  check_sequence(sequence);
  return active_[std::size_t(sequence)];
}

std::int64_t Decoder::pages_used() const {
  std::int64_t used = 0;
  for (std::int64_t users : page_users_) used += users > 0 ? 1 : 0;
  return used;
}

void Decoder::set_length(std::int64_t sequence, std::int64_t length) {
  if (sequence < 0 || sequence >= batch())
    throw BindingError("sequence " + std::to_string(sequence) + " does not exist: the batch has " +
                       std::to_string(batch()));
  if (length < 0 || length > capacity_)
    throw BindingError("a sequence holds 0 to " + std::to_string(capacity_) + " tokens, not " + std::to_string(length));
  lengths_[std::size_t(sequence)] = length;
  active_[std::size_t(sequence)] = true;
  if (paged()) release_pages(sequence, entries_for(length));
}

TensorMap sequence_rows(const TensorMap& outputs, const std::vector<std::int64_t>& tokens, std::int64_t sequence) {
  if (sequence < 0 || sequence >= std::int64_t(tokens.size()))
    throw BindingError("sequence " + std::to_string(sequence) + " does not exist: the step gave " +
                       std::to_string(tokens.size()) + " token counts");
  std::int64_t first = 0, total = 0;
  for (std::size_t b = 0; b < tokens.size(); ++b) {
    if (std::int64_t(b) < sequence) first += tokens[b];
    total += tokens[b];
  }
  if (total == 0) throw BindingError("the step gave no tokens: its outputs have no rows to pick");
  TensorMap rows;
  for (const auto& [name, packed] : outputs) {
    if (packed.shape.rank < 1 || packed.shape[0] != total)
      throw BindingError("output '" + name + "' " + to_string(packed.shape) + " has no token axis of the step's " +
                         std::to_string(total) + " tokens");
    const std::size_t row = packed.values.size() / std::size_t(total);
    Tensor part = packed;
    part.shape[0] = tokens[std::size_t(sequence)];
    part.values.assign(packed.values.begin() + std::ptrdiff_t(std::size_t(first) * row),
                       packed.values.begin() + std::ptrdiff_t(std::size_t(first + part.shape[0]) * row));
    rows[name] = std::move(part);
  }
  return rows;
}

}  // namespace vkattn
