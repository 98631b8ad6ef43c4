#version 450
#extension GL_GOOGLE_include_directive : require
#include "storage.glsl"
// Softmax over the last axis, in f32:
//   out[r, j] = exp(x[r, j] - max_j x[r, j]) / sum_j exp(x[r, j] - max_j x[r, j])
// A row whose every value is -inf (every key masked) gives zeros, never NaN.
// SINKS = 1, attention sinks: the logit sinks[h] of the row's head h = (row / queries) %
// heads joins the maximum and the denominator (exp(sinks[h] - max)) and is dropped.
// WORKGROUP_PER_ROW = 1 (GPUs): a workgroup per row, reducing through subgroup
// operations and shared memory; 0 (CPUs): an invocation per row.
// Storage is f32 or f16 (storage.glsl); the statistics are computed in f32.
layout(local_size_x_id = 0) in;
#include "vkattn/kernels/softmax.h"
VKATTN_SOFTMAX_CONSTANTS(VKATTN_CONSTANT_DECLARE)
#include "common.glsl"
#include "workgroup_reduce.glsl"

layout(std430, binding = 0) writeonly buffer Result { STORE result[]; };
layout(std430, binding = 1) readonly buffer Operand { STORE x[]; };
layout(std430, binding = 2) readonly buffer Sinks { STORE sinks[]; };

#define negative_infinity uintBitsToFloat(0xff800000u)

// The row's sink logit (SINKS), else -inf, which adds nothing.
float sink_of(uint row) { return SINKS == 1u ? float(sinks[(row / p.queries) % p.heads]) : negative_infinity; }

void row_per_workgroup() {
  const uint row = gl_WorkGroupID.x + gl_WorkGroupID.y * gl_NumWorkGroups.x;
  if (row >= p.rows) return;  // the whole workgroup leaves together
  const uint base = row * p.n, lane = gl_LocalInvocationID.x, stride = gl_WorkGroupSize.x;
  const float sink = sink_of(row);
  float m = sink;
  for (uint j = lane; j < p.n; j += stride) m = max(m, float(x[base + j]));
  m = workgroup_max(m);
  float sum = 0.0;
  if (m != negative_infinity)
    for (uint j = lane; j < p.n; j += stride) {
      float v = float(x[base + j]);
      sum += v == negative_infinity ? 0.0 : exp(v - m);
    }
  sum = workgroup_sum(sum);
  if (SINKS == 1u) sum += exp(sink - m);
  const float inverse = m == negative_infinity ? 0.0 : 1.0 / sum;
  for (uint j = lane; j < p.n; j += stride) {
    float v = float(x[base + j]);
    result[base + j] = STORE(v == negative_infinity ? 0.0 : exp(v - m) * inverse);
  }
}

void row_per_invocation() {
  uint row = flat_invocation_index();
  if (row >= p.rows) return;
  uint base = row * p.n;
  const float sink = sink_of(row);
  float m = sink;
  for (uint j = 0; j < p.n; ++j) m = max(m, float(x[base + j]));
  if (m == negative_infinity) {
    for (uint j = 0; j < p.n; ++j) result[base + j] = STORE(0.0);
    return;
  }
  float sum = SINKS == 1u ? exp(sink - m) : 0.0;
  for (uint j = 0; j < p.n; ++j) {
    float v = float(x[base + j]);
    sum += v == negative_infinity ? 0.0 : exp(v - m);
  }
  float inverse = 1.0 / sum;
  for (uint j = 0; j < p.n; ++j) {
    float v = float(x[base + j]);
    result[base + j] = STORE(v == negative_infinity ? 0.0 : exp(v - m) * inverse);
  }
}

void main() {
  if (WORKGROUP_PER_ROW == 1u) row_per_workgroup();
  else row_per_invocation();
}
