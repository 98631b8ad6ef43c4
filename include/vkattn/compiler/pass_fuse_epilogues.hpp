#pragma once
// Pass 5, fuse epilogues. Every matmul becomes a gemm step (unfused schedules too: they
// use the same GEMM kernel). When fusing, a packed projection whose two halves are only
// read as act(first half) * second half (SwiGLU's silu(x Wgᵀ) * (x Wuᵀ), packed by pass
// 3) becomes one gated gemm writing the product. Then each gemm absorbs, in this order
// and each only when it is the sole use of the product so far:
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
  if (next.kind != StepKind::primitive || next.body != gemm.body) return -1;
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

// The live view step that slices `value` at column `offset`, or -1.
constexpr int slice_of(const Program& p, int value, std::int64_t offset) {
  for (std::size_t s = 0; s < p.steps.size(); ++s) {
    const Step& step = p.steps[s];
    if (step.kind == StepKind::view && step.slice && step.operands[0] == value && step.slice_offset == offset)
      return int(s);
  }
  return -1;
}

// Makes the packed gemm at `s` gated when its product [.., 2F] is read only by its two
// halves, [0, F) and [F, 2F), one through an activation, multiplied together.
constexpr bool fuse_gate(Program& p, std::size_t s) {
  Step& gemm = p.steps[s];
  if (gemm.kind != StepKind::gemm || !gemm.transpose_b || gemm.activation != Activation::none ||
      gemm.operands[operand::gemm_residual] >= 0 || gemm.alpha != 1.0)
    return false;
  const Shape& packed = p.value(gemm.result).shape;
  if (packed.last() % 2 != 0 || p.use_count(gemm.result) != 2 || p.is_output(gemm.result)) return false;
  const std::int64_t width = packed.last() / 2;
  const int gate_view = slice_of(p, gemm.result, 0), up_view = slice_of(p, gemm.result, width);
  if (gate_view < 0 || up_view < 0) return false;
  int gate = p.steps[std::size_t(gate_view)].result, up = p.steps[std::size_t(up_view)].result;
  if (p.value(gate).shape.last() != width || p.value(up).shape.last() != width) return false;
  auto activation_step = [&](int value) {
    int c = p.sole_consumer(value);
    return c >= 0 && p.steps[std::size_t(c)].kind == StepKind::primitive &&
                   in_group(p.steps[std::size_t(c)].op, OpGroup::activation)
               ? c
               : -1;
  };
  std::uint32_t gated = 1;
  int act = activation_step(gate);
  if (act < 0) {  // the gate may be the second half
    act = activation_step(up);
    if (act < 0) return false;
    gated = 2;
    const int first = gate;
    gate = up;
    up = first;
  }
  const int product = p.sole_consumer(p.steps[std::size_t(act)].result);
  if (product < 0 || p.sole_consumer(up) != product) return false;
  for (int folded : {gate_view, up_view, act, product})
    if (p.steps[std::size_t(folded)].body != gemm.body) return false;
  Step& mul = p.steps[std::size_t(product)];
  if (mul.kind != StepKind::primitive || mul.op != Op::mul) return false;
  const int activated = p.steps[std::size_t(act)].result;
  if (!((mul.operands[0] == activated && mul.operands[1] == up) || (mul.operands[0] == up && mul.operands[1] == activated)))
    return false;
  gemm.gated = gated;
  gemm.activation = activation_of(p.steps[std::size_t(act)].op);
  gemm.result = mul.result;
  for (int folded : {gate_view, up_view, act, product}) {
    absorb_covers(gemm, p.steps[std::size_t(folded)]);
    p.steps[std::size_t(folded)].kind = StepKind::removed;
  }
  return true;
}

}  // namespace detail

constexpr void fuse_epilogues(Program& p) {
  for (Step& step : p.steps)
    if (step.kind == StepKind::primitive && step.op == Op::matmul) detail::to_gemm(step);
  for (Step& step : p.steps)
    if (step.kind == StepKind::primitive &&
        (step.op == Op::layer_norm || step.op == Op::layer_norm_no_bias || step.op == Op::rms_norm)) {
      step.kind = StepKind::layer_norm;
      step.operands[operand::norm_residual] = -1;
    }
  if (!p.fused) return;

  for (std::size_t s = 0; s < p.steps.size(); ++s) {
    if (p.steps[s].kind != StepKind::gemm) continue;
    // A gated gemm has its bias and activation; only a residual may follow.
    int stage = detail::fuse_gate(p, s) ? 3 : 0;
    std::size_t at = s;
    for (int next = detail::absorb_next(p, at, stage); next >= 0; next = detail::absorb_next(p, at, stage))
      at = std::size_t(next);
  }

  for (Step& norm : p.steps) {
    if (norm.kind != StepKind::layer_norm) continue;
    int producer = p.producer(norm.operands[operand::norm_x]);
    if (producer < 0 || p.sole_consumer(norm.operands[operand::norm_x]) < 0) continue;
    Step& add = p.steps[std::size_t(producer)];
    if (add.kind != StepKind::primitive || add.op != Op::add || add.body != norm.body) continue;
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
