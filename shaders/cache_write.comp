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
// Paged (p.page_size > 0): the cache is a pool [pages, heads, page_size, dim] and
// position r of sequence b lives in page table[b * table_row + r / page_size], row
// r mod page_size; capacity is table_row * page_size. A sequence at position -1 is idle
// and writes nothing; an entry outside the pool (refused by the runtime) is skipped.
layout(local_size_x_id = 0) in;
#include "vkattn/kernels/cache_write.h"
#include "common.glsl"

layout(std430, binding = 0) writeonly buffer Cache { STORE cache[]; };
layout(std430, binding = 1) readonly buffer Update { STORE update[]; };
layout(std430, binding = 2) readonly buffer Positions { int positions[]; };
layout(std430, binding = 3) readonly buffer Table { int table[]; };

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
  uint at = (b * p.heads + h) * p.capacity + uint(row);
  if (p.page_size > 0u) {
    if (positions[b] == -1) return;
    const int page = table[b * p.table_row + uint(row) / p.page_size];
    if (page < 0 || page >= int(p.pages)) return;
    at = (uint(page) * p.heads + h) * p.page_size + uint(row) % p.page_size;
  }
  cache[at * p.dim + d] = update[p.u_offset + b * p.u_batch + h * p.u_head + s * p.u_row + d];
}
