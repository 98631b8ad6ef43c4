#pragma once
// The score program of an attention: every elementwise step between the score matmul
// q·kᵀ and the softmax, with its operands, as one Expression (codegen/expression.hpp)
// that the attention kernel computes per score. Predicates that hide a key
// (where(visible, x, -inf), and the mask ops) are peeled off the top as `visible`, so
// the kernel can also test whole blocks; what remains transforms the score value.
// Mask ops and scales become nodes too, so one mechanism serves every variant.
#include <limits>
#include <vector>

#include "vkattn/compiler/pointwise_expression.hpp"

namespace vkattn::passes::detail {

struct ScoreRegion {
  bool ok = false;
  Message why;                       // when !ok: why the region is no score program
  Expression program;
  int scores = -1;                   // the step of the score matmul q·kᵀ
  std::vector<int> steps;            // the steps the program computes
  double scale = 1.0;                // a positive scale of the raw score, applied to q
  FixedVector<int, max_expression_tensors> tensor_values;  // the program value of each tensor
};

class ScoreRegionBuilder {
 public:
  constexpr ScoreRegionBuilder(const Program& p, int top) : p_(p), top_(top) {}

  constexpr ScoreRegion build() {
    values_.assign(p_.values.size(), -1);
    find_scores(top_);
    if (result_.scores < 0) return fail_with("the softmax's input does not come from a score matmul q·kᵀ");
    const int root = value_node(top_);
    if (failed_) return result_;
    if (!uses_inside()) return result_;
    Expression& e = result_.program;
    // Peel the predicates: where(c, x, -inf) and where(c, -inf, x) with c free of the score.
    int top = root, visible = -1;
    while (true) {
      const ExprNode& n = e.node(top);
      if (n.op != Op::where) break;
      const int c = n.args[0], a = n.args[1], b = n.args[2];
      int keep = -1, hide = -1;
      if (minus_infinity(b)) keep = a, hide = c;
      else if (minus_infinity(a)) keep = b, hide = add(negated(c));
      if (keep < 0 || e.reads_score(c)) break;
      visible = visible < 0 ? hide : add(and_node(visible, hide));
      top = keep;
    }
    if (failed_) return result_;
    fold_scale(top);
    e.visible = visible;
    e.value = e.node(top).op == Op::matmul ? -1 : top;
    if (e.value >= 0 && !is_float(e.node(e.value).dtype)) return fail_with("the scores a softmax sees are not float");
    result_.ok = true;
    return result_;
  }

 private:
  constexpr ScoreRegion fail_with(std::string_view why) {
    failed_ = true;
    result_.ok = false;
    result_.why = Message{why};
    return result_;
  }
  constexpr int add(const ExprNode& n) {
    const int i = result_.program.add(n);
    if (i < 0) fail_with("the score program has more than 96 distinct operations");
    return i < 0 ? 0 : i;
  }
  constexpr bool minus_infinity(int n) const {
    const ExprNode& node = result_.program.node(n);
    return node.op == Op::constant && node.value < 0 && node.value == -std::numeric_limits<double>::infinity();
  }
  constexpr ExprNode negated(int c) const { return op_node(Op::logical_not, {}, DType::boolean, {std::int8_t(c), -1, -1}); }
  constexpr ExprNode and_node(int a, int b) const {
    return op_node(Op::logical_and, {}, DType::boolean, {std::int8_t(a), std::int8_t(b), -1});
  }

  // A positive scale of the raw score, read by nothing else, goes into q's scale.
  constexpr void fold_scale(int top) {
    Expression& e = result_.program;
    int score = -1, readers = 0, scale_node = -1;
    for (int n = 0; n < int(e.nodes.size()); ++n)
      if (e.node(n).op == Op::matmul) score = n;
    for (int n = 0; n < int(e.nodes.size()); ++n)
      for (std::int8_t a : e.node(n).args)
        if (a == score && score >= 0) {
          ++readers;
          if (e.node(n).op == Op::scale && e.node(n).value > 0) scale_node = n;
        }
    if (readers != 1 || scale_node < 0 || scale_node > top) return;
    result_.scale *= e.node(scale_node).value;
    ExprNode raw;
    raw.op = Op::matmul;
    e.nodes[std::size_t(scale_node)] = raw;  // the scaled score is now the score itself
  }

