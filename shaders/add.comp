#version 450
#extension GL_GOOGLE_include_directive : require
#include "storage.glsl"
// Elementwise sum (PRODUCT 0) or product (PRODUCT 1) with broadcasting, over the result
// viewed as 4-D [d0, d1, d2, d3]:
//   out[i] = a[sum_k i_k * a_stride_k] (+ or *) b[sum_k i_k * b_stride_k]
// where (i_0..i_3) is the multi-index of flat index i and a broadcast dimension has
// stride 0.
layout(local_size_x_id = 0) in;
#include "vkattn/kernels/add.h"
VKATTN_ADD_CONSTANTS(VKATTN_CONSTANT_DECLARE)
#include "common.glsl"

layout(std430, binding = 0) writeonly buffer Result { STORE result[]; };
layout(std430, binding = 1) readonly buffer Left { STORE a[]; };
layout(std430, binding = 2) readonly buffer Right { STORE b[]; };


void main() {
  uint index = flat_invocation_index();
  if (index >= p.total) return;
  uint i3 = index % p.d3, rest = index / p.d3;
  uint i2 = rest % p.d2;
  rest /= p.d2;
  uint i1 = rest % p.d1, i0 = rest / p.d1;
  uint ai = i0 * p.a_stride0 + i1 * p.a_stride1 + i2 * p.a_stride2 + i3 * p.a_stride3;
  uint bi = i0 * p.b_stride0 + i1 * p.b_stride1 + i2 * p.b_stride2 + i3 * p.b_stride3;
  result[index] = STORE(PRODUCT == 1u ? float(a[ai]) * float(b[bi]) : float(a[ai]) + float(b[bi]));
}
