// Push and specialization constants of shaders/cache_write.comp: rows of an update
// written into a KV cache (a state tensor) at each sequence's position.
#ifndef VKATTN_KERNEL_CACHE_WRITE_H
#define VKATTN_KERNEL_CACHE_WRITE_H
#include "vkattn/kernels/interface.h"
VKATTN_NAMESPACE_BEGIN

// The update [batch, heads, rows, dim] is read at u_offset and its batch, head and row
// strides (unit stride along dim); the cache is [batch, heads, capacity, dim],
// contiguous. total = batch * heads * rows * dim. rolling = 1: rows wrap around the
// capacity (a rolling cache). page_size > 0: a paged cache, the pool [pages, heads,
// page_size, dim] addressed through the block table (binding 3, i32 [batch, table_row]);
// capacity = table_row * page_size.
VKATTN_PUSH_BEGIN(CacheWritePush)
  VKATTN_U32(total) VKATTN_U32(heads) VKATTN_U32(rows) VKATTN_U32(dim) VKATTN_U32(capacity)
  VKATTN_U32(u_offset) VKATTN_U32(u_batch) VKATTN_U32(u_head) VKATTN_U32(u_row)
  VKATTN_U32(rolling)
  VKATTN_U32(page_size) VKATTN_U32(table_row) VKATTN_U32(pages)
VKATTN_PUSH_END(CacheWritePush)

#define VKATTN_CACHE_WRITE_CONSTANTS(X)
VKATTN_CONSTANTS(CacheWriteConstants, VKATTN_CACHE_WRITE_CONSTANTS)

VKATTN_NAMESPACE_END
#endif
