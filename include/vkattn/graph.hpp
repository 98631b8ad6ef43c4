#pragma once
// The graph that the DSL builds: an append-only list of nodes in topological order.
//
// Errors: at run time a shape, dtype or arity mistake throws GraphError at once. During
// constant evaluation exceptions cannot be used, so the graph records the first error,
// later calls that depend on the failed value are ignored, and vkattn::freeze<fn>()
// turns the recorded message into a compile error.
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "vkattn/fixed_vector.hpp"

#include "vkattn/infer.hpp"
#include "vkattn/ir.hpp"

namespace vkattn {

// The most dynamic dimensions (distinct names) one graph may have.
inline constexpr std::size_t max_dynamic_dims = 8;

class GraphError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class Graph;

// What an invalid Value reports as its node: no shape, so helpers that read shapes
// after an earlier failure keep going until the first error is reported.
inline constexpr Node invalid_node{};

// A handle to one value of a graph. Cheap to copy; valid while its graph lives.
class Value {
 public:
  constexpr Value() = default;
  constexpr Value(Graph* graph, ValueId id) : graph_(graph), id_(id) {}

  // False for a default-constructed value, and for the result of a call that failed
  // during constant evaluation (graph() is then still set).
  constexpr bool valid() const { return graph_ != nullptr && id_ != no_value; }
  constexpr ValueId id() const { return id_; }
  constexpr Graph* graph() const { return graph_; }
  constexpr const Node& node() const;
  constexpr const Shape& shape() const { return node().shape; }
  constexpr DType dtype() const { return node().dtype; }
  // Gives the op that produced this value a name, shown in listings and errors.
  constexpr Value named(std::string_view name, SourceLocation where = SourceLocation::current()) const;

 private:
  Graph* graph_ = nullptr;
  ValueId id_ = no_value;
};

class Graph {
 public:
  constexpr Graph() = default;
  constexpr explicit Graph(std::string_view name) : name_(name) {}

  constexpr std::string_view name() const { return name_.view(); }
  constexpr const std::vector<Node>& nodes() const { return nodes_; }
  constexpr const Node& node(ValueId id) const { return nodes_[std::size_t(id)]; }
  constexpr std::size_t size() const { return nodes_.size(); }

  constexpr bool failed() const { return failed_; }
  // The repeat_begin of a body not yet closed by its repeat_end, or no_value.
  constexpr ValueId open_body() const { return open_body_; }
  // The first error met while building in constant evaluation ("" when none).
  constexpr std::string_view error() const { return error_.view(); }

  constexpr Value input(std::string_view name, Shape shape, DType dtype = DType::f32,
                        SourceLocation where = SourceLocation::current()) {
    return leaf(Op::input, name, shape, dtype, where);
  }
  constexpr Value weight(std::string_view name, Shape shape, DType dtype = DType::f32,
                         SourceLocation where = SourceLocation::current()) {
    return leaf(Op::weight, name, shape, dtype, where);
  }
  // A scalar (shape [1]) of dtype f32 or i32; it broadcasts against anything.
  constexpr Value constant(double value, DType dtype = DType::f32, SourceLocation where = SourceLocation::current()) {
    Node node;
    node.op = Op::constant;
    node.attributes.factor = value;
    node.attributes.to = dtype;
    return append(node, where);
  }
  // A tensor that lives on the device from run to run (a KV cache), zero until written;
  // cache_write (ops.hpp) updates it. Its shape is fixed.
  constexpr Value state(std::string_view name, Shape shape, DType dtype = DType::f32,
                        SourceLocation where = SourceLocation::current()) {
    return leaf(Op::state, name, shape, dtype, where);
  }
  constexpr void output(std::string_view name, Value value, SourceLocation where = SourceLocation::current()) {
    Node node;
    node.op = Op::output;
    if (!check_name(name, "output", where)) return;
    node.name = Name{name};
    node.inputs[0] = value.id();
    if (value.valid() && value.graph() != this) {
      fail(where, "output", Message{"the value belongs to another graph"});
      return;
    }
    append(node, where);
  }

