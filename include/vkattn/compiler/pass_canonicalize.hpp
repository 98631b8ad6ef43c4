#pragma once
// Pass 2, canonicalize: common subexpressions (two primitive steps with the same op,
// operands and attributes become one), scale folding (scale(scale(x, a), b) becomes
// scale(x, a * b); scale(x, 1) becomes x), and dead code (steps that no output needs;
// cache writes are always needed, their state outliving the run).
#include "vkattn/compiler/program.hpp"

namespace vkattn::passes {

namespace detail {

constexpr void eliminate_common_subexpressions(Program& p) {
  for (std::size_t later = 0; later < p.steps.size(); ++later) {
    Step& b = p.steps[later];
    if (b.kind != StepKind::primitive) continue;
    for (std::size_t earlier = 0; earlier < later; ++earlier) {
      const Step& a = p.steps[earlier];
      // A repeated body's value exists only in the body; a value from before it is
      // there for the body to reuse. Repeat markers are never merged.
      if (a.kind != StepKind::primitive || a.op != b.op || a.operands != b.operands ||
          !(a.attributes == b.attributes) || (a.body != no_value && a.body != b.body) ||
          in_group(a.op, OpGroup::repeat))
        continue;
      p.replace_uses(b.result, a.result);
      b.kind = StepKind::removed;
      break;
    }
  }
}

constexpr void fold_scales(Program& p) {
  for (Step& step : p.steps) {
    if (step.kind != StepKind::primitive || step.op != Op::scale) continue;
    int source = step.operands[0];
    int producer = p.producer(source);
    if (producer >= 0) {
      Step& inner = p.steps[std::size_t(producer)];
      if (inner.kind == StepKind::primitive && inner.op == Op::scale && p.sole_consumer(source) >= 0 &&
          inner.body == step.body) {
        step.attributes.factor *= inner.attributes.factor;
        step.operands[0] = inner.operands[0];
        absorb_covers(step, inner);
        inner.kind = StepKind::removed;
      }
    }
    if (step.attributes.factor == 1.0 && !p.is_output(step.result)) {
      p.replace_uses(step.result, step.operands[0]);
      step.kind = StepKind::removed;
    }
  }
}

constexpr void remove_dead_steps(Program& p) {
  // char, not bool: libstdc++'s std::vector<bool> is not usable in constant evaluation under clang.
  std::vector<char> needed(p.values.size(), false);
  for (const ProgramOutput& out : p.outputs) needed[std::size_t(out.value)] = true;
  // A cache write outlives the run (the next run reads the state): always needed.
  for (const Step& step : p.steps)
    if (step.kind == StepKind::primitive && is_cache_write(step.op)) needed[std::size_t(step.result)] = true;
  for (std::size_t s = p.steps.size(); s-- > 0;) {
    Step& step = p.steps[s];
    if (step.kind == StepKind::removed) continue;
    bool any_needed = needed[std::size_t(step.result)] != 0;
    for (int v : step.also_writes) any_needed = any_needed || needed[std::size_t(v)] != 0;
    if (!any_needed) {
      step.kind = StepKind::removed;
      continue;
    }
    for (int o : step.operands)
      if (o >= 0) needed[std::size_t(o)] = true;
    for (int o : step.program_reads) needed[std::size_t(o)] = true;
  }
}

}  // namespace detail

constexpr void canonicalize(Program& p) {
  detail::eliminate_common_subexpressions(p);
  detail::fold_scales(p);
  detail::remove_dead_steps(p);
}

}  // namespace vkattn::passes
