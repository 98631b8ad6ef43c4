#version 450
#extension GL_GOOGLE_include_directive : require
#include "storage.glsl"
// Merges the partial results of flash attention's split-over-keys form
// (flash_attention_tiled.comp, SPLIT = 1). For each query row r (of b, h, i) and
// output element d, with the splits' unnormalised outputs o_s, running maxima m_s
// (base 2) and sums l_s:
//   M = max_s m_s;  L = sum_s l_s exp2(m_s - M);  O[b, h, i, d] = sum_s o_s[d] exp2(m_s - M) / L
// A row that no split saw any key of (M = -inf or L = 0) is zeros. One invocation per
// output element; O is written at its own strides.
// The partials are f32; the output is stored as f32 or f16 (storage.glsl).
layout(local_size_x_id = 0) in;
#include "vkattn/kernels/attention_combine.h"
VKATTN_COMBINE_CONSTANTS(VKATTN_CONSTANT_DECLARE)
#include "common.glsl"

layout(std430, binding = 0) writeonly buffer Result { STORE o_out[]; };
layout(std430, binding = 1) readonly buffer Partials { float partials[]; };

void main() {
  const uint index = flat_invocation_index();
  if (index >= p.rows * p.value_dim) return;
  const uint r = index / p.value_dim, d = index % p.value_dim;
  const uint width = p.value_dim + 2u;
  const float neg_inf = uintBitsToFloat(0xff800000u);
  float top = neg_inf;
  for (uint s = 0; s < p.splits; ++s) top = max(top, partials[(s * p.rows + r) * width + p.value_dim]);
  float sum = 0.0, value = 0.0;
  if (top != neg_inf) {
    for (uint s = 0; s < p.splits; ++s) {
      uint base = (s * p.rows + r) * width;
      float weight = exp2(partials[base + p.value_dim] - top);  // 0 for a split that saw no key
      sum += partials[base + p.value_dim + 1u] * weight;
      value += partials[base + d] * weight;
    }
  }
  const uint i = r % p.sq, bh = r / p.sq;
  const uint h = bh % p.heads, b = bh / p.heads;
  o_out[p.o_offset + b * p.o_batch + h * p.o_head + i * p.o_row + d] = STORE(sum > 0.0 ? value / sum : 0.0);
}
