#version 450
#extension GL_GOOGLE_include_directive : require
#include "storage.glsl"
// LayerNorm over the last axis, in f32, of x or (HAS_RESIDUAL) of x + residual:
//   mean = sum_j x_j / n;  var = sum_j (x_j - mean)^2 / n   (population variance)
//   out_j = (x_j - mean) / sqrt(var + epsilon) * gamma_j + beta_j   (+ beta_j when HAS_BETA)
// or with RMS = 1, RMSNorm (gamma is its weight; beta is not read):
//   ms = sum_j x_j^2 / n;  out_j = x_j / sqrt(ms + epsilon) * gamma_j
// WORKGROUP_PER_ROW = 1 (GPUs): a workgroup per row, its invocations striding over the
// row (consecutive invocations read consecutive elements) and reducing through
// subgroup operations and shared memory. 0 (CPUs): an invocation per row.
// Storage is f32 or f16 (storage.glsl); the statistics are computed in f32.
layout(local_size_x_id = 0) in;
#include "vkattn/kernels/layer_norm.h"
VKATTN_LAYER_NORM_CONSTANTS(VKATTN_CONSTANT_DECLARE)
#include "common.glsl"
#include "workgroup_reduce.glsl"

layout(std430, binding = 0) writeonly buffer Result { STORE result[]; };
layout(std430, binding = 1) readonly buffer Operand { STORE x[]; };
layout(std430, binding = 2) readonly buffer Gamma { STORE gamma[]; };
layout(std430, binding = 3) readonly buffer Beta { STORE beta[]; };
layout(std430, binding = 4) readonly buffer Residual { STORE residual[]; };

float input_at(uint i) { return HAS_RESIDUAL == 1u ? float(x[i]) + float(residual[i]) : float(x[i]); }

float normalised(float v, float mean, float inverse, uint j) {
  float scaled = (v - mean) * inverse * float(gamma[j]);
  return RMS == 0u && HAS_BETA == 1u ? scaled + float(beta[j]) : scaled;
}

void row_per_workgroup() {
  const uint row = gl_WorkGroupID.x + gl_WorkGroupID.y * gl_NumWorkGroups.x;
  if (row >= p.rows) return;  // the whole workgroup leaves together
  const uint base = row * p.n, lane = gl_LocalInvocationID.x, stride = gl_WorkGroupSize.x;
  float sum = 0.0;
  if (RMS == 0u)
    for (uint j = lane; j < p.n; j += stride) sum += input_at(base + j);
  const float mean = RMS == 1u ? 0.0 : workgroup_sum(sum) / float(p.n);
  float squares = 0.0;
  for (uint j = lane; j < p.n; j += stride) {
    float d = input_at(base + j) - mean;
    squares += d * d;
  }
  const float inverse = inversesqrt(workgroup_sum(squares) / float(p.n) + p.epsilon);
  for (uint j = lane; j < p.n; j += stride) result[base + j] = STORE(normalised(input_at(base + j), mean, inverse, j));
}

void row_per_invocation() {
  uint row = flat_invocation_index();
  if (row >= p.rows) return;
  uint base = row * p.n;
  float mean = 0.0;
  if (RMS == 0u) {
    for (uint j = 0; j < p.n; ++j) mean += input_at(base + j);
    mean /= float(p.n);
  }
  float variance = 0.0;
  for (uint j = 0; j < p.n; ++j) {
    float d = input_at(base + j) - mean;
    variance += d * d;
  }
  variance /= float(p.n);
  float inverse = inversesqrt(variance + p.epsilon);
  for (uint j = 0; j < p.n; ++j) result[base + j] = STORE(normalised(input_at(base + j), mean, inverse, j));
}

void main() {
  if (WORKGROUP_PER_ROW == 1u) row_per_workgroup();
  else row_per_invocation();
}