  // Appends one op after checking its operands with infer(); the single entry point
  // for every op, used by the DSL and the JSON loader alike. `node.shape` and
  // `node.dtype` are the declared type for inputs and weights and are computed for
  // every other op.
  constexpr Value append(Node node, SourceLocation where) {
    std::array<TensorType, max_inputs> operands{};
    int arity = op_arity(node.op);
    if (arity == 0) operands[0] = {node.shape, node.dtype};
    for (int i = 0; i < arity; ++i) {
      ValueId id = node.inputs[std::size_t(i)];
      if (id == no_value && failed_) return failed_value();  // depends on a value that already failed
      if (id < 0 || std::size_t(id) >= nodes_.size()) {
        Message m;
        m << "operand " << i << " refers to value " << std::int64_t{id} << ", which is not defined before this op";
        return fail(where, op_name(node.op), m);
      }
      if (nodes_[std::size_t(id)].op == Op::output) {
        Message m;
        m << "operand " << i << " is the graph output '" << nodes_[std::size_t(id)].name.view()
          << "', which cannot be used as an operand";
        return fail(where, op_name(node.op), m);
      }
      if (nodes_[std::size_t(id)].op == Op::state && !(is_cache_write(node.op) && i == 0)) {
        // Read directly, a state would be its contents before this run on the CPU but
        // after this run's write on a device: it has one meaning, through its write.
        Message m;
        m << "operand " << i << " reads the state `" << nodes_[std::size_t(id)].name.view()
          << "` directly; read the value its cache_write returns (the cache with this run written), "
             "a state has no other reader";
        return fail(where, op_name(node.op), m, node.name.view(), node.op);
      }
      if (const Node& from = nodes_[std::size_t(id)]; from.body != no_value && from.body != open_body_) {
        Message m;
        m << "operand " << i << " is `" << from.name.view() << "`, a value of the repeated body opened";
        if (nodes_[std::size_t(from.body)].where.known())
          m << " at " << nodes_[std::size_t(from.body)].where.file << ":" << nodes_[std::size_t(from.body)].where.line;
        m << ", which exists only inside it; read the value its repeat_end returns";
        return fail(where, op_name(node.op), m);
      }
      operands[std::size_t(i)] = {nodes_[std::size_t(id)].shape, nodes_[std::size_t(id)].dtype,
                                  nodes_[std::size_t(id)].range};
    }
    if (Message m = repeat_problem(node); !m.empty()) return fail(where, op_name(node.op), m, node.name.view(), node.op);
    for (int i = arity; i < max_inputs; ++i) node.inputs[std::size_t(i)] = no_value;
    Inferred inferred = infer(node.op, node.attributes, operands);
    if (!inferred.ok) return fail(where, op_name(node.op), inferred.problem, node.name.view(), node.op);
    if (node.op == Op::input) {
      if (Message m = symbol_conflict(node.shape); !m.empty()) return fail(where, op_name(node.op), m, node.name.view(), node.op);
    }
    if (is_cache_write(node.op)) {
      if (Message m = cache_write_problem(node); !m.empty()) return fail(where, op_name(node.op), m);
    }
    if (node.op == Op::input || node.op == Op::weight || node.op == Op::state || node.op == Op::output) {
      for (const Node& other : nodes_) {
        if (other.op == node.op && other.name == node.name) {
          Message m;
          // Backticks, not apostrophes: g++ prints a compile-time message with \' for each.
          m << "the name `" << node.name.view() << "` is already used by another " << op_name(node.op);
          return fail(where, op_name(node.op), m, node.name.view(), node.op);
        }
      }
    }
    const bool leaf_or_output =
        node.op == Op::input || node.op == Op::weight || node.op == Op::state || node.op == Op::output;
    if (!leaf_or_output && !node.name.empty()) {  // a named op (graph JSON): its name is its own
      if (Message m = name_conflict(node.name.view(), nodes_.size()); !m.empty()) return fail(where, op_name(node.op), m);
    }
    node.shape = inferred.type.shape;
    node.dtype = inferred.type.dtype;
    node.range = inferred.type.range;
    node.where = where;
    // Membership of a repeated body follows the order of nodes: opened by repeat_begin,
    // closed by repeat_end.
    node.body = node.op == Op::repeat_begin ? ValueId(nodes_.size()) : node.op == Op::repeat_end ? no_value : open_body_;
    if (node.op == Op::repeat_begin) open_body_ = ValueId(nodes_.size());
    if (node.op == Op::repeat_end) open_body_ = no_value;
    if (node.name.empty()) {
      node.name.append(op_name(node.op)).append("_").append(std::int64_t(nodes_.size()));
    }
    nodes_.push_back(node);
    return Value{this, ValueId(nodes_.size() - 1)};
  }

