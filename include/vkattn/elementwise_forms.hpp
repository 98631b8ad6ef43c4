#pragma once
// The elementwise functions generated code computes, one line each: the op, its typing
// rule (ElementwiseTyping below: which dtypes its operands take, what it makes), its
// FLOPs per element (as listings and the cost model count them), its GLSL with $0, $1,
// $2 for the operands (computed in f32, or i32 / bool where the operands are), and its
// reference over doubles a, b, c (reference/reference.cpp). Type inference (infer.hpp),
// the graph JSON form (no attributes), the renderer (codegen/render_glsl.cpp), the
// reference and the cost model read this table and nothing else for these ops, so a new
// elementwise op is its line in the op list (ir.hpp), its line here and its DSL
// function (pointwise_ops.hpp). Ops with attributes or dtype-dependent meaning (scale,
// floor_div, cast, where, gather, the index values) are written where they are used.
// gelu and tanh_stable are shaders/common.glsl's (exact forms with bounded error).
//
// X(op, typing, FLOPs, GLSL, reference)
#define VKATTN_ELEMENTWISE_FORMS(X)                                                                                    \
  X(add, arithmetic, 1, "($0 + $1)", a + b)                                                                            \
  X(mul, arithmetic, 1, "($0 * $1)", a * b)                                                                            \
  X(sub, arithmetic, 1, "($0 - $1)", a - b)                                                                            \
  X(minimum, arithmetic, 1, "min($0, $1)", (b < a ? b : a))                                                            \
  X(maximum, arithmetic, 1, "max($0, $1)", (b > a ? b : a))                                                            \
  X(abs, numeric, 1, "abs($0)", std::fabs(a))                                                                          \
  X(exp, floating, 4, "exp($0)", std::exp(a))                                                                          \
  X(log, floating, 4, "log($0)", std::log(a))                                                                          \
  X(less, comparison, 1, "($0 < $1)", (a < b ? 1.0 : 0.0))                                                             \
  X(less_equal, comparison, 1, "($0 <= $1)", (a <= b ? 1.0 : 0.0))                                                     \
  X(equal, comparison, 1, "($0 == $1)", (a == b ? 1.0 : 0.0))                                                          \
  X(logical_and, logical, 1, "($0 && $1)", (a != 0 && b != 0 ? 1.0 : 0.0))                                             \
  X(logical_or, logical, 1, "($0 || $1)", (a != 0 || b != 0 ? 1.0 : 0.0))                                              \
  X(logical_not, logical, 1, "(!$0)", (a != 0 ? 0.0 : 1.0))                                                            \
  X(relu, floating, 1, "max($0, 0.0)", (a > 0 ? a : 0.0))                                                              \
  X(gelu, floating, 20, "gelu($0)", 0.5 * a * (1.0 + std::erf(a / std::sqrt(2.0))))                                    \
  X(silu, floating, 8, "($0 / (1.0 + exp(-$0)))", a / (1.0 + std::exp(-a)))                                            \
  X(gelu_tanh, floating, 12, "(0.5 * $0 * (1.0 + tanh_stable(0.7978845608028654 * ($0 + 0.044715 * $0 * $0 * $0))))",  \
    0.5 * a * (1.0 + std::tanh(0.7978845608028654 * (a + 0.044715 * a * a * a))))                                      \
  X(tanh, floating, 6, "tanh_stable($0)", std::tanh(a))                                                                \
  X(sigmoid, floating, 6, "(1.0 / (1.0 + exp(-$0)))", 1.0 / (1.0 + std::exp(-a)))                                      \
  X(clamp, bounded, 2, "min(max($0, $1), $2)", (std::max(a, b) < c ? std::max(a, b) : c))                              \
  X(rsqrt, floating, 4, "inversesqrt($0)", 1.0 / std::sqrt(a))

#include <cmath>
#include <string_view>
#include <algorithm>
#include <cstdint>

#include "vkattn/ir.hpp"

namespace vkattn {

// How a table op types its operands (op_arity of them, broadcast against each other
// with numpy's rules; infer.hpp checks them):
enum class ElementwiseTyping : std::uint8_t {
  floating,    // f32 or f16 operands; the result has their dtype
  numeric,     // f32, f16 or i32 operands of one dtype; the result has it
  arithmetic,  // numeric, with two operands
  comparison,  // two numeric operands of one dtype; the result is bool
  logical,     // bool operands; the result is bool
  bounded,     // x, low and high of one numeric dtype; the result has it
};

struct ElementwiseForm {
  bool known = false;
  ElementwiseTyping typing = ElementwiseTyping::floating;
  double flops = 0;
  std::string_view glsl;
};

constexpr ElementwiseForm elementwise_form(Op op) {
  switch (op) {
#define VKATTN_FORM_ENTRY(name, typing, flops, glsl, reference) \
  case Op::name: return {true, ElementwiseTyping::typing, flops, glsl};
    VKATTN_ELEMENTWISE_FORMS(VKATTN_FORM_ENTRY)
#undef VKATTN_FORM_ENTRY
    default: return {};
  }
}

// FLOPs per element of an op generated code computes: the table's, else 1.
constexpr double op_flops(Op op) {
  const ElementwiseForm form = elementwise_form(op);
  return form.known ? form.flops : 1.0;
}

// The reference of a table op over (a, b, c); false when `op` has no line.
inline bool elementwise_reference(Op op, double a, double b, double c, double& out) {
  (void)b;
  (void)c;
  switch (op) {
#define VKATTN_FORM_REFERENCE(name, typing, flops, glsl, reference) \
  case Op::name: out = (reference); return true;
    VKATTN_ELEMENTWISE_FORMS(VKATTN_FORM_REFERENCE)
#undef VKATTN_FORM_REFERENCE
    default: return false;
  }
}

}  // namespace vkattn
