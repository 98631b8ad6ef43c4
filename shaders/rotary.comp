#version 450
#extension GL_GOOGLE_include_directive : require
#include "storage.glsl"
// Rotary position embedding of contiguous rows x[row, 0 .. dim) (rotary.glsl):
//   out[row, d] = rotate(x[row, d], x[row, partner(d)], d, position_offset + row % sequence)
// and with POSITIONS (rotary_embedding_at) positions[b] added for the rows of batch entry b.
// one element per invocation. The fused schedules rotate Q and K as the attention
// kernels load them instead.
layout(local_size_x_id = 0) in;
#include "vkattn/kernels/rotary.h"
VKATTN_ROTARY_CONSTANTS(VKATTN_CONSTANT_DECLARE)
#define ROTARY_INTERLEAVED (ROTARY_LAYOUT == 1u)
#include "common.glsl"
#include "rotary.glsl"

layout(std430, binding = 0) writeonly buffer Result { STORE result[]; };
layout(std430, binding = 1) readonly buffer Operand { STORE x[]; };
layout(std430, binding = 2) readonly buffer Positions { int positions[]; };

void main() {
  uint index = flat_invocation_index();
  if (index >= p.total) return;
  const uint d = index % p.dim, row = index / p.dim;
  const int start = POSITIONS == 1u ? positions[index / p.per_batch] : 0;
  const float position = float(int(p.position_offset + row % p.sequence) + start);
  const float partner = float(x[index - d + rotary_partner(d)]);
  result[index] = STORE(rotary_rotate(float(x[index]), partner, d, position));
}