  // An invalid value that still knows its graph, so later ops on it are skipped
  // quietly instead of being reported as a second, confusing error.
  constexpr Value failed_value() { return Value{this, no_value}; }

  // Reports a mistake made by the DSL call at `where`: throws at run time, records the
  // first message during constant evaluation. Returns an invalid value.
  constexpr Value fail(SourceLocation where, std::string_view op, const Message& problem,
                       std::string_view name = {}, Op kind = Op::relu) {
    Message text;
    if (where.known()) text << where.file << ":" << where.line << ": ";
    text << op;
    if ((kind == Op::input || kind == Op::weight || kind == Op::state || kind == Op::output) && !name.empty())
      text << " '" << name << "'";
    text << ": " << problem.view();
    if (std::is_constant_evaluated()) {
      if (!failed_) error_ = text;
      failed_ = true;
      return failed_value();
    }
    throw GraphError(std::string(text.view()));
  }

  constexpr void rename(ValueId id, std::string_view name, SourceLocation where) {
    if (id < 0 || std::size_t(id) >= nodes_.size()) return;
    Node& target = nodes_[std::size_t(id)];
    if (target.op == Op::input || target.op == Op::weight || target.op == Op::state || target.op == Op::output) {
      fail(where, "named", Message{"inputs, weights and outputs keep the name they were declared with"});
      return;
    }
    if (!check_name(name, "named", where)) return;
    if (Message m = name_conflict(name, std::size_t(id)); !m.empty()) {
      fail(where, "named", m);
      return;
    }
    target.name = Name{name};
  }

  // The value produced by the op or leaf called `name`; an invalid Value when none.
  constexpr Value find(std::string_view name) {
    for (std::size_t i = nodes_.size(); i-- > 0;)
      if (nodes_[i].name.view() == name && nodes_[i].op != Op::output) return Value{this, ValueId(i)};
    return {};
  }

  constexpr bool operator==(const Graph& other) const { return name_ == other.name_ && nodes_ == other.nodes_; }

  // Sets node `n`'s dynamic dimensions to their sizes in `sizes` (with_sizes).
  template <typename Sizes>
  constexpr void resize_node(std::size_t n, const Sizes& sizes) {
    Shape& shape = nodes_[n].shape;
    for (int i = 0; i < shape.rank; ++i)
      if (shape.dynamic(i))
        for (const auto& d : sizes)
          if (d.name == shape.symbols[i]) shape.dims[i] = d.size;
  }

 private:
  constexpr bool check_name(std::string_view name, std::string_view op, SourceLocation where) {
    if (name.empty() || name.size() > Name::capacity()) {
      Message m;
      m << "a name must have 1 to " << std::int64_t(Name::capacity()) << " characters, not " << std::int64_t(name.size());
      fail(where, op, m);
      return false;
    }
    return true;
  }

  // One name, one value: the listing, heatmaps and find() name values by it. Empty
  // when no value but node `self` has the name.
  constexpr Message name_conflict(std::string_view name, std::size_t self) const {
    Message m;
    for (std::size_t i = 0; i < nodes_.size(); ++i) {
      const Node& other = nodes_[i];
      if (i == self || other.op == Op::output || other.name.view() != name) continue;
      m << "the name `" << name << "` is already given to ";
      if (other.where.known()) m << "the " << op_name(other.op) << " made at " << other.where.file << ":" << other.where.line;
      else m << "another " << op_name(other.op);
      m << "; give this one another name (a helper: another prefix, e.g. AttentionOptions::prefix)";
      return m;
    }
    return m;
  }

