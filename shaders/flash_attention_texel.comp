#version 450
#extension GL_GOOGLE_include_directive : require
#include "storage.glsl"
#extension GL_EXT_control_flow_attributes : require
// Fused attention for one batch b and ROWS rows per invocation, a row being a query i of
// a head h:
//   O[b, h, i, :] = sum_j softmax_j(s_ij) V[b, h / kv_group, j, :]
//   s_ij = score_value(scale * dot(Q[b, h, i, :], K[b, h / kv_group, j, :]), b, h, i, j)
//          where score_visible(b, h, i, j), else -inf
// score_value and score_visible are the dispatch's score program (generated, below):
// masks, ALiBi, a softcap, biases, any elementwise variant; without one s_ij is the
// scaled dot product. A row whose every key is hidden is all zeros. SINKS adds
// exp(sinks[h]) to the softmax denominator (so a fully hidden row is still zeros).
// Rows: with GROUPED = 0, workgroup y is the head h and the rows are its queries; with
// GROUPED = 1 (grouped-query attention, few queries), workgroup y is a KV head and the
// rows are (query, head) pairs of the kv_group query heads that share it, heads
// fastest, so each key and value an invocation reads serves all of them: K and V are
// read once per group, not once per query head.
// ROTARY turns Q (bit 1) and K (bit 2) by the rotary embedding (rotary.glsl) as they are
// fetched, Q row i at position rotary_offset + i and key j at rotary_offset + j.
// Online softmax (in base 2, with log2(e) folded into the scale): keys go in blocks of
// 8; per row it keeps the running maximum m, the running sum l of exp2(s - m) and the
// unnormalised output o, rescaled by exp2(m_old - m_new) when the maximum grows, so the
// Sq x Sk score matrix is never stored. Blocks of keys the program hides from all ROWS
// queries are skipped (score_blocks.glsl). Q, K and V are read through texel buffers at
// any offset and batch, head and row strides (unit stride along the head dimension);
// O is written at its own strides (for example straight into merged heads). With
// PAGE_SIZE > 0, K and V are pages of a paged KV cache read through the block table
// (key_rows.glsl).
// SPLIT = 1 (few queries over many keys, decoding): ceil(Sk / keys_per_split) splits
// share the keys its ROWS queries can see evenly, in whole blocks; invocation x takes
// one share and writes its unnormalised output, m and l to the workspace (binding 0,
// [split][b, h, i][VALUE_DIM + 2]), which attention_combine.comp merges; only split 0
// carries the sink.
// Storage is f32 or f16 (storage.glsl). Q, K and V are widened to f32 as they are read,
// and the scores, the running maximum and sum and the output accumulate in f32: a score
// is never held in f16, so scores beyond f16's range (65504) cannot overflow.
layout(local_size_x_id = 0) in;
#include "vkattn/kernels/attention.h"
VKATTN_ATTENTION_TEXEL_CONSTANTS(VKATTN_CONSTANT_DECLARE)
#define ROTARY_INTERLEAVED ((ROTARY & VKATTN_ATTENTION_ROTARY_INTERLEAVED) != 0u)
#include "common.glsl"
#include "rotary.glsl"
// A score program (VKATTN_SCORE_PROGRAM, codegen/render.hpp): generated functions that
// hide keys (score_visible, and score_block_visible to skip whole blocks) and transform
// each score (score_value, given s = scale * q.k in natural units), with their tensors
// at bindings 9.. . The template is compiled with them when an executable is made.
#ifdef VKATTN_SCORE_PROGRAM
#include "vkattn_generated.glsl"
#endif
#include "score_blocks.glsl"
#include "attention_rows.glsl"
#include "key_rows.glsl"
#ifdef VKATTN_SCORE_VALUE
const bool SCORE_NATURAL = true;  // the program sees scores in natural units; log2(e) after it
#else
const bool SCORE_NATURAL = false;
#endif

