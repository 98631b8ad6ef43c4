#pragma once
// Elementwise regions: a connected set of elementwise steps that one generated kernel
// computes per element of the region's result (its top), as an Expression
// (codegen/expression.hpp). Either the epilogue of a GEMM (the gemm's accumulator is
// a node, Op::matmul) or a standalone kernel (shaders/pointwise.comp).
//
// A region grows backwards from its top: a step joins when every reader of its result
// is already in the region (so nothing outside needs the value in memory) and it is no
// graph output. Scanning the steps before the top in reverse order finds the largest
// such region in one pass, since a step's readers come after it. A standalone region
// also takes a step of exactly the top's shape whose value is read beyond it, or is an
// output, when every reader outside comes after the top (the fused step runs at the
// top's position): the kernel stores that value too, a further output
// (Expression::outputs). Only steps connected to the top through values the region
// computes stay in it. A fused region repeats a constant step it reads as a node of
// its own, so a constant shared by several regions is no kernel of its own. A gemm joins as the
// region's anchor when its product is read only by the region and has the top's
// shape; a packed gemm joins through its two column halves (a gated product such as
// silu(x Wgᵀ) * (x Wuᵀ)), each half a node of its own. What feeds the gemm (its A and
// B operands) never joins: that is computed before the product.
//
// A prologue region grows the same way from a gemm's A operand, read by that gemm
// alone: its ops are applied to each element of A as the GEMM loads it. One operand of
// the region with A's full shape is A itself (loaded through the GEMM's strided path,
// the node Op::matmul with axis a_operand_element); the others are read broadcast at
// A's coordinates (a per-row statistic [.., M, 1], a per-column scale [K], ...). Its
// expression joins the gemm's epilogue program as the program's `prologue` root.
#include <vector>

#include "vkattn/compiler/pointwise_expression.hpp"

namespace vkattn::passes::detail {

struct ElementwiseRegion {
  std::vector<int> steps;  // ascending; the top last
  int top = -1;
  int gemm = -1;       // the anchor gemm step, or -1
  bool gated = false;  // the gemm is read through its two column halves
  Expression expression;
  FixedVector<int, max_expression_tensors> reads;  // the program value of each tensor
  int scores = -1;  // the value index values index (its last two axes are their Sq, Sk)
  int a_value = -1;  // a prologue: the value the gemm loads as A
  FixedVector<int, max_expression_outputs> outputs;  // further values it stores (Expression::outputs)
  bool ok = false;
};

// Whether `value` (of shape `shape`) broadcasts to the region's result `space`, axis
// by axis from the back.
constexpr bool broadcasts_to(const Shape& shape, const Shape& space) {
  if (shape.rank > space.rank) return false;
  for (int axis = 0; axis < shape.rank; ++axis) {
    const int at = axis + space.rank - shape.rank;
    if (!shape.dynamic(axis) && shape[axis] == 1) continue;
    if (!shape.same_dim(axis, space, at)) return false;
  }
  return true;
}

class RegionFinder {
 public:
  constexpr RegionFinder(const Program& p, int top, bool with_gemm, int first_binding, bool further_outputs = false)
      : p_(p), top_(top), with_gemm_(with_gemm), first_binding_(first_binding),
        further_outputs_(further_outputs && !with_gemm) {}

  // The prologue region of gemm step `gemm`, whose A operand `top` computes; the
  // gemm's program so far (its epilogue, or an empty one) and its reads are kept.
  constexpr ElementwiseRegion find_prologue(int gemm, const Expression& program, const FixedVector<int, max_expression_tensors>& reads) {
    prologue_ = true;
    inline_constants_ = true;
    region_.gemm = gemm;
    region_.expression = program;
    region_.reads = reads;
    if (!scan()) return region_;
    for (std::size_t s = 0; s < p_.steps.size(); ++s)
      if (inside_[s]) region_.steps.push_back(int(s));
    // A: the first operand from outside with A's shape and dtype (the GEMM loads it in
    // its own element type).
    for (int s : region_.steps) {
      for (int o : p_.steps[std::size_t(s)].operands) {
        if (o < 0 || inside(p_.producer(o)) || a_value_ >= 0) continue;
        const ProgramValue& v = p_.value(o);
        if (v.shape == space_ && v.dtype == p_.value(p_.steps[std::size_t(top_)].result).dtype) a_value_ = o;
      }
    }
    if (a_value_ < 0) return region_;
    region_.a_value = a_value_;
    build();
    return region_;
  }

