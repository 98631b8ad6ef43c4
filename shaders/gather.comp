#version 450
#extension GL_GOOGLE_include_directive : require
#include "storage.glsl"
// Data movement (split/merge/repeat heads, permute, copy): the result, contiguous and
// viewed with dims[0..rank), reads
//   out[i] = in[offset + sum_k i_k * strides[k]]   (32-bit words copied as bits: f32 and i32)
// where (i_0..i_{rank-1}) is the multi-index of flat index i. A stride of 0 repeats.
// With table_axis = k > 0 (a paged view), the coordinate along axis k is looked up:
//   i_k -> table[i_0 * table_row + i_k]
// and an entry outside [0, table_bound) gives a zero element.
layout(local_size_x_id = 0) in;
#include "vkattn/kernels/gather.h"
#include "common.glsl"

layout(std430, binding = 0) writeonly buffer Result { STORE_BITS result[]; };
layout(std430, binding = 1) readonly buffer Source { STORE_BITS source[]; };
layout(std430, binding = 2) readonly buffer Table { int table[]; };


void main() {
  uint index = flat_invocation_index();
  if (index >= p.total) return;
  uint rest = index, offset = p.offset;
  const uint first = index / (p.total / p.dims[0]);  // i_0
  for (int k = int(p.rank) - 1; k >= 0; --k) {
    uint i = rest % p.dims[k];
    rest /= p.dims[k];
    if (p.table_axis != 0u && uint(k) == p.table_axis) {
      const int entry = table[first * p.table_row + i];
      if (entry < 0 || entry >= int(p.table_bound)) {
        result[index] = STORE_BITS(0);
        return;
      }
      i = uint(entry);
    }
    offset += i * p.strides[k];
  }
  result[index] = source[offset];
}
