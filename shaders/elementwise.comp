#version 450
#extension GL_GOOGLE_include_directive : require
#include "storage.glsl"
// Unary elementwise ops, selected by OP:
//   0 scale: out = x * factor
//   1 relu:  out = max(x, 0)
//   2 gelu:  out = 0.5 x (1 + erf(x / sqrt 2))   (erf: Abramowitz & Stegun 7.1.26,
//            absolute error below 1.5e-7)
layout(local_size_x_id = 0) in;
#include "vkattn/kernels/elementwise.h"
VKATTN_ELEMENTWISE_CONSTANTS(VKATTN_CONSTANT_DECLARE)
#include "common.glsl"

layout(std430, binding = 0) writeonly buffer Result { STORE result[]; };
layout(std430, binding = 1) readonly buffer Operand { STORE x[]; };


void main() {
  uint index = flat_invocation_index();
  if (index >= p.total) return;
  float v = float(x[index]);
  if (OP == 0u) result[index] = STORE(v * p.factor);
  else if (OP == 1u) result[index] = STORE(max(v, 0.0));
  else result[index] = STORE(gelu(v));
}