  constexpr ElementwiseRegion find() {
    inline_constants_ = true;
    if (!scan()) return region_;
    // A column half whose gemm stayed outside is read from memory like any operand.
    for (std::size_t s = 0; s < p_.steps.size(); ++s)
      if (inside_[s] && p_.steps[s].kind == StepKind::view && !(region_.gemm >= 0 && region_.gated))
        inside_[s] = 0;
    if (region_.gemm >= 0 && region_.gated) {
      // Both halves must be inside: the gemm joined only because its readers were.
      int halves = 0;
      for (std::size_t s = 0; s < p_.steps.size(); ++s)
        if (inside_[s] && p_.steps[s].kind == StepKind::view) ++halves;
      if (halves != 2) return region_;
    }
    if (further_outputs_) keep_connected();
    for (std::size_t s = 0; s < p_.steps.size(); ++s)
      if (inside_[s]) region_.steps.push_back(int(s));
    build();
    return region_;
  }

  // The region of the top alone (one dispatch per op: the unfused schedule, or a
  // region too large for one expression).
  constexpr ElementwiseRegion find_alone() {
    if (!start()) return region_;
    region_.steps.push_back(top_);
    build();
    return region_;
  }

 private:
  // The region's space (the top's shape) and the top alone inside; false when the top
  // cannot be generated code.
  constexpr bool start() {
    const Step& top = p_.steps[std::size_t(top_)];
    space_ = p_.value(top.result).shape;
    region_.top = top_;
    if (!joins_as_op(top) || space_.rank > max_rank) return false;
    inside_.assign(p_.steps.size(), 0);
    inside_[std::size_t(top_)] = 1;
    return true;
  }

  // Marks the top and every earlier step that joins (reverse order: a step's readers
  // come after it); false when the top itself cannot be generated code. Without
  // with_gemm no gemm or column half joins (a prologue's, a standalone region).
  constexpr bool scan() {
    if (!start()) return false;
    const Step& top = p_.steps[std::size_t(top_)];
    for (int s = top_ - 1; s >= 0; --s) {
      const Step& step = p_.steps[std::size_t(s)];
      if (step.kind == StepKind::removed || step.body != top.body) continue;
      bool candidate = false;
      if (step.kind == StepKind::primitive) candidate = joins_as_op(step);
      else if (step.kind == StepKind::view) candidate = half_of_packed_gemm(step);
      else if (step.kind == StepKind::gemm) candidate = joins_as_gemm(step);
      if (!candidate) continue;
      if (!read_only_inside(step.result)) {
        if (!stored_beyond(step)) continue;
        ++further_;
      }
      inside_[std::size_t(s)] = 1;
      if (step.kind == StepKind::gemm) region_.gemm = s;
    }
    return true;
  }

  // An elementwise op generated code computes, with a result inside the region's space.
  constexpr bool joins_as_op(const Step& step) const {
    if (step.kind != StepKind::primitive || step.slice) return false;
    const OpGroup group = op_group(step.op);
    if (group != OpGroup::index && group != OpGroup::pointwise && group != OpGroup::activation &&
        group != OpGroup::elementwise)
      return false;
    if ((with_gemm_ || prologue_) && step.op == Op::gather) return false;  // a gathered table's size is no GEMM push constant
    if (prologue_ && in_group(step.op, OpGroup::index) && step.op != Op::constant) return false;  // A has no scores
    const Shape& shape = p_.value(step.result).shape;
    return shape.rank <= max_rank && broadcasts_to(shape, space_);
  }

  constexpr bool gemm_free_for_epilogue(const Step& gemm) const {
    return with_gemm_ && region_.gemm < 0 && gemm.kind == StepKind::gemm && gemm.program < 0 && gemm.gated == 0;
  }

