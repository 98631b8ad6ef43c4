#pragma once
// Pass 8 for an op computed by generated code on its own (shaders/pointwise.comp): the
// index values, integer and boolean arithmetic, where, cast, gather, and add or mul of
// integers. One element of the result per invocation; the expression is the op over
// its operands, each read broadcast at the element's coordinates.
#include "vkattn/compiler/pointwise_expression.hpp"
#include "vkattn/compiler/schedule_builder.hpp"

namespace vkattn::passes {

constexpr void lower_pointwise(ScheduleBuilder& b, const Step& step) {
  using detail::u32;
  const Shape& shape = b.value(step.result).shape;
  const std::int64_t total = shape.elements();
  Expression e;
  kernels::PointwisePush push;
  push.total = u32(total);
  const auto dims = detail::padded_dims(shape);
  for (int a = 0; a < max_rank; ++a) push.dims[a] = dims[std::size_t(a)];
  Dispatch& d = b.begin(Kernel::pointwise, step);
  std::array<std::int8_t, 3> args{-1, -1, -1};
  const bool index_op = in_group(step.op, OpGroup::index);
  for (int i = 0; i < op_arity(step.op) && !index_op; ++i) {
    const int v = step.operands[std::size_t(i)];
    const ProgramValue& operand = b.value(v);
    ExprTensor t;
    t.binding = 1 + int(e.tensors.size());
    t.dtype = operand.dtype;
    t.extents = detail::broadcast_extents(operand.shape);
    ExprNode read;
    read.op = Op::input;
    read.dtype = operand.dtype == DType::f16 ? DType::f32 : operand.dtype;
    read.tensor = std::int8_t(e.tensors.size());
    if (step.op == Op::gather && i == 0) {  // the table: one axis is gathered
      const int axis = operand.shape.rank + step.attributes.axis;
      t.gathered = std::int8_t(max_rank + step.attributes.axis);
      t.extents[std::size_t(t.gathered)] = operand.shape.dynamic(axis)
                                               ? ExprExtent{ExprExtent::Kind::push, 0}
                                               : ExprExtent{ExprExtent::Kind::fixed, operand.shape[axis]};
      push.extents[0] = u32(operand.shape[axis]);
      e.tensors.push_back(t);
      b.bind(d, t.binding, v);
      // A gather reads one entry per result element at most, not the whole table (the
      // rows of an embedding a run's tokens pick).
      const std::int64_t entry = storage_bytes(b.slot_of(v).element);
      d.bytes -= double((operand.shape.elements() - std::min(operand.shape.elements(), total)) * entry);
      continue;  // read by the gather node itself
    }
    e.tensors.push_back(t);
    b.bind(d, t.binding, v);
    args[std::size_t(i - (step.op == Op::gather ? 1 : 0))] = std::int8_t(e.add(read));
  }
  if (index_op && step.op != Op::constant) {  // the scores it indexes: only their sizes
    const Shape& scores = b.value(step.operands[0]).shape;
    push.score_q = u32(scores.from_back(2));
    push.score_k = u32(scores.last());
  }
  ExprNode node = detail::op_node(step.op, step.attributes, b.value(step.result).dtype, args);
  if (step.op == Op::gather) node.tensor = 0;
  e.value = e.add(node);
  d.program = b.schedule().add_program(e);
  kernels::PointwiseConstants constants;
  constants.LOCAL_SIZE = tuning::choose_linear_invocations(b.target());
  d.workgroups = detail::linear_groups(total, constants.LOCAL_SIZE);
  ConfigText config;
  config.append("generated, element per invocation, wg").append(std::int64_t(constants.LOCAL_SIZE));
  b.set_interface<Shader::pointwise>(d, push, constants, config.view(), tuning::target_reason(b.target()).view());
  d.flops = double(total);
}

}  // namespace vkattn::passes
