#version 450
#extension GL_GOOGLE_include_directive : require
#include "storage.glsl"
// Data movement (split/merge/repeat heads, permute, copy): the result, contiguous and
// viewed with dims[0..rank), reads
//   out[i] = in[offset + sum_k i_k * strides[k]]   (32-bit words copied as bits: f32 and i32)
// where (i_0..i_{rank-1}) is the multi-index of flat index i. A stride of 0 repeats.
layout(local_size_x_id = 0) in;
#include "vkattn/kernels/gather.h"
#include "common.glsl"

layout(std430, binding = 0) writeonly buffer Result { STORE_BITS result[]; };
layout(std430, binding = 1) readonly buffer Source { STORE_BITS source[]; };


void main() {
  uint index = flat_invocation_index();
  if (index >= p.total) return;
  uint rest = index, offset = p.offset;
  for (int k = int(p.rank) - 1; k >= 0; --k) {
    offset += (rest % p.dims[k]) * p.strides[k];
    rest /= p.dims[k];
  }
  result[index] = source[offset];
}
