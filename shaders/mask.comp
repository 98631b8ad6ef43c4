#version 450
#extension GL_GOOGLE_include_directive : require
#include "storage.glsl"
// Attention masks over scores [..., queries, keys] (flat index i -> query q, key j).
// A masked score becomes -inf. KIND (a VKATTN_MASK_* bit, kernels/encodings.h):
//   CAUSAL:   masked when j > q'            with q' the aligned query position
//   WINDOW:   masked when |q' - j| >= window
//   PADDING:  masked when j >= lengths[b]   (b = i / per_batch; lengths are i32)
//   CACHE:    masked when j > positions[b] + q   (positions are i32, at binding 2)
//   BOOLEAN:  masked when mask[...] == 0    (mask broadcast by strides)
//   ADDITIVE: out = scores + mask[...]
//   ALIBI:    out = scores + slopes[h] * (j - q')   (slopes read through the mask strides)
// q' = q (top_left) or q + keys - queries (bottom_right).
layout(local_size_x_id = 0) in;
#include "vkattn/kernels/mask.h"
VKATTN_MASK_CONSTANTS(VKATTN_CONSTANT_DECLARE)
#include "common.glsl"

layout(std430, binding = 0) writeonly buffer Result { STORE result[]; };
layout(std430, binding = 1) readonly buffer Scores { STORE scores[]; };
layout(std430, binding = 2) readonly buffer Operand { STORE operand[]; };
layout(std430, binding = 2) readonly buffer Lengths { int lengths[]; };  // PADDING, CACHE: i32 whatever the storage


void main() {
  uint index = flat_invocation_index();
  if (index >= p.total) return;
  float v = float(scores[index]);
  uint j = index % p.keys;
  uint q = (index / p.keys) % p.queries;
  int aligned = int(q) + (p.bottom_right == 1u ? int(p.keys) - int(p.queries) : 0);
  bool attend = true;
  if (KIND == VKATTN_MASK_CAUSAL) {
    attend = int(j) <= aligned;
  } else if (KIND == VKATTN_MASK_WINDOW) {
    attend = abs(aligned - int(j)) < int(p.window);
  } else if (KIND == VKATTN_MASK_PADDING) {
    attend = int(j) < lengths[index / p.per_batch];
  } else if (KIND == VKATTN_MASK_CACHE) {
    attend = int(j) <= lengths[index / p.per_batch] + int(q);
  } else {
    uint i3 = j, rest = index / p.keys;
    uint i2 = rest % p.d2;
    rest /= p.d2;
    uint i1 = rest % p.d1, i0 = rest / p.d1;
    float m = float(operand[i0 * p.m_stride0 + i1 * p.m_stride1 + i2 * p.m_stride2 + i3 * p.m_stride3]);
    if (KIND == VKATTN_MASK_BOOLEAN) attend = m != 0.0;
    else if (KIND == VKATTN_MASK_ALIBI) v += m * float(int(j) - aligned);
    else v += m;
  }
  result[index] = STORE(attend ? v : uintBitsToFloat(0xff800000u));
}
