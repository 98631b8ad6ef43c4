#pragma once
// Pass 4, fuse attention: the pattern
//   matmul(q, kᵀ) -> [any elementwise region] -> softmax -> matmul(·, v)
// becomes one flash-attention step: online softmax over blocks of keys, so the query x
// key score matrix never exists in memory. Around it:
//   k and v may come through repeat_heads (grouped-query attention), read directly;
//   k and v may be paged views of a paged KV cache (one block table), read from their
//   page pools through the table;
//   q and k may come through rotary_embedding (before or after repeat_heads), applied
//   as the kernel loads them;
//   the region (scales, the mask ops, a softcap, ALiBi, anything written from index
//   values and pointwise ops) is the step's score program (score_program.hpp), except a
//   positive scale of the raw score, which scales q; softmax_with_sinks adds the sinks.
// Every intermediate must have that chain as its only use; one that is also a graph
// output (the probabilities, say) stays materialised and the pattern is left unfused,
// with a remark saying why.
#include <algorithm>
#include "vkattn/compiler/program.hpp"
#include "vkattn/compiler/score_program.hpp"

namespace vkattn::passes {

namespace detail {

// The primitive step of `op` that defines `value` and is its only use; -1 otherwise.
constexpr int sole_producer(const Program& p, int value, Op op) {
  int s = p.producer(value);
  if (s < 0 || p.sole_consumer(value) < 0) return -1;
  const Step& step = p.steps[std::size_t(s)];
  return step.kind == StepKind::primitive && step.op == op ? s : -1;
}

// Tries to fuse the attention that ends in the matmul at step `pv`.
constexpr bool fuse_attention_at(Program& p, std::size_t pv) {
  const Step& out = p.steps[pv];
  if (out.kind != StepKind::primitive || out.op != Op::matmul || out.attributes.transpose_b) return false;
  int softmax = sole_producer(p, out.operands[0], Op::softmax);
  if (softmax < 0) softmax = sole_producer(p, out.operands[0], Op::softmax_with_sinks);
  if (softmax < 0) {
    const int probs = out.operands[0], maker = p.producer(probs);
    if (maker >= 0 && p.steps[std::size_t(maker)].kind == StepKind::primitive &&
        (p.steps[std::size_t(maker)].op == Op::softmax || p.steps[std::size_t(maker)].op == Op::softmax_with_sinks)) {
      Message m;
      m << "attention not fused: the probabilities '" << p.value(probs).name.view() << "' "
        << (p.is_output(probs) ? "are a graph output, so they are kept in memory" : "are read by another op too");
      p.remark(probs, m.view());
    }
    return false;
  }
  auto decline = [&](std::string_view why) {
    Message m;
    m << "attention not fused: " << why;
    p.remark(p.steps[std::size_t(softmax)].result, m.view());
    return false;
  };

  // Everything between the score matmul and the softmax (scales, masks, a softcap, any
  // elementwise variant) is one score program.
  const ScoreRegion region = score_region(p, p.steps[std::size_t(softmax)].operands[0]);
  if (!region.ok) return decline(region.why.view());
  Step fused;
  fused.kind = StepKind::flash_attention;
  fused.result = out.result;
  fused.scale = region.scale;
  const int scores = region.scores;
  const bool has_program = region.program.visible >= 0 || region.program.value >= 0;
  const Step& qk = p.steps[std::size_t(scores)];
  int q = qk.operands[0], k = qk.operands[1], v = out.operands[1];
  // Rotary embeddings of k after its head repeat, and of q.
  int k_rotary = sole_producer(p, k, Op::rotary_embedding);
  if (k_rotary >= 0) k = p.steps[std::size_t(k_rotary)].operands[0];
  int q_rotary = sole_producer(p, q, Op::rotary_embedding);
  // Grouped-query attention: read the shared key/value heads directly.
  int k_repeat = sole_producer(p, k, Op::repeat_heads), v_repeat = sole_producer(p, v, Op::repeat_heads);
  if ((k_repeat >= 0) != (v_repeat >= 0)) return decline("the keys and values are not repeated over the same heads");
  if (k_repeat >= 0) {
    std::int64_t group = p.steps[std::size_t(k_repeat)].attributes.count;
    if (p.steps[std::size_t(v_repeat)].attributes.count != group)
      return decline("the keys and values are repeated over different head groups");
    fused.kv_group = group;
    k = p.steps[std::size_t(k_repeat)].operands[0];
    v = p.steps[std::size_t(v_repeat)].operands[0];
    if (k_rotary < 0) {  // a rotary embedding before the repeat
      k_rotary = sole_producer(p, k, Op::rotary_embedding);
      if (k_rotary >= 0) k = p.steps[std::size_t(k_rotary)].operands[0];
    }
  }
  // One set of rotary constants: q's rotation stays a step of its own when it differs
  // from k's.
  if (q_rotary >= 0 && k_rotary >= 0 &&
      !(p.steps[std::size_t(q_rotary)].attributes == p.steps[std::size_t(k_rotary)].attributes))
    q_rotary = -1;
  if (q_rotary >= 0) {
    q = p.steps[std::size_t(q_rotary)].operands[0];
    fused.rotary |= VKATTN_ATTENTION_ROTARY_Q;
    fused.attributes = p.steps[std::size_t(q_rotary)].attributes;
  }
  if (k_rotary >= 0) {
    fused.rotary |= VKATTN_ATTENTION_ROTARY_K;
    fused.attributes = p.steps[std::size_t(k_rotary)].attributes;
  }
  const Shape& qs = p.value(q).shape;
  const Shape& ks = p.value(k).shape;
  const Shape& vs = p.value(v).shape;
  if (qs.rank < 3 || qs.rank > 4 || ks.rank != qs.rank || vs.rank != qs.rank)
    return decline("q, k and v are not all [heads, seq, dim] or [batch, heads, seq, dim]");
  // Batch and heads must match exactly (no broadcasting inside the fused kernel).
  for (int axis = 0; axis < qs.rank - 2; ++axis) {
    std::int64_t heads_factor = axis == qs.rank - 3 ? fused.kv_group : 1;
    if (ks[axis] * heads_factor != qs[axis] || vs[axis] * heads_factor != qs[axis])
      return decline("q, k and v differ in batch or heads (the kernel does not broadcast them)");
  }
  if (ks.from_back(2) != vs.from_back(2)) return decline("k and v have different numbers of keys");
  // A paged KV cache: k and v read from their page pools through one block table.
  const int k_paged = sole_producer(p, k, Op::paged_view), v_paged = sole_producer(p, v, Op::paged_view);
  if ((k_paged >= 0) != (v_paged >= 0)) return decline("only one of the keys and values is a paged view");
  if (k_paged >= 0) {
    const Step& kp = p.steps[std::size_t(k_paged)];
    const Step& vp = p.steps[std::size_t(v_paged)];
    if (kp.operands[1] != vp.operands[1]) return decline("the keys and values are paged through different block tables");
    if (p.value(kp.operands[0]).shape[2] != p.value(vp.operands[0]).shape[2] ||
        p.value(kp.operands[0]).shape[0] != p.value(vp.operands[0]).shape[0])
      return decline("the key and value pools differ in page size or pages");
    k = kp.operands[0];
    v = vp.operands[0];
    fused.operands[operand::attention_table] = kp.operands[1];
  }

  if (p.steps[std::size_t(softmax)].op == Op::softmax_with_sinks)
    fused.operands[operand::attention_sinks] = p.steps[std::size_t(softmax)].operands[1];
  fused.operands[operand::attention_q] = q;
  fused.operands[operand::attention_k] = k;
  fused.operands[operand::attention_v] = v;
  // Every step folded in runs where the fused step will: in the same repeated body.
  fused.body = p.steps[pv].body;
  {
    bool one_body = true;
    for (int s : {q_rotary, k_rotary, k_repeat, v_repeat, k_paged, v_paged, scores, softmax})
      if (s >= 0 && p.steps[std::size_t(s)].body != fused.body) one_body = false;
    for (int s : region.steps)
        if (p.steps[std::size_t(s)].body != fused.body) one_body = false;
    if (!one_body) return decline("its ops lie inside and outside a repeated body");
  }

  // Covers in graph order: rotary embeddings, head repeats, score matmul, scales and
  // masks, softmax, the final matmul.
  for (int rotary : {q_rotary, k_rotary}) {
    if (rotary < 0) continue;
    absorb_covers(fused, p.steps[std::size_t(rotary)]);
    p.steps[std::size_t(rotary)].kind = StepKind::removed;
  }
  if (k_repeat >= 0) {
    absorb_covers(fused, p.steps[std::size_t(k_repeat)]);
    absorb_covers(fused, p.steps[std::size_t(v_repeat)]);
    p.steps[std::size_t(k_repeat)].kind = StepKind::removed;
    p.steps[std::size_t(v_repeat)].kind = StepKind::removed;
  }
  if (k_paged >= 0) {
    absorb_covers(fused, p.steps[std::size_t(k_paged)]);
    absorb_covers(fused, p.steps[std::size_t(v_paged)]);
    p.steps[std::size_t(k_paged)].kind = StepKind::removed;
    p.steps[std::size_t(v_paged)].kind = StepKind::removed;
  }
  absorb_covers(fused, p.steps[std::size_t(scores)]);
  p.steps[std::size_t(scores)].kind = StepKind::removed;
  // The score program's steps, in program order.
  for (std::size_t s = 0; s < p.steps.size(); ++s)
    if (std::find(region.steps.begin(), region.steps.end(), int(s)) != region.steps.end()) {
      absorb_covers(fused, p.steps[s]);
      p.steps[s].kind = StepKind::removed;
    }
  if (has_program) {  // a positive scale alone went into q's scale: no program
    StepProgram attached;
    attached.expression = region.program;
    fused.program_reads = region.tensor_values;
    p.programs.push_back(attached);
    fused.program = int(p.programs.size()) - 1;
  }
  absorb_covers(fused, p.steps[std::size_t(softmax)]);
  p.steps[std::size_t(softmax)].kind = StepKind::removed;
  absorb_covers(fused, p.steps[pv]);
  p.steps[pv] = fused;
  return true;
}

}  // namespace detail

constexpr void fuse_attention(Program& p) {
  if (!p.fused) return;
  for (std::size_t s = 0; s < p.steps.size(); ++s) detail::fuse_attention_at(p, s);
  // A score program reads an unsqueezed operand through its source: the unsqueeze
  // steps it leaves unread go (last first, so a chain of them goes whole).
  for (std::size_t s = p.steps.size(); s-- > 0;) {
    Step& step = p.steps[s];
    if (step.kind == StepKind::primitive && step.op == Op::unsqueeze && p.use_count(step.result) == 0)
      step.kind = StepKind::removed;
  }
}

}  // namespace vkattn::passes
