#version 450
#extension GL_GOOGLE_include_directive : require
// Softmax over the last axis, one invocation per row of n values, in f32:
//   out[r, j] = exp(x[r, j] - max_j x[r, j]) / sum_j exp(x[r, j] - max_j x[r, j])
// A row whose every value is -inf (every key masked) gives zeros, never NaN.
layout(local_size_x = 64) in;
#include "common.glsl"

layout(std430, binding = 0) writeonly buffer Result { float result[]; };
layout(std430, binding = 1) readonly buffer Operand { float x[]; };

layout(push_constant) uniform Constants {
  uint rows, n;
} p;

void main() {
  uint row = flat_invocation_index();
  if (row >= p.rows) return;
  uint base = row * p.n;
  float negative_infinity = uintBitsToFloat(0xff800000u);
  float m = negative_infinity;
  for (uint j = 0; j < p.n; ++j) m = max(m, x[base + j]);
  if (m == negative_infinity) {
    for (uint j = 0; j < p.n; ++j) result[base + j] = 0.0;
    return;
  }
  float sum = 0.0;
  for (uint j = 0; j < p.n; ++j) {
    float v = x[base + j];
    sum += v == negative_infinity ? 0.0 : exp(v - m);
  }
  float inverse = 1.0 / sum;
  for (uint j = 0; j < p.n; ++j) {
    float v = x[base + j];
    result[base + j] = v == negative_infinity ? 0.0 : exp(v - m) * inverse;
  }
}
