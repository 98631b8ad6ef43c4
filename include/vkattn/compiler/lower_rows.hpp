#pragma once
// Pass 8 for the row reductions, layer_norm (with its fused residual) and softmax:
// shaders/layer_norm.comp and softmax.comp, a workgroup or an invocation per row as the
// target's tuning picks.
#include "vkattn/compiler/schedule_builder.hpp"

namespace vkattn::passes {

namespace detail {

// The launch and configuration text of a row kernel; sets LOCAL_SIZE and
// WORKGROUP_PER_ROW of `constants`.
template <typename Constants>
constexpr ConfigText row_launch(const tuning::RowChoice& choice, std::int64_t rows, Constants& constants,
                                Dispatch& d) {
  constants.LOCAL_SIZE = choice.invocations;
  ConfigText config;
  if (choice.form == tuning::RowForm::workgroup_per_row) {
    constants.WORKGROUP_PER_ROW = 1;
    d.workgroups = spread_groups(rows);
    config.append("workgroup per row, wg").append(std::int64_t(choice.invocations));
  } else {
    constants.WORKGROUP_PER_ROW = 0;
    d.workgroups = linear_groups(rows, choice.invocations);
    config.append("invocation per row, wg").append(std::int64_t(choice.invocations));
  }
  return config;
}

}  // namespace detail

constexpr void lower_layer_norm(ScheduleBuilder& b, const Step& step) {
  const Shape& shape = b.value(step.result).shape;
  const std::int64_t n = shape.last(), rows = shape.elements() / n;
  const int residual = step.operands[operand::norm_residual];
  Dispatch& d = b.begin(Kernel::layer_norm, step);
  const bool rms = step.op == Op::rms_norm;  // no mean, no beta
  const bool beta = step.op == Op::layer_norm;
  for (int i = 0; i < (beta ? 3 : 2); ++i) {
    b.require_contiguous(step, step.operands[std::size_t(i)]);
    b.bind(d, i + 1, step.operands[std::size_t(i)]);
  }
  if (residual >= 0) {
    b.require_contiguous(step, residual);
    b.bind(d, 4, residual);
  }
  kernels::LayerNormPush push;
  push.rows = detail::u32(rows);
  push.n = detail::u32(n);
  push.epsilon = float(step.attributes.epsilon);
  kernels::LayerNormConstants constants;
  constants.HAS_RESIDUAL = residual >= 0 ? 1u : 0u;
  constants.RMS = rms ? 1u : 0u;
  constants.HAS_BETA = beta ? 1u : 0u;
  const tuning::RowChoice choice = tuning::choose_rows(b.target());
  ConfigText config;
  if (rms) config.append("rms, ");
  if (step.op == Op::layer_norm_no_bias) config.append("no bias, ");
  config.append(detail::row_launch(choice, rows, constants, d).view());
  b.set_interface<Shader::layer_norm>(d, push, constants, config.view(), choice.reason.view());
  d.flops = ((rms ? 5.0 : 8.0) + (residual >= 0 ? 1.0 : 0.0)) * double(shape.elements());
}

constexpr void lower_softmax(ScheduleBuilder& b, const Step& step) {
  const Shape& shape = b.value(step.result).shape;
  const std::int64_t n = shape.last(), rows = shape.elements() / n;
  const bool sinks = step.op == Op::softmax_with_sinks;
  Dispatch& d = b.begin(Kernel::softmax, step);
  b.bind(d, 1, step.operands[0]);
  if (sinks) b.bind(d, 2, step.operands[1]);
  kernels::SoftmaxPush push;
  push.rows = detail::u32(rows);
  push.n = detail::u32(n);
  push.queries = detail::u32(shape.rank >= 2 ? shape.from_back(2) : 1);
  push.heads = detail::u32(shape.rank >= 3 ? shape.from_back(3) : 1);
  kernels::SoftmaxConstants constants;
  constants.SINKS = sinks ? 1u : 0u;
  const tuning::RowChoice choice = tuning::choose_rows(b.target());
  ConfigText config;
  if (sinks) config.append("sinks, ");
  config.append(detail::row_launch(choice, rows, constants, d).view());
  b.set_interface<Shader::softmax>(d, push, constants, config.view(), choice.reason.view());
  d.flops = 5.0 * double(shape.elements());
}

}  // namespace vkattn::passes