  // A column half [0, F) or [F, 2F) of a packed gemm's product [.., 2F], F the space's last axis.
  constexpr bool half_of_packed_gemm(const Step& view) const {
    if (!view.slice || !with_gemm_) return false;
    const int g = p_.producer(view.operands[0]);
    if (g < 0 || !gemm_free_for_epilogue(p_.steps[std::size_t(g)]) || !p_.steps[std::size_t(g)].transpose_b) return false;
    const Shape& packed = p_.value(view.operands[0]).shape;
    const Shape& half = p_.value(view.result).shape;
    if (packed.dynamic(packed.rank - 1) || packed.last() % 2 != 0 || half.last() * 2 != packed.last()) return false;
    if (view.slice_offset != 0 && view.slice_offset != half.last()) return false;
    return half == space_;
  }

  constexpr bool joins_as_gemm(const Step& gemm) {
    if (!gemm_free_for_epilogue(gemm)) return false;
    const Shape& shape = p_.value(gemm.result).shape;
    if (shape == space_) {
      region_.gated = false;
      return true;
    }
    // Gated: read only by its two halves, both inside.
    int halves = 0;
    for (std::size_t s = 0; s < p_.steps.size(); ++s)
      if (inside_[s] && p_.steps[s].kind == StepKind::view && p_.steps[s].operands[0] == gemm.result) ++halves;
    if (halves != 2) return false;
    region_.gated = true;
    return true;
  }

  // Who reads a value: steps of the region (not its gemm, which reads its operands
  // before the region starts), and anything else (a step outside, the gemm, the graph's
  // outputs), in particular steps outside at or before the top.
  struct Readers {
    bool inside = false, outside = false, outside_by_top = false;
  };
  constexpr Readers readers_of(int value) const {
    Readers r;
    r.outside = p_.is_output(value);
    for (std::size_t u = 0; u < p_.steps.size(); ++u) {
      const Step& user = p_.steps[u];
      if (user.kind == StepKind::removed) continue;
      bool reads = false;
      for (int o : user.operands) reads = reads || o == value;
      for (int o : user.program_reads) reads = reads || o == value;
      if (!reads) continue;
      if (inside_[u] && int(u) != region_.gemm) {
        r.inside = true;
      } else {
        r.outside = true;
        r.outside_by_top = r.outside_by_top || int(u) <= top_;
      }
    }
    return r;
  }

  // Every reader of `value` is inside; the value is no output.
  constexpr bool read_only_inside(int value) const {
    const Readers r = readers_of(value);
    return r.inside && !r.outside;
  }

  constexpr bool inside(int step) const { return step >= 0 && inside_[std::size_t(step)] != 0; }

  // Whether elementwise step `step`, whose value is read outside the region (or is an
  // output), can join as a further output: of exactly the region's space, read outside
  // only after the top, and room for another output.
  constexpr bool stored_beyond(const Step& step) const {
    if (!further_outputs_ || prologue_ || further_ == int(max_expression_outputs)) return false;
    return p_.value(step.result).shape == space_ && !readers_of(step.result).outside_by_top;
  }

  // Drops the steps not connected to the top through values the region computes (a
  // further output is a step whose value is read beyond the region, not necessarily by
  // it). A dropped step's readers inside are connected to it, so they go too.
  constexpr void keep_connected() {
    std::vector<char> reached(p_.steps.size(), 0);
    reached[std::size_t(top_)] = 1;
    for (bool grew = true; grew;) {
      grew = false;
      for (std::size_t u = 0; u < p_.steps.size(); ++u) {
        if (!inside_[u]) continue;
        for (int o : p_.steps[u].operands) {
          const int s = o < 0 ? -1 : p_.producer(o);
          if (!inside(s) || reached[u] == reached[std::size_t(s)]) continue;
          reached[u] = reached[std::size_t(s)] = 1;
          grew = true;
        }
      }
    }
    for (std::size_t u = 0; u < p_.steps.size(); ++u) inside_[u] = inside_[u] && reached[u];
  }


  constexpr void fail() { failed_ = true; }
  constexpr int add(const ExprNode& n) {
    const int i = region_.expression.add(n);
    if (i < 0) fail();
    return i < 0 ? 0 : i;
  }

