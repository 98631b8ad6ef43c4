#pragma once
// Pass 8 for a pointwise step (an elementwise region, pass 5): shaders/pointwise.comp
// completed by the region's generated expression, one element of the result per
// invocation, each tensor read broadcast at the element's coordinates (or gathered);
// further outputs (values of the region read beyond it) stored at the same element.
#include "vkattn/compiler/pointwise_expression.hpp"
#include "vkattn/elementwise_forms.hpp"
#include "vkattn/compiler/schedule_builder.hpp"
#include "vkattn/compiler/tuning/choose.hpp"

namespace vkattn::passes {

namespace detail {

// FLOPs of one evaluation of the nodes `needed` marks (reads, constants and index
// values cost nothing; each op its op_flops).
constexpr double expression_flops(const Expression& e, const std::array<bool, max_expression_nodes>& needed) {
  double flops = 0;
  for (int i = 0; i < int(e.nodes.size()); ++i) {
    if (!needed[std::size_t(i)]) continue;
    const ExprNode& n = e.node(i);
    if (n.op == Op::input || n.op == Op::constant || n.op == Op::matmul || in_group(n.op, OpGroup::index)) continue;
    flops += op_flops(n.op);
  }
  return flops;
}

// Binds the tensors a step's program reads and fills the push extents of gathered
// axes of dynamic size; returns the dispatch's program index.
constexpr int bind_program(ScheduleBuilder& b, Dispatch& d, const Step& step, std::uint32_t* push_extents) {
  const StepProgram& attached = b.program().programs[std::size_t(step.program)];
  const Expression& e = attached.expression;
  for (std::size_t t = 0; t < step.program_reads.size(); ++t) {
    const int v = step.program_reads[t];
    b.require_contiguous(step, v);
    b.bind(d, e.tensors[t].binding, v);
    const ExprTensor& tensor = e.tensors[t];
    if (tensor.gathered < 0) continue;
    const ExprExtent& x = tensor.extents[std::size_t(tensor.gathered)];
    const Shape& shape = b.value(v).shape;
    const int axis = tensor.gathered - (max_rank - shape.rank);
    if (x.kind == ExprExtent::Kind::push && push_extents != nullptr) push_extents[x.size] = u32(shape[axis]);
  }
  return b.add_program(e, step.program_reads, step.also_writes);
}

}  // namespace detail

constexpr void lower_pointwise(ScheduleBuilder& b, const Step& step) {
  using detail::u32;
  b.require_contiguous(step, step.result);
  const Shape& shape = b.value(step.result).shape;
  const std::int64_t total = shape.elements();
  kernels::PointwisePush push;
  push.total = u32(total);
  const auto dims = detail::padded_dims(shape);
  for (int a = 0; a < max_rank; ++a) push.dims[a] = dims[std::size_t(a)];
  const StepProgram& attached = b.program().programs[std::size_t(step.program)];
  if (attached.scores >= 0) {
    const Shape& scores = b.value(attached.scores).shape;
    push.score_q = u32(scores.from_back(2));
    push.score_k = u32(scores.last());
  }
  Dispatch& d = b.begin(Kernel::pointwise, step);
  for (std::size_t o = 0; o < step.also_writes.size(); ++o) {  // further outputs
    b.require_contiguous(step, step.also_writes[o]);
    b.bind(d, attached.expression.outputs[o].binding, step.also_writes[o]);
  }
  d.program = detail::bind_program(b, d, step, push.extents);
  const Expression& e = b.schedule().programs[std::size_t(d.program)];
  // A gather reads one entry per result element at most, not the whole table (the rows
  // of an embedding a run's tokens pick).
  for (std::size_t t = 0; t < step.program_reads.size(); ++t) {
    if (e.tensors[t].gathered < 0) continue;
    const std::int64_t elements = b.value(step.program_reads[t]).shape.elements();
    const std::int64_t entry = storage_bytes(b.slot_of(step.program_reads[t]).element);
    d.bytes -= double((elements - std::min(elements, total)) * entry);
  }
  kernels::PointwiseConstants constants;
  constants.LOCAL_SIZE = tuning::choose_linear_invocations(b.target());
  d.workgroups = detail::linear_groups(total, constants.LOCAL_SIZE);
  ConfigText config;
  config.append("generated, element per invocation, wg").append(std::int64_t(constants.LOCAL_SIZE));
  b.set_interface<Shader::pointwise>(d, push, constants, config.view(), tuning::target_reason(b.target()).view());
  d.flops = double(total) * std::max(1.0, detail::expression_flops(e, e.needs_stored()));
}

}  // namespace vkattn::passes
