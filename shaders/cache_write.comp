#version 450
#extension GL_GOOGLE_include_directive : require
#include "storage.glsl"
// Appends rows to a KV cache (a state tensor kept from run to run): for each element of
// the update [batch, heads, rows, dim],
//   cache[b, h, positions[b] + s, d] = update[b, h, s, d]
// or, in a rolling cache (p.rolling = 1), at row (positions[b] + s) mod capacity
// with the cache [batch, heads, capacity, dim] contiguous and the update read at its
// offset and strides (a view of the projection it comes from). A row that would land
// outside [0, capacity) is not written; the runtime refuses such positions before the
// run, so this guard only keeps the kernel in bounds. 32-bit words are copied as bits
// (or f16 values, with f16 storage).
layout(local_size_x_id = 0) in;
#include "vkattn/kernels/cache_write.h"
#include "common.glsl"

layout(std430, binding = 0) writeonly buffer Cache { STORE cache[]; };
layout(std430, binding = 1) readonly buffer Update { STORE update[]; };
layout(std430, binding = 2) readonly buffer Positions { int positions[]; };

void main() {
  uint index = flat_invocation_index();
  if (index >= p.total) return;
  uint d = index % p.dim, rest = index / p.dim;
  uint s = rest % p.rows;
  rest /= p.rows;
  uint h = rest % p.heads, b = rest / p.heads;
  int row = positions[b] + int(s);
  if (p.rolling != 0u && row >= 0) row = int(uint(row) % p.capacity);
  if (row < 0 || row >= int(p.capacity)) return;
  cache[((b * p.heads + h) * p.capacity + uint(row)) * p.dim + d] =
      update[p.u_offset + b * p.u_batch + h * p.u_head + s * p.u_row + d];
}
