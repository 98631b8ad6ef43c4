#pragma once
// Pass 3, fuse projections: matmuls x · Wᵢᵀ that share their input x, each with a 2-D
// weight of the same width (and, all or none of them, a bias added right after),
// become one gemm over the weights concatenated along their output axis: Q, K and V
// in one dispatch. The runtime packs the bound weights to match. Each original
// product becomes a view of its columns of the packed product. Projections of which
// only some add a bias pack too when every one of them is read only by elementwise
// ops (a gated feed-forward's gate and up projections): the bias adds stay, and pass 5
// makes them part of the packed gemm's generated epilogue.
#include "vkattn/compiler/program.hpp"

namespace vkattn::passes {

namespace detail {

// The bias step of a projection: its product's sole consumer adds a 1-D weight of
// the product's width. -1 when there is none.
constexpr int projection_bias(const Program& p, const Step& matmul) {
  int consumer = p.sole_consumer(matmul.result);
  if (consumer < 0) return -1;
  const Step& add = p.steps[std::size_t(consumer)];
  if (add.kind != StepKind::primitive || add.op != Op::add || add.body != matmul.body) return -1;
  int other = add.operands[0] == matmul.result ? add.operands[1] : add.operands[0];
  const ProgramValue& bias = p.value(other);
  if (bias.kind != ValueKind::weight || bias.shape.rank != 1 || bias.shape[0] != p.value(matmul.result).shape.last())
    return -1;
  return consumer;
}

// Whether every reader of the projection's value (after its bias, if any) is an
// elementwise op that generated code computes.
constexpr bool read_elementwise(const Program& p, const Step& matmul) {
  const int bias = projection_bias(p, matmul);
  const int value = bias >= 0 ? p.steps[std::size_t(bias)].result : matmul.result;
  if (p.is_output(value)) return false;
  for (const Step& user : p.steps) {
    if (user.kind == StepKind::removed) continue;
    bool reads = false;
    for (int o : user.operands) reads = reads || o == value;
    if (!reads) continue;
    const OpGroup group = op_group(user.op);
    if (user.kind != StepKind::primitive ||
        (group != OpGroup::elementwise && group != OpGroup::activation && group != OpGroup::pointwise))
      return false;
  }
  return true;
}

constexpr bool is_projection(const Program& p, const Step& step) {
  if (step.kind != StepKind::primitive || step.op != Op::matmul || !step.attributes.transpose_b) return false;
  const ProgramValue& w = p.value(step.operands[1]);
  return w.kind == ValueKind::weight && w.shape.rank == 2 && p.value(step.operands[0]).dtype == w.dtype;
}

// "P.in_proj_weight", "P.in_proj_bias", "P.in_proj" when the parts are exactly
// P.q_proj, P.k_proj, P.v_proj (with `suffix` ".weight", ".bias" or ""): PyTorch's
// name for the packed tensor. Empty otherwise.
constexpr Name in_proj_name(const Program& p, const FixedVector<int, max_packed_parts>& values, std::string_view suffix) {
  constexpr std::string_view parts[] = {"q_proj", "k_proj", "v_proj"};
  if (values.size() != 3) return {};
  std::string_view first = p.value(values[0]).name.view();
  const std::size_t tail = parts[0].size() + suffix.size();
  if (first.size() < tail) return {};
  std::string_view prefix = first.substr(0, first.size() - tail);
  if (!prefix.empty() && prefix.back() != '.') return {};
  for (std::size_t i = 0; i < 3; ++i) {
    std::string_view n = p.value(values[i]).name.view();
    if (n.size() != prefix.size() + tail || n.substr(0, prefix.size()) != prefix ||
        n.substr(prefix.size(), parts[i].size()) != parts[i] || n.substr(prefix.size() + parts[i].size()) != suffix)
      return {};
  }
  Name name;
  name.append(prefix).append("in_proj");
  if (suffix == ".weight") name.append("_weight");
  if (suffix == ".bias") name.append("_bias");
  return name;
}

constexpr Name joined_name(const Program& p, const FixedVector<int, max_packed_parts>& values, std::string_view tail) {
  Name name;
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i > 0) name.append("+");
    name.append(p.value(values[i]).name.view());
  }
  name.append(tail);
  return name;
}

}  // namespace detail

