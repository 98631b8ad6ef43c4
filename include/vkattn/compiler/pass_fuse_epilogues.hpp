#pragma once
// Pass 5, fuse epilogues and elementwise regions. Every matmul becomes a gemm step
// (unfused schedules too: they use the same GEMM kernel). When fusing:
//   1. a gemm absorbs its sole consumer when it is a scale (alpha), then a bias add of
//      [N] values (the kernel's linear part: alpha * A·B + bias);
//   2. every elementwise region (elementwise_region.hpp) anchored on a gemm becomes
//      that gemm's generated epilogue: any chain or tree of activations, where,
//      comparisons, arithmetic with broadcast operands (a residual, a per-channel
//      scale, another product of the same shape); a packed gemm read only through its
//      two column halves (silu(gate) * up, GeGLU, a * sigmoid(b)) accumulates both and
//      writes what the region makes of them;
//   3. a layer_norm or rms_norm whose input is a sole-use add of two same-shape values
//      reads both (residual + LayerNorm in one dispatch);
//   4. an elementwise region computing a gemm's A operand, read by that gemm alone,
//      becomes its generated prologue, applied to A as it is loaded (a normalisation
//      by per-row statistics and per-column weights, an activation of the input);
//   5. every remaining elementwise op joins the largest region it can, each region one
//      generated kernel (a pointwise step); a value of the region's shape read beyond it
//      (after the region) is stored by the same kernel, a further output.
// Unfused, each elementwise op is a pointwise step of its own. A fused step moves to
// the position of its region's top, so every operand it reads is defined before it.
#include "vkattn/compiler/elementwise_region.hpp"
#include "vkattn/compiler/pass_canonicalize.hpp"
#include "vkattn/compiler/tuning/choose.hpp"
#include "vkattn/kernels/registry.hpp"

