#pragma once
// Pass 1, verify: checks what the DSL cannot guarantee for a graph that came from
// elsewhere (operands defined before use, so no cycles; every shape and dtype
// re-derived with infer(); at least one output), then builds the initial program:
// one value per graph value and one primitive step per op.
#include "vkattn/compiler/program.hpp"

namespace vkattn::passes {

constexpr Program verify(const Graph& graph) {
  if (graph.failed()) compile_failure(Message{"the graph failed its checks: "}.append(graph.error()).view());
  if (graph.open_body() != no_value) {
    Message m;
    m << "the repeated body opened by '" << graph.node(graph.open_body()).name.view()
      << "' is never closed: end it with repeat_end (or build it with repeat())";
    compile_failure(m.view());
  }
  Program program;
  program.graph_name = Name{graph.name()};
  program.graph = &graph;
  program.schedule.graph_name = program.graph_name;
  const auto& nodes = graph.nodes();
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    const Node& node = nodes[i];
    std::array<TensorType, max_inputs> operands{};
    if (op_arity(node.op) == 0) operands[0] = {node.shape, node.dtype};
    for (int k = 0; k < op_arity(node.op); ++k) {
      ValueId id = node.inputs[std::size_t(k)];
      if (id < 0 || std::size_t(id) >= i) {
        Message m;
        m << "value " << std::int64_t(i) << " ('" << node.name.view() << "') reads operand " << k
          << " from value " << std::int64_t(id) << ", which is not defined before it (a dangling value or a cycle)";
        compile_failure(m.view());
      }
      operands[std::size_t(k)] = {nodes[std::size_t(id)].shape, nodes[std::size_t(id)].dtype, nodes[std::size_t(id)].range};
    }
    Inferred inferred = infer(node.op, node.attributes, operands);
    if (!inferred.ok || !(inferred.type.shape == node.shape) || inferred.type.dtype != node.dtype) {
      Message m;
      m << "value '" << node.name.view() << "' (" << op_name(node.op) << ") has shape " << node.shape
        << " but its operands give " << inferred.type.shape;
      if (!inferred.ok) m << ": " << inferred.problem.view();
      compile_failure(m.view());
    }
    ProgramValue value;
    value.name = node.name;
    value.shape = node.shape;
    value.dtype = node.dtype;
    value.node = ValueId(i);
    value.kind = node.op == Op::input    ? ValueKind::input
                 : node.op == Op::weight ? ValueKind::weight
                 : node.op == Op::state  ? ValueKind::state
                                         : ValueKind::intermediate;
    program.add_value(value);
    if (node.op == Op::input || node.op == Op::weight || node.op == Op::state) continue;
    // The written cache is the state's own storage.
    if (is_cache_write(node.op)) program.value(int(i)).layout.root = node.inputs[0];
    if (node.op == Op::output) {
      // An output of an input, of a weight or of a value that is already an output
      // gets a copy of its own (a gather); any other output is its producer's storage.
      int source = node.inputs[0];
      bool needs_copy = program.value(source).kind != ValueKind::intermediate || program.is_output(source) ||
                        is_cache_write(graph.node(source).op);
      if (!needs_copy) {
        program.outputs.push_back({node.name, source, ValueId(i)});
        continue;
      }
      program.outputs.push_back({node.name, int(i), ValueId(i)});
    }
    Step step;
    step.op = node.op;
    step.result = int(i);
    step.attributes = node.attributes;
    for (int k = 0; k < op_arity(node.op); ++k) step.operands[std::size_t(k)] = node.inputs[std::size_t(k)];
    step.covers.push_back(ValueId(i));
    step.body = node.op == Op::repeat_begin ? no_value : node.op == Op::repeat_end ? node.inputs[1] : node.body;
    program.steps.push_back(step);
  }
  if (program.outputs.empty()) compile_failure("the graph has no outputs: mark a value with Graph::output(name, value)");
  return program;
}

}  // namespace vkattn::passes
