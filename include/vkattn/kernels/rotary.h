// Push and specialization constants of shaders/rotary.comp: rotary position embedding
// of each element (the unfused form; shaders/rotary.glsl holds the math).
#ifndef VKATTN_KERNEL_ROTARY_H
#define VKATTN_KERNEL_ROTARY_H
#include "vkattn/kernels/interface.h"
VKATTN_NAMESPACE_BEGIN

// Rows of `dim` elements; row r sits at position position_offset + r % sequence, plus
// with POSITIONS = 1 positions[element / per_batch] (i32, binding 2).
VKATTN_PUSH_BEGIN(RotaryPush)
  VKATTN_U32(total) VKATTN_U32(sequence) VKATTN_U32(dim) VKATTN_U32(position_offset) VKATTN_U32(per_batch)
VKATTN_PUSH_END(RotaryPush)

// ROTARY_LAYOUT: 0 half-split, 1 interleaved (RotaryLayout); ROTARY_DIMS: the leading
// elements rotated; ROTARY_THETA: the bits of theta as an f32 (10000 by default).
#define VKATTN_ROTARY_CONSTANTS(X) \
  X(1, ROTARY_LAYOUT, 0) X(2, ROTARY_DIMS, 2) X(3, ROTARY_THETA, 0x461c4000u) X(4, POSITIONS, 0)
VKATTN_CONSTANTS(RotaryConstants, VKATTN_ROTARY_CONSTANTS)

VKATTN_NAMESPACE_END
#endif