  // A dynamic dimension keeps one bound throughout the graph, and a graph has at most
  // max_dynamic_dims of them.
  constexpr Message symbol_conflict(const Shape& shape) const {
    Message m;
    std::array<SymbolName, max_dynamic_dims + max_rank> names{};
    std::size_t count = 0;
    auto count_name = [&](const SymbolName& name) {
      for (std::size_t k = 0; k < count; ++k)
        if (names[k] == name) return;
      if (count < names.size()) names[count++] = name;
    };
    for (const Node& other : nodes_)
      if (other.op == Op::input)
        for (int j = 0; j < other.shape.rank; ++j)
          if (other.shape.dynamic(j)) count_name(other.shape.symbols[std::size_t(j)]);
    for (int i = 0; i < shape.rank && i < max_rank; ++i)
      if (shape.dynamic(i)) count_name(shape.symbols[std::size_t(i)]);
    if (count > max_dynamic_dims) {
      m << "the graph would have " << std::int64_t(count) << " dynamic dimensions; at most "
        << std::int64_t(max_dynamic_dims) << " are allowed";
      return m;
    }
    for (int i = 0; i < shape.rank && i < max_rank; ++i) {
      if (!shape.dynamic(i)) continue;
      for (const Node& other : nodes_) {
        if (other.op != Op::input) continue;
        for (int j = 0; j < other.shape.rank; ++j) {
          if (other.shape.symbols[j] == shape.symbols[i] && other.shape.bounds[j] != shape.bounds[i]) {
            m << "dynamic dimension `" << shape.symbols[i].text().view() << "` has bound " << shape.bounds[i]
              << " here but " << other.shape.bounds[j] << " in input '" << other.name.view()
              << "'; one name has one bound";
            return m;
          }
        }
      }
    }
    return m;
  }

  // The rules of repeated bodies: they do not nest; repeat_end closes the open body with
  // a result computed in it; no graph output is inside one; `{i}` (a per-iteration
  // tensor) names weights and states of a body only, and a state of a body has it (each
  // iteration keeps its own). Reading a body's value from outside is refused in append.
  constexpr Message repeat_problem(const Node& node) const {
    Message m;
    const bool open = open_body_ != no_value;
    auto opened_at = [&](Message& to) {
      const Node& begin = nodes_[std::size_t(open_body_)];
      to << "the body opened";
      if (begin.where.known()) to << " at " << begin.where.file << ":" << begin.where.line;
    };
    switch (node.op) {
      case Op::repeat_begin:
        if (open) {
          m << "repeated bodies do not nest: ";
          opened_at(m);
          m << " is still open; close it with repeat_end first";
        }
        return m;
      case Op::repeat_end:
        if (!open || node.inputs[1] != open_body_) {
          m << "operand 1 must be the repeat_begin of the open body";
          if (!open) m << ", and no body is open";
          return m;
        }
        if (node.inputs[0] == open_body_ || nodes_[std::size_t(node.inputs[0])].body != open_body_)
          m << "an iteration's result must be computed inside the body (from the value repeat_begin returns)";
        return m;
      case Op::output:
        if (open) {
          m << "a graph output inside a repeated body would be overwritten by every iteration; close ";
          opened_at(m);
          m << " and output the value its repeat_end returns";
        }
        return m;
      case Op::input:
        if (has_iteration_placeholder(node.name.view()))
          m << "an input is the same for every iteration: `{i}` belongs in names of weights and states of a repeated body";
        return m;
      case Op::weight:
      case Op::state:
        if (!open && has_iteration_placeholder(node.name.view()))
          m << "`{i}` stands for the iteration of a repeated body, and no body is open here (repeat_begin opens one)";
        else if (open && node.op == Op::state && !has_iteration_placeholder(node.name.view()))
          m << "a state declared in a repeated body is one per iteration: put `{i}` in its name "
               "(e.g. `layers.{i}.k_cache`)";
        return m;
      case Op::cache_write:
      case Op::paged_cache_write:
        if (open && nodes_[std::size_t(node.inputs[0])].body != open_body_)
          m << "a cache written in a repeated body is written by every iteration: declare its state in the body, "
               "with `{i}` in its name";
        return m;
      default: return m;
    }
  }

  // cache_write updates a state tensor, once, at positions the run supplies (and, paged,
  // through a block table the run supplies).
  constexpr Message cache_write_problem(const Node& node) const {
    Message m;
    const Node& cache = nodes_[std::size_t(node.inputs[0])];
    const Node& positions = nodes_[std::size_t(node.inputs[2])];
    if (node.op == Op::paged_cache_write && nodes_[std::size_t(node.inputs[3])].op != Op::input) {
      m << "the block table must be a graph input, so that a run can check its pages against the pool, but operand 3 "
           "is '"
        << nodes_[std::size_t(node.inputs[3])].name.view() << "' (" << op_name(nodes_[std::size_t(node.inputs[3])].op)
        << ")";
      return m;
    }
    if (cache.op != Op::state) {
      m << "the cache must be a state tensor (Graph::state), but operand 0 is '" << cache.name.view() << "' ("
        << op_name(cache.op) << ")";
      return m;
    }
    if (positions.op != Op::input) {
      m << "the positions must be a graph input, so that a run can check them against the capacity, but operand 2 is '"
        << positions.name.view() << "' (" << op_name(positions.op) << ")";
      return m;
    }
    for (const Node& other : nodes_)
      if (is_cache_write(other.op) && other.inputs[0] == node.inputs[0]) {
        m << "state '" << cache.name.view() << "' is already written by '" << other.name.view()
          << "'; a state tensor takes one cache_write per run";
        return m;
      }
    return m;
  }