namespace vkattn::passes {

namespace detail {

// Bindings of generated tensors: a gemm's after its own (C, A, B, bias), a pointwise
// kernel's after its result.
inline constexpr int epilogue_first_binding = max_bindings - int(max_expression_tensors);
inline constexpr int pointwise_first_binding = 1;

constexpr void to_gemm(Step& step) {
  step.kind = StepKind::gemm;
  step.transpose_b = step.attributes.transpose_b;
}

// The gemm at `s` absorbs a sole-consumer scale, then a sole-consumer bias add.
constexpr void absorb_linear(Program& p, std::size_t s) {
  std::size_t at = s;
  int stage = 0;
  while (true) {
    Step& gemm = p.steps[at];
    const int c = p.sole_consumer(gemm.result);
    if (c < 0) return;
    Step& next = p.steps[std::size_t(c)];
    if (next.kind != StepKind::primitive || next.body != gemm.body) return;
    const Shape& shape = p.value(gemm.result).shape;
    if (next.op == Op::scale && stage < 1) {
      gemm.alpha *= next.attributes.factor;
      stage = 1;
    } else if (next.op == Op::add && stage < 2 && gemm.operands[operand::gemm_bias] < 0) {
      const int other = next.operands[0] == gemm.result ? next.operands[1] : next.operands[0];
      if (other == gemm.result) return;  // x + x
      const Shape& os = p.value(other).shape;
      if (os.rank != 1 || os[0] != shape.last() || os.dynamic(0) || p.value(other).dtype != p.value(gemm.result).dtype) return;
      gemm.operands[operand::gemm_bias] = other;
      stage = 2;
    } else {
      return;
    }
    Step merged = gemm;
    absorb_covers(merged, next);
    merged.result = next.result;
    gemm.kind = StepKind::removed;
    p.steps[std::size_t(c)] = merged;
    at = std::size_t(c);
  }
}

// The region's steps folded into one step at the top's position: the gemm with the
// region as its epilogue, or a pointwise step.
constexpr void commit_region(Program& p, const ElementwiseRegion& r) {
  Step fused;
  if (r.gemm >= 0) {
    fused = p.steps[std::size_t(r.gemm)];
    fused.gated = r.gated ? 1u : 0u;
  } else {
    fused.kind = StepKind::pointwise;
    fused.body = p.steps[std::size_t(r.top)].body;
  }
  fused.covers.clear();
  for (int s : r.steps) absorb_covers(fused, p.steps[std::size_t(s)]);
  fused.result = p.steps[std::size_t(r.top)].result;
  fused.also_writes = r.outputs;
  fused.program_reads = r.reads;
  StepProgram program;
  program.expression = r.expression;
  program.scores = r.scores;
  p.programs.push_back(program);
  fused.program = int(p.programs.size()) - 1;
  for (int s : r.steps) p.steps[std::size_t(s)].kind = StepKind::removed;
  p.steps[std::size_t(r.top)] = fused;
}

// Whether step `s` can top a region (an elementwise op not yet in one).
constexpr bool region_top(const Step& step) {
  if (step.kind != StepKind::primitive || step.slice) return false;
  const OpGroup group = op_group(step.op);
  return group == OpGroup::index || group == OpGroup::pointwise || group == OpGroup::activation ||
         group == OpGroup::elementwise;
}

// Gemm steps whose A operand a sole-consumer elementwise region computes load A through
// that region. A must not broadcast over the product's batch (the prologue's
// coordinates are A's row z * M + m and column k). A target whose GEMM is the texel
// form (tuning/choose.hpp) declines where N > 64: each invocation loads its rows of A
// itself, once per 64 columns, so the prologue would run N / 64 times per element of A
// with no sharing (measured on lavapipe: 3.7x the GEMM's time for x * rstd * gain at
// 1024 x 512 x 1536); the region is one generated kernel instead.
inline constexpr std::int64_t texel_gemm_columns = 64;  // columns of one workgroup of gemm_texel.comp

constexpr void fuse_prologues(Program& p, const Target& target) {
  const bool shares_a_loads = tuning::vendor_tuning(target.vendor).gemm != tuning::GemmForm::texel;
  for (std::size_t g = 0; g < p.steps.size(); ++g) {
    if (p.steps[g].kind != StepKind::gemm) continue;
    const int a = p.steps[g].operands[operand::gemm_a];
    const int top = p.producer(a);
    if (top < 0 || p.sole_consumer(a) != int(g) || !region_top(p.steps[std::size_t(top)])) continue;
    const Shape& as = p.value(a).shape;
    const Shape& c = p.value(p.steps[g].result).shape;
    if (as.rank != c.rank) continue;
    bool same_rows = true;
    for (int axis = 0; axis + 1 < as.rank; ++axis) same_rows = same_rows && as.same_dim(axis, c, axis);
    if (!same_rows) continue;
    Expression program;
    FixedVector<int, max_expression_tensors> reads;
    if (p.steps[g].program >= 0) {
      program = p.programs[std::size_t(p.steps[g].program)].expression;
      reads = p.steps[g].program_reads;
    }
    const ElementwiseRegion r = find_prologue(p, int(g), top, program, reads);
    if (!r.ok) continue;
    if (!shares_a_loads && c.last() > texel_gemm_columns) {
      p.remark(a, "no GEMM prologue: the texel GEMM reloads A per 64 columns in each invocation (N/64 "
                  "evaluations per element); a generated kernel instead");
      continue;
    }
    Step& gemm = p.steps[g];
    Step merged;  // covers in graph order: the prologue's ops, then the gemm's
    for (int s : r.steps) absorb_covers(merged, p.steps[std::size_t(s)]);
    absorb_covers(merged, gemm);
    gemm.covers = merged.covers;
    gemm.operands[operand::gemm_a] = r.a_value;
    gemm.program_reads = r.reads;
    if (gemm.program >= 0) {
      p.programs[std::size_t(gemm.program)].expression = r.expression;
    } else {
      StepProgram attached;
      attached.expression = r.expression;
      p.programs.push_back(attached);
      gemm.program = int(p.programs.size()) - 1;
    }
    for (int s : r.steps) p.steps[std::size_t(s)].kind = StepKind::removed;
  }
}

constexpr void fuse_norm_residuals(Program& p) {
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

}  // namespace detail

constexpr void fuse_epilogues(Program& p, const Target& target) {
  for (Step& step : p.steps)
    if (step.kind == StepKind::primitive && step.op == Op::matmul) detail::to_gemm(step);
  for (Step& step : p.steps)
    if (step.kind == StepKind::primitive &&
        (step.op == Op::layer_norm || step.op == Op::layer_norm_no_bias || step.op == Op::rms_norm)) {
      step.kind = StepKind::layer_norm;
      step.operands[operand::norm_residual] = -1;
    }
  if (!p.fused) {
    for (std::size_t s = 0; s < p.steps.size(); ++s)
      if (detail::region_top(p.steps[s])) {
        const detail::ElementwiseRegion r = detail::single_op_region(p, int(s), detail::pointwise_first_binding);
        if (r.ok) detail::commit_region(p, r);
      }
    detail::remove_dead_steps(p);  // a copy only a region's source read (an unsqueeze)
    return;
  }

  for (std::size_t s = 0; s < p.steps.size(); ++s)
    if (p.steps[s].kind == StepKind::gemm) detail::absorb_linear(p, s);
  for (int s = int(p.steps.size()) - 1; s >= 0; --s) {
    if (!detail::region_top(p.steps[std::size_t(s)])) continue;
    const detail::ElementwiseRegion r = detail::find_region(p, s, true, detail::epilogue_first_binding);
    if (r.ok && r.gemm >= 0) detail::commit_region(p, r);
  }
  detail::fuse_norm_residuals(p);
  detail::fuse_prologues(p, target);
  for (int s = int(p.steps.size()) - 1; s >= 0; --s) {
    if (!detail::region_top(p.steps[std::size_t(s)])) continue;
    detail::ElementwiseRegion r = detail::find_region(p, s, false, detail::pointwise_first_binding, true);
    if (!r.ok) r = detail::find_region(p, s, false, detail::pointwise_first_binding);  // without further outputs
    if (!r.ok) {
      if (r.steps.size() > 1)
        p.remark(p.steps[std::size_t(s)].result,
                 "its elementwise region needs more than one generated kernel holds (96 operations, 7 tensors, "
                 "4 gathered tables of dynamic size); each of its ops is a kernel of its own");
      r = detail::single_op_region(p, s, detail::pointwise_first_binding);
    }
    if (r.ok) detail::commit_region(p, r);
  }
  detail::remove_dead_steps(p);  // a copy only a region's source read (an unsqueeze)
}

}  // namespace vkattn::passes
