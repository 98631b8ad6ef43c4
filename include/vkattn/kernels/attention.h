// Push and specialization constants of the attention kernels: shaders/
// flash_attention_texel.comp, shaders/flash_attention_tiled.comp (whose
// split-over-keys form is finished by shaders/attention_combine.comp).
#ifndef VKATTN_KERNEL_ATTENTION_H
#define VKATTN_KERNEL_ATTENTION_H
#include "vkattn/kernels/interface.h"
VKATTN_NAMESPACE_BEGIN

// Every score modification (masks, ALiBi, a softcap, biases, any variant written from
// index values) is the dispatch's score program: generated GLSL (codegen/render.hpp)
// compiled into the template, reading its tensors at bindings 9 to 15.
// ROTARY: which of Q and K are turned by the rotary embedding as they are loaded
// (shaders/rotary.glsl), and its pairing; ROTARY_DIMS and ROTARY_THETA (f32 bits) as
// for shaders/rotary.comp; both Q and K sit at position rotary_offset + their row.
// SINKS: 1 adds the logit sinks[h] (binding 4) to each row's softmax denominator.
// PAGE_SIZE > 0: K and V are pools of a paged KV cache, [pages, kv_heads, PAGE_SIZE,
// dim], read through the block table at binding 5 (i32 [batch, table_row]); their
// batch stride is the pool's page stride (shaders/key_rows.glsl).
#define VKATTN_ATTENTION_ROTARY_Q 1u
#define VKATTN_ATTENTION_ROTARY_K 2u
#define VKATTN_ATTENTION_ROTARY_INTERLEAVED 4u

// Offsets and batch / head / row strides are in elements; the head dimension has unit
// stride.
VKATTN_PUSH_BEGIN(AttentionPush)
  VKATTN_U32(heads) VKATTN_U32(sq) VKATTN_U32(sk) VKATTN_U32(kv_group)
  VKATTN_U32(q_offset) VKATTN_U32(q_batch) VKATTN_U32(q_head) VKATTN_U32(q_row)
  VKATTN_U32(k_offset) VKATTN_U32(k_batch) VKATTN_U32(k_head) VKATTN_U32(k_row)
  VKATTN_U32(v_offset) VKATTN_U32(v_batch) VKATTN_U32(v_head) VKATTN_U32(v_row)
  VKATTN_U32(o_offset) VKATTN_U32(o_batch) VKATTN_U32(o_head) VKATTN_U32(o_row)
  VKATTN_F32(scale)
  // The split-over-keys form: keys per split (a multiple of KEYS); 0 when not split.
  VKATTN_U32(keys_per_split)
  VKATTN_U32(rotary_offset)
  // PAGE_SIZE > 0 (a paged KV cache): block table entries per sequence, pages in the pool.
  VKATTN_U32(table_row) VKATTN_U32(pages)
VKATTN_PUSH_END(AttentionPush)

#define VKATTN_ATTENTION_COMMON_CONSTANTS(X)                                        \
  X(1, VEC4, 1) X(2, HEAD_DIM, 64) X(3, VALUE_DIM, 64) X(4, ROTARY, 0) X(5, ROTARY_DIMS, 2) \
  X(6, ROTARY_THETA, 0x461c4000u) X(7, SINKS, 0) X(8, PAGE_SIZE, 0)
// ROWS: queries per invocation. KEY_CHUNK > 0: the workgroup's invocations walk the
// keys in chunks of KEY_CHUNK together, a barrier between chunks, so a chunk of K and V
// is read by every invocation while it is in the CPU's caches; 0: no barriers.
// SPLIT = 1: each invocation takes keys_per_split keys of ROWS queries and writes partial
// results, as the tiled form's SPLIT (KEY_CHUNK is then 0). GROUPED = 1: workgroup y is
// a KV head and an invocation's rows are (query, head) pairs of its kv_group query
// heads, heads fastest, so K and V are read once per group (dispatch y = heads / kv_group).
#define VKATTN_ATTENTION_TEXEL_CONSTANTS(X) \
  VKATTN_ATTENTION_COMMON_CONSTANTS(X) X(9, ROWS, 4) X(10, KEY_CHUNK, 0) X(11, SPLIT, 0) X(12, GROUPED, 0)
// ROWS rows per workgroup, each owned by LANES consecutive invocations
// (LOCAL_SIZE = ROWS * LANES); keys staged in shared memory KEYS at a time; SPLIT = 1
// writes the partial results of one key range (the split-over-keys form). GROUPED as
// for the texel form: the rows are (query, head) pairs of one KV head's query heads.
#define VKATTN_ATTENTION_TILED_CONSTANTS(X) \
  VKATTN_ATTENTION_COMMON_CONSTANTS(X) X(9, ROWS, 16) X(10, KEYS, 32) X(11, LANES, 4) X(12, SPLIT, 0) X(13, GROUPED, 0)

VKATTN_CONSTANTS(AttentionTexelConstants, VKATTN_ATTENTION_TEXEL_CONSTANTS)
VKATTN_CONSTANTS(AttentionTiledConstants, VKATTN_ATTENTION_TILED_CONSTANTS)

VKATTN_NAMESPACE_END
#endif