layout(std430, binding = 0) writeonly buffer Result { STORE o_out[]; };
layout(std430, binding = 0) writeonly buffer Partials { float partials[]; };  // SPLIT: the workspace
layout(binding = 1) uniform samplerBuffer q_texels;
layout(binding = 2) uniform samplerBuffer k_texels;
layout(binding = 3) uniform samplerBuffer v_texels;
layout(std430, binding = 4) readonly buffer Sinks { STORE sinks[]; };


const uint D4 = (HEAD_DIM + 3u) / 4u;
const uint DV4 = (VALUE_DIM + 3u) / 4u;
const uint KEYS = 8;
const float LOG2E = 1.4426950408889634;

// The partners of elements d .. d + 3 (x) of the row of `texels` at `base`. The vec4
// view needs each partner group 4-aligned (the lowering checks: interleaved, or
// ROTARY_DIMS / 2 a multiple of 4).
vec4 rotary_partners(samplerBuffer texels, bool vec4_view, uint base, uint d, vec4 x) {
  if (ROTARY_INTERLEAVED) return x.yxwz;
  if (vec4_view) return fetch4(texels, true, base + rotary_partner(d), base + HEAD_DIM);
  return vec4(d < HEAD_DIM ? texelFetch(texels, int(base + rotary_partner(d))).x : 0.0,
              d + 1u < HEAD_DIM ? texelFetch(texels, int(base + rotary_partner(d + 1u))).x : 0.0,
              d + 2u < HEAD_DIM ? texelFetch(texels, int(base + rotary_partner(d + 2u))).x : 0.0,
              d + 3u < HEAD_DIM ? texelFetch(texels, int(base + rotary_partner(d + 3u))).x : 0.0);
}

// Elements d .. d + 3 of the row at `base`, rotated as at `position`.
vec4 rotated_fetch(samplerBuffer texels, bool vec4_view, uint base, uint d, float position) {
  vec4 x = fetch4(texels, vec4_view, base + d, base + HEAD_DIM);
  return rotary_rotate4(x, rotary_partners(texels, vec4_view, base, d, x), d, position);
}