  // A constant node of `dtype`.
  constexpr int constant(double value, DType dtype) {
    ExprNode n;
    n.op = Op::constant;
    n.dtype = dtype;
    n.value = value;
    return add(n);
  }
  constexpr int index(Op op, CausalAlign align = CausalAlign::top_left) {
    Attributes a;
    a.align = align;
    return add(op_node(op, a, DType::i32, {-1, -1, -1}));
  }
  constexpr int binary(Op op, DType dtype, int a, int b) { return add(op_node(op, {}, dtype, {std::int8_t(a), std::int8_t(b), -1})); }
  constexpr int hide_unless(int visible, int x) {
    const int minus_inf = constant(-std::numeric_limits<double>::infinity(), DType::f32);
    return add(op_node(Op::where, {}, DType::f32, {std::int8_t(visible), std::int8_t(x), std::int8_t(minus_inf)}));
  }

  // A tensor operand read at the score's coordinates: aligned from the back (`axis` < 0)
  // or a vector along one coordinate axis (lengths [B], slopes [H]).
  constexpr int tensor(int value, int axis = -1, bool table = false, ExprLimit limit = ExprLimit::none) {
    Expression& e = result_.program;
    // An unsqueezed value is read through its source (the same elements).
    int source = value;
    while (true) {
      const int s = p_.producer(source);
      if (s < 0 || p_.steps[std::size_t(s)].kind != StepKind::primitive || p_.steps[std::size_t(s)].op != Op::unsqueeze) break;
      source = p_.steps[std::size_t(s)].operands[0];
    }
    if (!p_.contiguous(source)) {
      fail_with("an operand of the scores is a strided view");
      return 0;
    }
    const ProgramValue& v = p_.value(value);
    ExprTensor t;
    t.dtype = v.dtype;
    t.gathered = std::int8_t(table ? max_rank - 1 : -1);
    t.limit = limit;
    if (axis >= 0) {
      t.extents[std::size_t(axis)].kind = ExprExtent::Kind::coordinate;
    } else {
      t.extents = broadcast_extents(v.shape);
      if (v.shape.rank > score_shape_.rank && v.shape.rank > 0) {
        fail_with("an operand of the scores has more dimensions than the scores");
        return 0;
      }
      for (int a = 0; a < v.shape.rank; ++a) {  // each axis is 1 or the score's own
        const bool last = table && a == v.shape.rank - 1;
        const int score_axis = a + score_shape_.rank - v.shape.rank;
        if (last) {
          if (!v.shape.dynamic(a)) {
            t.extents[max_rank - 1] = {ExprExtent::Kind::fixed, v.shape[a]};
          } else if (v.shape.same_dim(a, score_shape_, score_shape_.rank - 1)) {
            t.extents[max_rank - 1] = {ExprExtent::Kind::coordinate, 0};
          } else {
            fail_with("a gathered table's last axis is dynamic and not the key axis");
            return 0;
          }
          continue;
        }
        if (!v.shape.dynamic(a) && v.shape[a] == 1) continue;
        if (!v.shape.same_dim(a, score_shape_, score_axis)) {
          fail_with("an operand of the scores does not broadcast to them");
          return 0;
        }
      }
    }
    for (std::size_t i = 0; i < e.tensors.size(); ++i) {
      ExprTensor same = t;  // the same value read the same way: one binding
      same.binding = e.tensors[i].binding;
      if (tensor_values_[i] == source && e.tensors[i] == same) return int(i);
    }
    if (e.tensors.size() == e.tensors.capacity()) {
      fail_with("the score program reads more than 7 tensors");
      return 0;
    }
    t.binding = max_bindings - int(max_expression_tensors) + int(e.tensors.size());
    e.tensors.push_back(t);
    tensor_values_.push_back(source);
    result_.tensor_values.push_back(source);
    return int(e.tensors.size()) - 1;
  }
  constexpr int load(int value, int axis = -1, ExprLimit limit = ExprLimit::none) {
    const int t = tensor(value, axis, false, limit);
    ExprNode n;
    n.op = Op::input;
    n.dtype = p_.value(value).dtype == DType::f16 ? DType::f32 : p_.value(value).dtype;
    n.tensor = std::int8_t(t);
    return add(n);
  }