  constexpr void build() {
    values_.assign(p_.values.size(), -1);
    const int root = value_node(p_.steps[std::size_t(top_)].result);
    if (failed_) return;
    (prologue_ ? region_.expression.prologue : region_.expression.value) = root;
    if (further_outputs_)
      for (int s : region_.steps) {
        if (s == top_ || !readers_of(p_.steps[std::size_t(s)].result).outside) continue;
        const int value = p_.steps[std::size_t(s)].result;
        ExprOutput out;
        out.node = value_node(value);
        out.binding = first_binding_ + int(max_expression_tensors) + int(region_.outputs.size());
        out.dtype = p_.value(value).dtype;
        if (failed_ || region_.outputs.size() == region_.outputs.capacity()) return;
        region_.expression.outputs.push_back(out);
        region_.outputs.push_back(value);
      }
    const DType dtype = region_.expression.node(root).dtype;
    // A GEMM multiplies and writes floats of its own dtype (one element type for A, B
    // and C); a cast to another ends its epilogue.
    const DType top = p_.value(p_.steps[std::size_t(top_)].result).dtype;
    if (region_.gemm >= 0 && !prologue_ && top != p_.value(p_.steps[std::size_t(region_.gemm)].result).dtype) return;
    if (region_.gemm >= 0 && !is_float(dtype)) return;
    region_.ok = true;
  }

  constexpr int accumulator(std::int8_t which) {
    ExprNode n;
    n.op = Op::matmul;
    n.axis = which;
    return add(n);
  }

  constexpr int value_node(int value) {
    if (failed_) return 0;
    if (values_[std::size_t(value)] >= 0) return values_[std::size_t(value)];
    const int s = p_.producer(value);
    int node = 0;
    if (prologue_ && value == a_value_) {
      node = accumulator(a_operand_element);
    } else if (!prologue_ && s >= 0 && s == region_.gemm && !region_.gated) {
      node = accumulator(accumulator_whole);
    } else if (inside(s) && p_.steps[std::size_t(s)].kind == StepKind::view) {
      node = accumulator(p_.steps[std::size_t(s)].slice_offset == 0 ? accumulator_first_half : accumulator_second_half);
    } else if (inside(s) || (inline_constants_ && s >= 0 && p_.steps[std::size_t(s)].kind == StepKind::primitive &&
                               p_.steps[std::size_t(s)].op == Op::constant)) {
      node = op(p_.steps[std::size_t(s)], value);  // a constant from outside costs nothing to repeat
    } else {
      node = load(value);
    }
    values_[std::size_t(value)] = node;
    return node;
  }

  // A tensor read at the region's coordinates (broadcast), or `gathered` along one axis.
  constexpr int tensor(int value, int gathered_axis = -1) {
    Expression& e = region_.expression;
    int source = value;  // an unsqueezed value is read through its source (the same elements)
    while (true) {
      const int s = p_.producer(source);
      if (s < 0 || p_.steps[std::size_t(s)].kind != StepKind::primitive || p_.steps[std::size_t(s)].op != Op::unsqueeze) break;
      source = p_.steps[std::size_t(s)].operands[0];
    }
    const ProgramValue& v = p_.value(value);
    ExprTensor t;
    t.dtype = v.dtype;
    if (!p_.contiguous(source) || v.shape.rank > max_rank) {
      fail();
      return 0;
    }
    if (gathered_axis >= 0) {
      t.extents = broadcast_extents(v.shape);
      const int aligned = gathered_axis + max_rank - v.shape.rank;
      t.gathered = std::int8_t(aligned);
      if (v.shape.dynamic(gathered_axis)) {
        if (push_extents_ == 4) {
          fail();
          return 0;
        }
        t.extents[std::size_t(aligned)] = {ExprExtent::Kind::push, push_extents_++};
      } else {
        t.extents[std::size_t(aligned)] = {ExprExtent::Kind::fixed, v.shape[gathered_axis]};
      }
      for (int axis = 0; axis < v.shape.rank; ++axis)  // the others broadcast
        if (axis != gathered_axis && !(v.shape[axis] == 1 && !v.shape.dynamic(axis)) &&
            !v.shape.same_dim(axis, space_, axis + space_.rank - v.shape.rank)) {
          fail();
          return 0;
        }
    } else {
      if (!broadcasts_to(v.shape, space_)) {
        fail();
        return 0;
      }
      t.extents = broadcast_extents(v.shape);
    }
    for (std::size_t i = 0; i < e.tensors.size(); ++i) {
      ExprTensor same = t;  // the same value read the same way: one binding
      same.binding = e.tensors[i].binding;
      if (region_.reads[i] == source && e.tensors[i] == same) return int(i);
    }
    if (e.tensors.size() == e.tensors.capacity()) {
      fail();
      return 0;
    }
    t.binding = first_binding_ + int(e.tensors.size());
    e.tensors.push_back(t);
    region_.reads.push_back(source);
    return int(e.tensors.size()) - 1;
  }