  constexpr Value leaf(Op op, std::string_view name, Shape shape, DType dtype, SourceLocation where) {
    if (!check_name(name, op_name(op), where)) return {};
    Node node;
    node.op = op;
    node.name = Name{name};
    node.shape = shape;
    node.dtype = dtype;
    return append(node, where);
  }

  Name name_;
  std::vector<Node> nodes_;
  Message error_;
  bool failed_ = false;
  ValueId open_body_ = no_value;
};

// The size of one dynamic dimension for a run.
struct DimSize {
  SymbolName name;
  std::int64_t size = 0;
  constexpr bool operator==(const DimSize&) const = default;
};
using DimSizes = FixedVector<DimSize, max_dynamic_dims>;

// The size `sizes` gives `name`, or 0.
constexpr std::int64_t size_of(const DimSizes& sizes, const SymbolName& name) {
  for (const DimSize& d : sizes)
    if (d.name == name) return d.size;
  return 0;
}

// Every dynamic dimension of the graph's inputs, each at its bound.
constexpr DimSizes dynamic_dims(const Graph& graph) {
  DimSizes dims;
  for (const Node& node : graph.nodes()) {
    if (node.op != Op::input) continue;
    for (int i = 0; i < node.shape.rank; ++i)
      if (node.shape.dynamic(i) && size_of(dims, node.shape.symbols[i]) == 0) {
        if (dims.size() == dims.capacity())
          throw GraphError("vkattn: a graph may have at most " + std::to_string(max_dynamic_dims) + " dynamic dimensions");
        dims.push_back({node.shape.symbols[i], node.shape.bounds[i]});
      }
  }
  return dims;
}

// The graph with every dynamic dimension at the size `sizes` gives it (each from 1 to its
// bound); names and bounds are kept, so memory is still planned for the bounds. Throws
// GraphError naming a dimension without a size or with one out of range.
constexpr Graph with_sizes(const Graph& graph, const DimSizes& sizes) {
  for (const DimSize& bound : dynamic_dims(graph)) {
    const std::int64_t size = size_of(sizes, bound.name);
    if (size < 1 || size > bound.size)
      throw GraphError("vkattn: dynamic dimension `" + std::string(bound.name.text().view()) + "` " +
                       (size == 0 ? std::string("has no size") : "is given " + std::to_string(size)) +
                       "; it must be 1 to " + std::to_string(bound.size));
  }
  Graph sized = graph;
  for (std::size_t n = 0; n < sized.size(); ++n) sized.resize_node(n, sizes);
  return sized;
}

// One tensor a run binds by name: a weight, or (with states) a state. A weight or state
// of a repeated body with `{i}` in its name is one tensor per iteration, named with
// `{i}` replaced by the iteration.
struct BoundTensor {
  std::string name;
  const Node* node = nullptr;
  std::int64_t iteration = 0;
};

// How many tensors a leaf stands for: one per iteration with `{i}` in a body, else one.
constexpr std::int64_t tensors_of(const Graph& graph, const Node& node) {
  return node.body != no_value && has_iteration_placeholder(node.name.view()) ? graph.node(node.body).attributes.count : 1;
}

inline std::vector<BoundTensor> bound_tensors(const Graph& graph, bool states = false) {
  std::vector<BoundTensor> out;
  for (const Node& node : graph.nodes()) {
    if (node.op != Op::weight && !(states && node.op == Op::state)) continue;
    for (std::int64_t k = 0; k < tensors_of(graph, node); ++k)
      out.push_back({expand_iteration(node.name.view(), k), &node, k});
  }
  return out;
}

constexpr const Node& Value::node() const { return valid() ? graph_->node(id_) : invalid_node; }

constexpr Value Value::named(std::string_view name, SourceLocation where) const {
  if (valid()) graph_->rename(id_, name, where);
  return *this;
}

}  // namespace vkattn
