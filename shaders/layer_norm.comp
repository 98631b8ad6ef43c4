#version 450
#extension GL_GOOGLE_include_directive : require
// LayerNorm over the last axis, one invocation per row of n values, in f32, of x or
// (HAS_RESIDUAL) of x + residual:
//   mean = sum_j x_j / n;  var = sum_j (x_j - mean)^2 / n   (population variance)
//   out_j = (x_j - mean) / sqrt(var + epsilon) * gamma_j + beta_j
layout(local_size_x = 64) in;
layout(constant_id = 0) const uint HAS_RESIDUAL = 0;
#include "common.glsl"

layout(std430, binding = 0) writeonly buffer Result { float result[]; };
layout(std430, binding = 1) readonly buffer Operand { float x[]; };
layout(std430, binding = 2) readonly buffer Gamma { float gamma[]; };
layout(std430, binding = 3) readonly buffer Beta { float beta[]; };
layout(std430, binding = 4) readonly buffer Residual { float residual[]; };

float input_at(uint i) { return HAS_RESIDUAL == 1u ? x[i] + residual[i] : x[i]; }

layout(push_constant) uniform Constants {
  uint rows, n;
  float epsilon;
} p;

void main() {
  uint row = flat_invocation_index();
  if (row >= p.rows) return;
  uint base = row * p.n;
  float mean = 0.0;
  for (uint j = 0; j < p.n; ++j) mean += input_at(base + j);
  mean /= float(p.n);
  float variance = 0.0;
  for (uint j = 0; j < p.n; ++j) {
    float d = input_at(base + j) - mean;
    variance += d * d;
  }
  variance /= float(p.n);
  float inverse = inversesqrt(variance + p.epsilon);
  for (uint j = 0; j < p.n; ++j) result[base + j] = (input_at(base + j) - mean) * inverse * gamma[j] + beta[j];
}
