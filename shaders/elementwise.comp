#version 450
#extension GL_GOOGLE_include_directive : require
#include "storage.glsl"
// Unary elementwise ops, selected by OP:
//   0 scale: out = x * factor
//   otherwise the activation of that VKATTN_ACTIVATION_* code (activation.glsl)
layout(local_size_x_id = 0) in;
#include "vkattn/kernels/elementwise.h"
VKATTN_ELEMENTWISE_CONSTANTS(VKATTN_CONSTANT_DECLARE)
#include "common.glsl"
#include "activation.glsl"

layout(std430, binding = 0) writeonly buffer Result { STORE result[]; };
layout(std430, binding = 1) readonly buffer Operand { STORE x[]; };


void main() {
  uint index = flat_invocation_index();
  if (index >= p.total) return;
  float v = float(x[index]);
  result[index] = STORE(OP == 0u ? v * p.factor : activate(OP, v));
}
