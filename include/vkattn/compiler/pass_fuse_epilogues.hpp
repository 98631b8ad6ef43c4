#pragma once
// Pass 5, fuse epilogues. Every matmul becomes a gemm step (unfused schedules too: they
// use the same GEMM kernel). When fusing, the gemm then absorbs, in this order and each
// only when it is the sole use of the product so far:
//   scale (alpha) -> + bias [N] -> an activation (relu, gelu, silu, gelu_tanh) -> + residual
// (same shape), and a layer_norm or rms_norm whose input is a sole-use add of two same-shape values reads both
// (residual + LayerNorm in one dispatch). A fused step moves to the position of the
// last op it absorbed, so every operand it reads is defined before it.
#include "vkattn/compiler/program.hpp"

namespace vkattn::passes {

namespace detail {

constexpr void to_gemm(Step& step) {
  step.kind = StepKind::gemm;
  step.transpose_b = step.attributes.transpose_b;
}

// Absorbs the sole consumer of the gemm at `s` if it is the next epilogue stage.
// Returns the gemm's new position, or -1 when nothing was absorbed.
constexpr int absorb_next(Program& p, std::size_t s, int& stage) {
  Step& gemm = p.steps[s];
  int c = p.sole_consumer(gemm.result);
  if (c < 0) return -1;
  Step& next = p.steps[std::size_t(c)];
  if (next.kind != StepKind::primitive) return -1;
  const Shape& shape = p.value(gemm.result).shape;
  bool absorbed = false;
  if (next.op == Op::scale && stage < 1) {
    gemm.alpha *= next.attributes.factor;
    stage = 1;
    absorbed = true;
  } else if (next.op == Op::add) {
    int other = next.operands[0] == gemm.result ? next.operands[1] : next.operands[0];
    if (other == gemm.result) return -1;  // x + x
    const Shape& os = p.value(other).shape;
    if (stage < 2 && os.rank == 1 && os[0] == shape.last() && gemm.operands[operand::gemm_bias] < 0) {
      gemm.operands[operand::gemm_bias] = other;
      stage = 2;
      absorbed = true;
    } else if (stage < 4 && os == shape && p.value(next.result).shape == shape) {
      gemm.operands[operand::gemm_residual] = other;
      stage = 4;
      absorbed = true;
    }
  } else if (in_group(next.op, OpGroup::activation) && stage < 3) {
    gemm.activation = activation_of(next.op);
    stage = 3;
    absorbed = true;
  }
  if (!absorbed) return -1;
  Step merged = gemm;
  absorb_covers(merged, next);
  merged.result = next.result;
  gemm.kind = StepKind::removed;
  p.steps[std::size_t(c)] = merged;
  return c;
}

}  // namespace detail

constexpr void fuse_epilogues(Program& p) {
  for (Step& step : p.steps)
    if (step.kind == StepKind::primitive && step.op == Op::matmul) detail::to_gemm(step);
  for (Step& step : p.steps)
    if (step.kind == StepKind::primitive && (step.op == Op::layer_norm || step.op == Op::rms_norm)) {
      step.kind = StepKind::layer_norm;
      step.operands[operand::norm_residual] = -1;
    }
  if (!p.fused) return;

  for (std::size_t s = 0; s < p.steps.size(); ++s) {
    if (p.steps[s].kind != StepKind::gemm) continue;
    int stage = 0;
    std::size_t at = s;
    for (int next = detail::absorb_next(p, at, stage); next >= 0; next = detail::absorb_next(p, at, stage))
      at = std::size_t(next);
  }

  for (Step& norm : p.steps) {
    if (norm.kind != StepKind::layer_norm) continue;
    int producer = p.producer(norm.operands[operand::norm_x]);
    if (producer < 0 || p.sole_consumer(norm.operands[operand::norm_x]) < 0) continue;
    Step& add = p.steps[std::size_t(producer)];
    if (add.kind != StepKind::primitive || add.op != Op::add) continue;
    const Shape& shape = p.value(norm.result).shape;
    if (!(p.value(add.operands[0]).shape == shape) || !(p.value(add.operands[1]).shape == shape)) continue;
    norm.operands[operand::norm_x] = add.operands[0];
    norm.operands[operand::norm_residual] = add.operands[1];
    Step merged = add;  // covers in graph order: the add, then the norm
    absorb_covers(merged, norm);
    norm.covers = merged.covers;
    add.kind = StepKind::removed;
  }
}

}  // namespace vkattn::passes