  constexpr int load(int value) {
    ExprNode n;
    n.op = Op::input;
    n.dtype = p_.value(value).dtype == DType::f16 ? DType::f32 : p_.value(value).dtype;
    n.tensor = std::int8_t(tensor(value));
    return add(n);
  }

  constexpr int op(const Step& step, int result) {
    const DType dtype = p_.value(result).dtype;
    if (in_group(step.op, OpGroup::index)) {
      if (step.op != Op::constant) {  // the scores it indexes: their last two axes
        const int scores = step.operands[0];
        const Shape& shape = p_.value(scores).shape;
        auto same_last_two = [&](const Shape& other) {
          return shape.rank >= 2 && other.rank >= 2 && shape.same_dim(shape.rank - 1, other, other.rank - 1) &&
                 shape.same_dim(shape.rank - 2, other, other.rank - 2);
        };
        if (region_.scores < 0) region_.scores = scores;
        if (!same_last_two(p_.value(region_.scores).shape)) fail();
        // A GEMM epilogue knows the scores' sizes only as its own last two axes.
        if (with_gemm_ && !same_last_two(space_)) fail();
      }
      return add(op_node(step.op, step.attributes, dtype, {-1, -1, -1}));
    }
    if (step.op == Op::gather) {
      const Shape& table = p_.value(step.operands[0]).shape;
      const int index_node = value_node(step.operands[1]);
      ExprNode n = op_node(Op::gather, step.attributes, dtype, {std::int8_t(index_node), -1, -1});
      n.tensor = std::int8_t(tensor(step.operands[0], table.rank + step.attributes.axis));
      return add(n);
    }
    std::array<std::int8_t, 3> args{-1, -1, -1};
    for (int i = 0; i < op_arity(step.op); ++i) args[std::size_t(i)] = std::int8_t(value_node(step.operands[std::size_t(i)]));
    return add(op_node(step.op, step.attributes, dtype, args));
  }

  const Program& p_;
  int top_;
  bool with_gemm_;
  int first_binding_;
  Shape space_;
  ElementwiseRegion region_;
  std::vector<char> inside_;
  std::vector<int> values_;  // program value -> node
  std::int64_t push_extents_ = 0;
  bool failed_ = false;
  bool prologue_ = false;
  int a_value_ = -1;
  bool further_outputs_ = false;  // a standalone region may store values read beyond it
  bool inline_constants_ = false;  // a constant outside is a node, not a read (fused regions)
  int further_ = 0;               // steps that joined as further outputs
};

// The largest region with `top` as its result: with a gemm anchor when `with_gemm`
// finds one (its tensors at bindings from `first_binding`); without one, and with
// `further_outputs`, also storing values read beyond it. `ok` is false when no
// expression of the limits (nodes, tensors, outputs) computes it.
constexpr ElementwiseRegion find_region(const Program& p, int top, bool with_gemm, int first_binding,
                                        bool further_outputs = false) {
  return RegionFinder(p, top, with_gemm, first_binding, further_outputs).find();
}

// The prologue region of gemm step `gemm`, whose A operand step `top` computes (the
// gemm its only reader), added to `program` (the gemm's epilogue, or empty) whose
// tensors `reads` reads.
constexpr ElementwiseRegion find_prologue(const Program& p, int gemm, int top, const Expression& program,
                                          const FixedVector<int, max_expression_tensors>& reads) {
  const int first_binding = max_bindings - int(max_expression_tensors);
  return RegionFinder(p, top, false, first_binding).find_prologue(gemm, program, reads);
}

// The region of `top` alone.
constexpr ElementwiseRegion single_op_region(const Program& p, int top, int first_binding) {
  return RegionFinder(p, top, false, first_binding).find_alone();
}

}  // namespace vkattn::passes::detail
