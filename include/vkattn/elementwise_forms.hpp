#pragma once
// The elementwise functions generated code computes, one line each: the op, its FLOPs
// per element (as listings and the cost model count them), its GLSL with $0, $1, $2
// for the operands (computed in f32, or i32 / bool where the operands are), and its
// reference over doubles a, b, c (reference/reference.cpp). The renderer
// (codegen/render_glsl.cpp), the reference and the cost model read this table and
// nothing else for these ops; ops with attributes or dtype-dependent meaning (scale,
// floor_div, cast, where, gather, the index values) are written where they are used.
// gelu and tanh_stable are shaders/common.glsl's (exact forms with bounded error).
//
// X(op, FLOPs, GLSL, reference)
#define VKATTN_ELEMENTWISE_FORMS(X)                                                                               \
  X(add, 1, "($0 + $1)", a + b)                                                                                   \
  X(mul, 1, "($0 * $1)", a * b)                                                                                   \
  X(sub, 1, "($0 - $1)", a - b)                                                                                   \
  X(minimum, 1, "min($0, $1)", (b < a ? b : a))                                                                   \
  X(maximum, 1, "max($0, $1)", (b > a ? b : a))                                                                   \
  X(abs, 1, "abs($0)", std::fabs(a))                                                                              \
  X(exp, 4, "exp($0)", std::exp(a))                                                                               \
  X(log, 4, "log($0)", std::log(a))                                                                               \
  X(less, 1, "($0 < $1)", (a < b ? 1.0 : 0.0))                                                                    \
  X(less_equal, 1, "($0 <= $1)", (a <= b ? 1.0 : 0.0))                                                            \
  X(equal, 1, "($0 == $1)", (a == b ? 1.0 : 0.0))                                                                 \
  X(logical_and, 1, "($0 && $1)", (a != 0 && b != 0 ? 1.0 : 0.0))                                                 \
  X(logical_or, 1, "($0 || $1)", (a != 0 || b != 0 ? 1.0 : 0.0))                                                  \
  X(logical_not, 1, "(!$0)", (a != 0 ? 0.0 : 1.0))                                                                \
  X(relu, 1, "max($0, 0.0)", (a > 0 ? a : 0.0))                                                                   \
  X(gelu, 20, "gelu($0)", 0.5 * a * (1.0 + std::erf(a / std::sqrt(2.0))))                                         \
  X(silu, 8, "($0 / (1.0 + exp(-$0)))", a / (1.0 + std::exp(-a)))                                                 \
  X(gelu_tanh, 12, "(0.5 * $0 * (1.0 + tanh_stable(0.7978845608028654 * ($0 + 0.044715 * $0 * $0 * $0))))",       \
    0.5 * a * (1.0 + std::tanh(0.7978845608028654 * (a + 0.044715 * a * a * a))))                                 \
  X(tanh, 6, "tanh_stable($0)", std::tanh(a))                                                                     \
  X(sigmoid, 6, "(1.0 / (1.0 + exp(-$0)))", 1.0 / (1.0 + std::exp(-a)))                                           \
  X(clamp, 2, "min(max($0, $1), $2)", (std::max(a, b) < c ? std::max(a, b) : c))

#include <cmath>
#include <string_view>
#include <algorithm>

#include "vkattn/ir.hpp"

namespace vkattn {

struct ElementwiseForm {
  bool known = false;
  double flops = 0;
  std::string_view glsl;
};

constexpr ElementwiseForm elementwise_form(Op op) {
  switch (op) {
#define VKATTN_FORM_ENTRY(name, flops, glsl, reference) \
  case Op::name: return {true, flops, glsl};
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
#define VKATTN_FORM_REFERENCE(name, flops, glsl, reference) \
  case Op::name: out = (reference); return true;
    VKATTN_ELEMENTWISE_FORMS(VKATTN_FORM_REFERENCE)
#undef VKATTN_FORM_REFERENCE
    default: return false;
  }
}

}  // namespace vkattn