  // The coordinate of the scores' first axis (a per-sequence vector's).
  constexpr int batch_axis() const { return max_rank - score_shape_.rank; }

  // The node computing `value`.
  constexpr int value_node(int value) {
    if (failed_) return 0;
    if (values_[std::size_t(value)] >= 0) return values_[std::size_t(value)];
    const int s = p_.producer(value);
    const Step* step = s >= 0 ? &p_.steps[std::size_t(s)] : nullptr;
    int node = -1;
    if (s >= 0 && s == result_.scores) {
      ExprNode score;
      score.op = Op::matmul;
      node = add(score);
    } else if (step != nullptr && step->kind == StepKind::primitive && absorbable(step->op)) {
      node = op(*step, value);
      if (!failed_) result_.steps.push_back(s);
    } else {
      node = load(value);
    }
    values_[std::size_t(value)] = node;
    return node;
  }

  static constexpr bool absorbable(Op op) {
    return renderable(op, DType::f32) || in_group(op, OpGroup::mask);
  }

  // The score matmul: the first q·kᵀ reached through steps the region can absorb.
  constexpr void find_scores(int value) {
    if (result_.scores >= 0) return;
    const int s = p_.producer(value);
    if (s < 0) return;
    const Step& step = p_.steps[std::size_t(s)];
    if (step.kind != StepKind::primitive) return;
    if (step.op == Op::matmul && step.attributes.transpose_b) {
      result_.scores = s;
      score_shape_ = p_.value(value).shape;
      return;
    }
    if (!absorbable(step.op) || in_group(step.op, OpGroup::index)) return;
    for (int i = 0; i < op_arity(step.op); ++i) find_scores(step.operands[std::size_t(i)]);
  }