constexpr void fuse_projections(Program& p) {
  if (!p.fused) return;
  for (std::size_t first = 0; first < p.steps.size(); ++first) {
    if (!detail::is_projection(p, p.steps[first])) continue;
    const int input = p.steps[first].operands[0];
    const std::int64_t width = p.value(p.steps[first].operands[1]).shape[1];
    bool with_bias = detail::projection_bias(p, p.steps[first]) >= 0;
    FixedVector<int, max_packed_parts> candidates;  // step indices
    candidates.push_back(int(first));
    for (std::size_t s = first + 1; s < p.steps.size() && candidates.size() < max_packed_parts; ++s) {
      const Step& step = p.steps[s];
      if (!detail::is_projection(p, step) || step.operands[0] != input || step.body != p.steps[first].body) continue;
      if (p.value(step.operands[1]).shape[1] != width) continue;
      candidates.push_back(int(s));
    }
    bool mixed = false, elementwise = true;
    for (int s : candidates) {
      mixed = mixed || (detail::projection_bias(p, p.steps[std::size_t(s)]) >= 0) != with_bias;
      elementwise = elementwise && detail::read_elementwise(p, p.steps[std::size_t(s)]);
    }
    FixedVector<int, max_packed_parts> group;
    if (mixed && elementwise) with_bias = false;  // the bias adds stay, on the columns
    for (int s : candidates)
      if (!mixed || elementwise || (detail::projection_bias(p, p.steps[std::size_t(s)]) >= 0) == with_bias)
        group.push_back(s);
    if (group.size() < 2) continue;

    FixedVector<int, max_packed_parts> weights, biases, results;
    std::int64_t total = 0;
    for (int s : group) {
      const Step& mm = p.steps[std::size_t(s)];
      weights.push_back(mm.operands[1]);
      total += p.value(mm.operands[1]).shape[0];
      if (with_bias) {
        const Step& add = p.steps[std::size_t(detail::projection_bias(p, mm))];
        biases.push_back(add.operands[0] == mm.result ? add.operands[1] : add.operands[0]);
        results.push_back(add.result);
      } else {
        results.push_back(mm.result);
      }
    }
    const ProgramValue x = p.value(input);  // a copy: add_value below grows the value list
    // Packed values are named as PyTorch names them where it has a name (the
    // self-attention Q, K, V: "in_proj_weight"), else by their parts ("a+b").
    auto packed_name = [&](const FixedVector<int, max_packed_parts>& parts, std::string_view suffix) {
      Name name = detail::in_proj_name(p, parts, suffix);
      return name.empty() ? detail::joined_name(p, parts, "") : name;
    };
    auto packed_weight = [&](const FixedVector<int, max_packed_parts>& parts, Shape shape, std::string_view suffix) {
      ProgramValue v;
      v.name = packed_name(parts, suffix);
      v.shape = shape;
      v.dtype = x.dtype;
      v.kind = ValueKind::packed_weight;
      v.parts = parts;
      return p.add_value(v);
    };
    int w = packed_weight(weights, Shape{total, width}, ".weight");
    int b = with_bias ? packed_weight(biases, Shape{total}, ".bias") : -1;
    ProgramValue product;
    product.name = packed_name(results, "");
    product.shape = x.shape;
    product.shape[x.shape.rank - 1] = total;
    product.dtype = x.dtype;
    int packed = p.add_value(product);

    Step gemm;
    gemm.body = p.steps[first].body;
    gemm.kind = StepKind::gemm;
    gemm.op = Op::matmul;
    gemm.transpose_b = true;
    gemm.result = packed;
    gemm.operands[operand::gemm_a] = input;
    gemm.operands[operand::gemm_b] = w;
    gemm.operands[operand::gemm_bias] = b;
    // The packed gemm replaces the first projection; every projection (and its bias
    // add) becomes a view of its columns.
    std::int64_t column = 0;
    std::vector<Step> slices;
    for (std::size_t i = 0; i < group.size(); ++i) {
      Step& mm = p.steps[std::size_t(group[i])];
      absorb_covers(gemm, mm);
      Step slice;
      slice.kind = StepKind::view;
      slice.body = gemm.body;
      slice.op = Op::matmul;
      slice.slice = true;
      slice.slice_offset = column;
      slice.result = results[i];
      slice.operands[0] = packed;
      column += p.value(mm.operands[1]).shape[0];
      if (with_bias) {
        Step& add = p.steps[std::size_t(detail::projection_bias(p, mm))];
        absorb_covers(gemm, add);
        add.kind = StepKind::removed;
      }
      mm.kind = StepKind::removed;
      slices.push_back(slice);
    }
    // Every projection result is now defined at the first projection's position.
    Step& anchor = p.steps[first];
    anchor = gemm;
    for (std::size_t i = 0; i < slices.size(); ++i)
      p.steps.insert(p.steps.begin() + std::ptrdiff_t(first + 1 + i), slices[i]);
  }
}

}  // namespace vkattn::passes