void main() {
  const bool vec4_view = VEC4 == 1u;
  const uint b = gl_WorkGroupID.z;
  const uint group_heads = GROUPED == 1u ? p.kv_group : 1u;  // heads in the row space
  const uint kv_head = GROUPED == 1u ? gl_WorkGroupID.y : gl_WorkGroupID.y / p.kv_group;
  const uint head_base = GROUPED == 1u ? gl_WorkGroupID.y * p.kv_group : gl_WorkGroupID.y;
  const uint total_rows = p.sq * group_heads;
  // SPLIT: invocation x is (query block, split), splits fastest.
  const uint invocation = gl_WorkGroupID.x * gl_WorkGroupSize.x + gl_LocalInvocationID.x;
  const uint splits = SPLIT == 1u ? (p.sk + p.keys_per_split - 1u) / p.keys_per_split : 1u;
  const uint split = invocation % splits;
  const uint row0 = (invocation / splits) * ROWS;
  // With KEY_CHUNK every invocation takes part in the barriers, so one past the last
  // query works on clamped rows and writes nothing.
  if (KEY_CHUNK == 0u && row0 >= total_rows) return;
  const float neg_inf = uintBitsToFloat(0xff800000u);
  const uint rows_here = row0 < total_rows ? min(ROWS, total_rows - row0) : 0u;

  vec4 q[ROWS * D4];
  // A program's value sees the score in natural units, log2(e) applied after it.
  const float q_scale = SCORE_NATURAL ? p.scale : p.scale * LOG2E;
  const bool rotate_q = (ROTARY & VKATTN_ATTENTION_ROTARY_Q) != 0u, rotate_k = (ROTARY & VKATTN_ATTENTION_ROTARY_K) != 0u;
  [[unroll]] for (uint r = 0; r < ROWS; ++r) {
    const uvec2 row_head = row_query_head(min(row0 + r, total_rows - 1u), head_base, group_heads);
    const uint row = row_head.x, h = row_head.y;
    uint base = p.q_offset + b * p.q_batch + h * p.q_head + row * p.q_row;
    [[unroll]] for (uint d = 0; d < D4; ++d)
      q[r * D4 + d] = q_scale * (rotate_q ? rotated_fetch(q_texels, vec4_view, base, 4u * d, float(p.rotary_offset + row))
                                          : fetch4(q_texels, vec4_view, base + 4u * d, base + HEAD_DIM));
  }
  vec4 o[ROWS * DV4];
  [[unroll]] for (uint i = 0; i < ROWS * DV4; ++i) o[i] = vec4(0.0);
  // The sink's logit starts each running maximum with a weight of exp2(0) = 1.
  float m[ROWS], l[ROWS];
  // Split over keys, only split 0 carries the sink.
  const bool sink_here = SINKS == 1u && split == 0u;
  [[unroll]] for (uint r = 0; r < ROWS; ++r) {
    const uint h = row_query_head(min(row0 + r, total_rows - 1u), head_base, group_heads).y;
    m[r] = sink_here ? LOG2E * float(sinks[h]) : neg_inf;
    l[r] = sink_here ? 1.0 : 0.0;
  }
  // Keys turn by angle addition: the exact cosine and sine at a block's first key, then
  // one step of each element's frequency per key, so a block of KEYS keys costs one
  // sin and cos per element instead of KEYS (every invocation rotates every key it reads).
  vec4 k_step_cos[D4], k_step_sin[D4], k_sign[D4], k_frequency[D4];
  [[unroll]] for (uint d = 0; d < D4; ++d) {
    k_frequency[d] = rotate_k ? vec4(rotary_frequency(4u * d), rotary_frequency(4u * d + 1u),
                                     rotary_frequency(4u * d + 2u), rotary_frequency(4u * d + 3u))
                              : vec4(0.0);
    k_sign[d] = rotate_k ? vec4(rotary_sign(4u * d), rotary_sign(4u * d + 1u), rotary_sign(4u * d + 2u),
                                rotary_sign(4u * d + 3u))
                         : vec4(0.0);
    k_step_cos[d] = cos(k_frequency[d]);
    k_step_sin[d] = sin(k_frequency[d]);
  }

  // The keys any of this invocation's queries can see, and (for KEY_CHUNK) those any
  // query of the workgroup can see: queries first_row..last_row of heads `heads`.
  const ivec2 queries = row_queries(row0, row0 + max(rows_here, 1u) - 1u, group_heads);
  const int first_row = queries.x, last_row = rows_here == 0u ? queries.x - 1 : queries.y;
  const ivec2 heads = ivec2(head_base, head_base + group_heads - 1u);
#ifdef VKATTN_SCORE_PROGRAM
  const ivec4 extents = ivec4(gl_NumWorkGroups.z, p.heads, p.sq, p.sk);
  const ivec2 sqk = ivec2(p.sq, p.sk);
#endif
#ifdef VKATTN_SCORE_VISIBLE
  const ivec2 keys = program_keys(ivec2(0, p.sk), int(KEYS), int(b), heads, first_row, last_row, extents, sqk);
#else
  const ivec2 keys = ivec2(0, p.sk);
#endif
  // Split: the splits share the keys these queries see evenly (whole blocks of KEYS), so
  // every split has work however short the context is.
  const int visible = max(keys.y - keys.x, 0);
  const int per_split = SPLIT == 1u ? (visible + int(splits) * int(KEYS) - 1) / (int(splits) * int(KEYS)) * int(KEYS) : 0;
  const int key_begin = SPLIT == 1u ? keys.x + int(split) * per_split : keys.x;
  const int key_end = rows_here == 0u ? key_begin : SPLIT == 1u ? min(keys.y, key_begin + per_split) : keys.y;
  const int group_row0 = int(gl_WorkGroupID.x * gl_WorkGroupSize.x * ROWS / group_heads);
  const int group_last_row =
      (min(int(gl_WorkGroupID.x * gl_WorkGroupSize.x * ROWS) + int(gl_WorkGroupSize.x * ROWS), int(total_rows)) - 1) /
      int(group_heads);
#ifdef VKATTN_SCORE_VISIBLE
  const ivec2 group_keys = program_keys(ivec2(0, p.sk), int(KEYS), int(b), heads, group_row0, group_last_row, extents, sqk);
#else
  const ivec2 group_keys = ivec2(0, p.sk);
#endif
  const int chunk = KEY_CHUNK == 0u ? max(int(p.sk), 1) : int(KEY_CHUNK);

  for (int c0 = KEY_CHUNK == 0u ? key_begin : group_keys.x; c0 < (KEY_CHUNK == 0u ? key_end : group_keys.y); c0 += chunk) {
  const int chunk_end = min(key_end, c0 + chunk);
  for (int j0 = max(key_begin, c0); j0 < chunk_end; j0 += int(KEYS)) {
#ifdef VKATTN_SCORE_VISIBLE
    if (!score_block_visible(ivec4(b, heads.x, first_row, j0),
                             ivec4(b, heads.y, last_row, min(j0 + int(KEYS), chunk_end) - 1), extents, sqk))
      continue;
#endif
    float s[ROWS * KEYS];
    vec4 k_cos[D4], k_sin[D4];  // of key j0 + jj's angles
    if (rotate_k)
      [[unroll]] for (uint d = 0; d < D4; ++d) {
        vec4 angle = float(p.rotary_offset + uint(j0)) * k_frequency[d];
        k_cos[d] = cos(angle);
        k_sin[d] = sin(angle);
      }
    // The block's keys lie in one page when pages hold whole blocks: one table read for
    // the block's K rows and one for its V rows (contiguous: no table at all).
    const bool one_page = PAGE_SIZE == 0u || (PAGE_SIZE % KEYS == 0u && uint(j0) % KEYS == 0u);
    const uint k_block = one_page ? key_row(p.k_offset, p.k_batch, p.k_head, p.k_row, b, kv_head, uint(j0)) : 0u;
    const uint v_block = one_page ? key_row(p.v_offset, p.v_batch, p.v_head, p.v_row, b, kv_head, uint(j0)) : 0u;
    [[unroll]] for (uint jj = 0; jj < KEYS; ++jj) {
      uint key = uint(min(j0 + int(jj), int(p.sk) - 1));  // keys past the end are hidden below
      uint base = one_page ? k_block + (key - uint(j0)) * p.k_row
                           : key_row(p.k_offset, p.k_batch, p.k_head, p.k_row, b, kv_head, key);
      vec4 k[D4];
      [[unroll]] for (uint d = 0; d < D4; ++d) {
        k[d] = fetch4(k_texels, vec4_view, base + 4u * d, base + HEAD_DIM);
        if (rotate_k) {
          k[d] = k[d] * k_cos[d] + k_sign[d] * rotary_partners(k_texels, vec4_view, base, 4u * d, k[d]) * k_sin[d];
          vec4 next_cos = k_cos[d] * k_step_cos[d] - k_sin[d] * k_step_sin[d];
          k_sin[d] = k_sin[d] * k_step_cos[d] + k_cos[d] * k_step_sin[d];
          k_cos[d] = next_cos;
        }
      }
      [[unroll]] for (uint r = 0; r < ROWS; ++r) {
        float acc = 0.0;
        [[unroll]] for (uint d = 0; d < D4; ++d) acc = dot_add(q[r * D4 + d], k[d], acc);
        s[r * KEYS + jj] = acc;
      }
    }
    [[unroll]] for (uint r = 0; r < ROWS; ++r) {
      const uvec2 row_head = row_query_head(min(row0 + r, total_rows - 1u), head_base, group_heads);
      const uint row = row_head.x, h = row_head.y;
      float block_max = neg_inf;
      [[unroll]] for (uint jj = 0; jj < KEYS; ++jj) {
        int j = j0 + int(jj);
        bool keep = j < chunk_end;
        uint key = uint(min(j, int(p.sk) - 1));
        float v = s[r * KEYS + jj];
#ifdef VKATTN_SCORE_PROGRAM
        const ivec4 c = ivec4(b, h, row, key);
#ifdef VKATTN_SCORE_VISIBLE
        keep = keep && score_visible(c, extents, sqk);
#endif
#ifdef VKATTN_SCORE_VALUE
        v = LOG2E * score_value(v, c, extents, sqk);
#endif
#endif
        v = keep ? v : neg_inf;
        s[r * KEYS + jj] = v;
        block_max = max(block_max, v);
      }
      float new_max = max(m[r], block_max);
      if (new_max == neg_inf) {  // every key so far hidden: nothing to add
        [[unroll]] for (uint jj = 0; jj < KEYS; ++jj) s[r * KEYS + jj] = 0.0;
        continue;
      }
      float rescale = exp2(m[r] - new_max);
      m[r] = new_max;
      float sum = 0.0;
      [[unroll]] for (uint jj = 0; jj < KEYS; ++jj) {
        float e = exp2(s[r * KEYS + jj] - new_max);
        s[r * KEYS + jj] = e;
        sum += e;
      }
      l[r] = l[r] * rescale + sum;
      [[unroll]] for (uint d = 0; d < DV4; ++d) o[r * DV4 + d] *= rescale;
    }
    [[unroll]] for (uint jj = 0; jj < KEYS; ++jj) {
      uint key = uint(min(j0 + int(jj), int(p.sk) - 1));
      uint base = one_page ? v_block + (key - uint(j0)) * p.v_row
                           : key_row(p.v_offset, p.v_batch, p.v_head, p.v_row, b, kv_head, key);
      vec4 v[DV4];
      [[unroll]] for (uint d = 0; d < DV4; ++d) v[d] = fetch4(v_texels, vec4_view, base + 4u * d, base + VALUE_DIM);
      [[unroll]] for (uint r = 0; r < ROWS; ++r) {
        vec4 weight = vec4(s[r * KEYS + jj]);
        [[unroll]] for (uint d = 0; d < DV4; ++d) o[r * DV4 + d] = fma(weight, v[d], o[r * DV4 + d]);
      }
    }
  }

  // Every invocation of the workgroup is done with this chunk of keys (still in the
  // CPU's caches) before any moves to the next.
  if (KEY_CHUNK != 0u) barrier();
  }

  if (SPLIT == 1u) {  // unnormalised output, m and l of this key range: [split][b, h, i][VALUE_DIM + 2]
    const uint partial_rows = gl_NumWorkGroups.z * p.heads * p.sq;
    [[unroll]] for (uint r = 0; r < ROWS; ++r) {
      if (r >= rows_here) break;
      const uvec2 row_head = row_query_head(row0 + r, head_base, group_heads);
      const uint row = row_head.x, h = row_head.y;
      const uint base = (split * partial_rows + (b * p.heads + h) * p.sq + row) * (VALUE_DIM + 2u);
      [[unroll]] for (uint d = 0; d < VALUE_DIM; ++d) partials[base + d] = o[r * DV4 + d / 4u][d % 4u];
      partials[base + VALUE_DIM] = m[r];
      partials[base + VALUE_DIM + 1u] = l[r];
    }
    return;
  }
  [[unroll]] for (uint r = 0; r < ROWS; ++r) {
    if (r >= rows_here) break;
    float inverse = l[r] > 0.0 ? 1.0 / l[r] : 0.0;
    const uvec2 row_head = row_query_head(row0 + r, head_base, group_heads);
    const uint row = row_head.x, h = row_head.y;
    uint base = p.o_offset + b * p.o_batch + h * p.o_head + row * p.o_row;
    [[unroll]] for (uint d = 0; d < VALUE_DIM; ++d) o_out[base + d] = STORE(o[r * DV4 + d / 4u][d % 4u] * inverse);
  }
}