  // The nodes of one step of the region.
  constexpr int op(const Step& step, int result) {
    const std::array<int, 3> o{step.operands[0], step.operands[1], step.operands[2]};
    const DType dtype = p_.value(result).dtype;
    auto x = [&] { return value_node(o[0]); };
    const CausalAlign align = step.attributes.align;
    // Nodes are added in statement order (a function's arguments have no order, and
    // constant evaluation must number the nodes as a run does).
    switch (step.op) {
      case Op::causal_mask: {  // j <= i'
        const int xs = x();
        const int j = index(Op::key_index), i = index(Op::query_index, align);
        return hide_unless(binary(Op::less_equal, DType::boolean, j, i), xs);
      }
      case Op::sliding_window_mask: {  // |i' - j| < window
        const int xs = x();
        const int i = index(Op::query_index, align), j = index(Op::key_index);
        const int difference = binary(Op::sub, DType::i32, i, j);
        const int distance = add(op_node(Op::abs, {}, DType::i32, {std::int8_t(difference), -1, -1}));
        const int window = constant(double(step.attributes.count), DType::i32);
        return hide_unless(binary(Op::less, DType::boolean, distance, window), xs);
      }
      case Op::padding_mask: {  // j < lengths[b]
        const int xs = x();
        const int j = index(Op::key_index), length = load(o[1], batch_axis(), ExprLimit::key_count);
        return hide_unless(binary(Op::less, DType::boolean, j, length), xs);
      }
      case Op::cache_causal_mask: {  // j <= positions[b] + i
        const int xs = x();
        const int position = load(o[1], batch_axis(), ExprLimit::query_start), i = index(Op::query_index);
        const int at = binary(Op::add, DType::i32, position, i);
        const int j = index(Op::key_index);
        return hide_unless(binary(Op::less_equal, DType::boolean, j, at), xs);
      }
      case Op::boolean_mask: {  // mask != 0
        const int xs = x();
        const int mask = load(o[1]), zero_constant = constant(0, DType::f32);
        const int zero = binary(Op::equal, DType::boolean, mask, zero_constant);
        return hide_unless(add(negated(zero)), xs);
      }
      case Op::additive_mask: {
        const int xs = x();
        const int mask = load(o[1]);
        return binary(Op::add, DType::f32, xs, mask);
      }
      case Op::alibi: {  // + slopes[h] * (j - i')
        const int xs = x();
        const int j = index(Op::key_index), i = index(Op::query_index, align);
        const int distance = binary(Op::sub, DType::i32, j, i);
        Attributes to_float;
        to_float.to = DType::f32;
        const int d = add(op_node(Op::cast, to_float, DType::f32, {std::int8_t(distance), -1, -1}));
        const int slope = load(o[1], 1);
        return binary(Op::add, DType::f32, xs, binary(Op::mul, DType::f32, slope, d));
      }
      default: break;
    }
    if (in_group(step.op, OpGroup::index)) {
      if (step.op != Op::constant) {  // the scores it indexes: the same query and key axes
        const Shape& indexed = p_.value(o[0]).shape;
        if (score_shape_.rank < 2 || indexed.rank != score_shape_.rank ||
            !indexed.same_dim(indexed.rank - 1, score_shape_, score_shape_.rank - 1) ||
            !indexed.same_dim(indexed.rank - 2, score_shape_, score_shape_.rank - 2)) {
          // The score is found first (value_node on the operands in order), so a shape is known.
          fail_with("an index value indexes a tensor that is not the scores");
          return 0;
        }
      }
      return add(op_node(step.op, step.attributes, dtype, {-1, -1, -1}));
    }
    std::array<std::int8_t, 3> args{-1, -1, -1};
    if (step.op == Op::gather) {
      if (step.attributes.axis != -1) {
        fail_with("a gather along another axis than the table's last reads rows, not entries of a score's key");
        return 0;
      }
      const int index_node = value_node(o[1]);
      ExprNode n = op_node(Op::gather, step.attributes, dtype, {std::int8_t(index_node), -1, -1});
      n.tensor = std::int8_t(tensor(o[0], -1, true));
      return add(n);
    }
    for (int i = 0; i < op_arity(step.op); ++i) args[std::size_t(i)] = std::int8_t(value_node(o[std::size_t(i)]));
    return add(op_node(step.op, step.attributes, dtype, args));
  }

  // Every value the region computes is read only inside it (and the top by the softmax).
  constexpr bool uses_inside() {
    auto in_region = [&](int s) {
      if (s == result_.scores) return true;
      for (int r : result_.steps)
        if (r == s) return true;
      return false;
    };
    std::vector<int> made;
    made.push_back(result_.scores);
    for (int r : result_.steps) made.push_back(r);
    for (int s : made) {
      const int v = p_.steps[std::size_t(s)].result;
      if (v == top_) continue;
      if (p_.is_output(v)) {
        Message m;
        m << "'" << p_.value(v).name.view() << "' is a graph output, so it is kept in memory";
        result_.why = m;
        failed_ = true;
        return false;
      }
      for (std::size_t u = 0; u < p_.steps.size(); ++u) {
        const Step& user = p_.steps[u];
        if (user.kind == StepKind::removed || in_region(int(u))) continue;
        for (int operand : user.operands)
          if (operand == v) {
            Message m;
            m << "'" << p_.value(v).name.view() << "' is also read by '" << p_.value(user.result).name.view() << "'";
            result_.why = m;
            failed_ = true;
            return false;
          }
      }
    }
    return true;
  }

  const Program& p_;
  int top_;
  ScoreRegion result_;
  std::vector<int> values_;  // program value -> node
  std::vector<int> tensor_values_;
  Shape score_shape_;
  bool failed_ = false;
};

constexpr ScoreRegion score_region(const Program& p, int top) { return ScoreRegionBuilder(p, top).build(); }

}  // namespace vkattn::passes::detail
