#version 450
#extension GL_GOOGLE_include_directive : require
#include "storage.glsl"
#extension GL_EXT_control_flow_attributes : require
#extension GL_KHR_shader_subgroup_shuffle : require
// Fused attention, the GPU form (FlashAttention-2 order): for batch b, head h, query i
//   O[b, h, i, :] = sum_j softmax_j(s_ij) V[b, h / kv_group, j, :]
//   s_ij = score_value(scale * dot(Q[b, h, i, :], K[b, h / kv_group, j, :]), b, h, i, j)
//          where score_visible(b, h, i, j), else -inf
// score_value and score_visible are the dispatch's score program (generated, below):
// masks, ALiBi, a softcap, biases, any elementwise variant; without one s_ij is the
// scaled dot product. A row whose every key is hidden is all zeros. SINKS adds
// exp(sinks[h]) to the softmax denominator (so a fully hidden row is still zeros).
// ROTARY turns Q (bit 1) and K (bit 2) by the rotary embedding (rotary.glsl) as they are
// loaded, Q row i at position rotary_offset + i and key j at rotary_offset + j: each
// element is read with its partner and rotated in registers, so no rotated copy of Q
// or K is ever stored. With PAGE_SIZE > 0, K and V are pages of a paged KV cache read
// through the block table (key_rows.glsl).
// A workgroup owns ROWS rows of one b: queries of one head h, or with GROUPED = 1
// (grouped-query attention, few queries) (query, head) pairs of the kv_group query
// heads that share workgroup y's KV head, heads fastest, so each staged block of K and
// V serves every head of the group. LANES consecutive invocations own one row, each
// holding a 1/LANES slice of its Q row and of its output row (vec4 slices c, c + LANES,
// ...). Per block of KEYS keys, the workgroup stages K and V in shared
// memory once for all its queries; each lane takes partial dot products over its slice
// and a butterfly of subgroup shuffles (xor 1, 2, .. LANES/2; a query's lanes lie in one
// subgroup for any subgroup size >= LANES) gives every lane all KEYS scores of its
// query. The online softmax runs in f32 in base 2 (log2(e) folded into the scale): the
// running maximum m, the running sum l of exp2(s - m) and the unnormalised output,
// rescaled by exp2(m_old - m_new). Blocks of keys the program hides from all of the
// workgroup's queries are skipped (score_blocks.glsl).
// SPLIT = 1, the split-over-keys form for few queries: workgroup x is (query block,
// split); each split covers keys_per_split keys and writes its unnormalised output, m
// and l to the workspace (binding 0, [split][b, h, i][VALUE_DIM + 2]), which
// attention_combine.comp merges.
// Storage is f32 or f16 (storage.glsl). Q, K and V are widened to f32 as they are read,
// and the scores, the running maximum and sum and the output accumulate in f32: a score
// is never held in f16, so scores beyond f16's range (65504) cannot overflow.
layout(local_size_x_id = 0) in;
#include "vkattn/kernels/attention.h"
VKATTN_ATTENTION_TILED_CONSTANTS(VKATTN_CONSTANT_DECLARE)
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
layout(std430, binding = 0) writeonly buffer Partials { float partials[]; };  // SPLIT: f32 whatever the storage
layout(std430, binding = 1) readonly buffer Q1 { STORE q1[]; };
layout(std430, binding = 1) readonly buffer Q4 { STORE4 q4[]; };
layout(std430, binding = 2) readonly buffer K1 { STORE k1[]; };
layout(std430, binding = 2) readonly buffer K4 { STORE4 k4[]; };
layout(std430, binding = 3) readonly buffer V1 { STORE v1[]; };
layout(std430, binding = 3) readonly buffer V4 { STORE4 v4[]; };
layout(std430, binding = 4) readonly buffer Sinks { STORE sinks[]; };

const uint D4 = (HEAD_DIM + 3u) / 4u;
const uint DV4 = (VALUE_DIM + 3u) / 4u;
const uint QV = (D4 + LANES - 1u) / LANES;   // vec4 of Q per lane
const uint OV = (DV4 + LANES - 1u) / LANES;  // vec4 of the output per lane
const uint INVOCATIONS = ROWS * LANES;
const float LOG2E = 1.4426950408889634;

shared vec4 k_tile[KEYS * D4];
shared vec4 v_tile[KEYS * DV4];

vec4 load_q(uint e, uint end) {
  if (VEC4 == 1u) return vec4(q4[e >> 2]);
  return vec4(e < end ? float(q1[e]) : 0.0, e + 1u < end ? float(q1[e + 1u]) : 0.0,
              e + 2u < end ? float(q1[e + 2u]) : 0.0, e + 3u < end ? float(q1[e + 3u]) : 0.0);
}
vec4 load_k(uint e, uint end) {
  if (VEC4 == 1u) return vec4(k4[e >> 2]);
  return vec4(e < end ? float(k1[e]) : 0.0, e + 1u < end ? float(k1[e + 1u]) : 0.0,
              e + 2u < end ? float(k1[e + 2u]) : 0.0, e + 3u < end ? float(k1[e + 3u]) : 0.0);
}
vec4 load_v(uint e, uint end) {
  if (VEC4 == 1u) return vec4(v4[e >> 2]);
  return vec4(e < end ? float(v1[e]) : 0.0, e + 1u < end ? float(v1[e + 1u]) : 0.0,
              e + 2u < end ? float(v1[e + 2u]) : 0.0, e + 3u < end ? float(v1[e + 3u]) : 0.0);
}

// Element e of Q (or K) and its three successors, rotated as element d of a row at
// `position`; their partners come from the same row (base). The vec4 form needs each
// partner group 4-aligned (the lowering checks: interleaved, or ROTARY_DIMS / 2 a
// multiple of 4).
vec4 rotated_q(uint base, uint d, float position) {
  vec4 x = load_q(base + d, base + HEAD_DIM);
  vec4 partner;
  if (ROTARY_INTERLEAVED) partner = x.yxwz;
  else if (VEC4 == 1u) partner = load_q(base + rotary_partner(d), base + HEAD_DIM);
  else
    partner = vec4(d < HEAD_DIM ? float(q1[base + rotary_partner(d)]) : 0.0,
                   d + 1u < HEAD_DIM ? float(q1[base + rotary_partner(d + 1u)]) : 0.0,
                   d + 2u < HEAD_DIM ? float(q1[base + rotary_partner(d + 2u)]) : 0.0,
                   d + 3u < HEAD_DIM ? float(q1[base + rotary_partner(d + 3u)]) : 0.0);
  return rotary_rotate4(x, partner, d, position);
}
vec4 rotated_k(uint base, uint d, float position) {
  vec4 x = load_k(base + d, base + HEAD_DIM);
  vec4 partner;
  if (ROTARY_INTERLEAVED) partner = x.yxwz;
  else if (VEC4 == 1u) partner = load_k(base + rotary_partner(d), base + HEAD_DIM);
  else
    partner = vec4(d < HEAD_DIM ? float(k1[base + rotary_partner(d)]) : 0.0,
                   d + 1u < HEAD_DIM ? float(k1[base + rotary_partner(d + 1u)]) : 0.0,
                   d + 2u < HEAD_DIM ? float(k1[base + rotary_partner(d + 2u)]) : 0.0,
                   d + 3u < HEAD_DIM ? float(k1[base + rotary_partner(d + 3u)]) : 0.0);
  return rotary_rotate4(x, partner, d, position);
}

void main() {
  const float neg_inf = uintBitsToFloat(0xff800000u);
  const uint lane = gl_LocalInvocationID.x % LANES, local_row = gl_LocalInvocationID.x / LANES;
  const uint b = gl_WorkGroupID.z;
  const uint group_heads = GROUPED == 1u ? p.kv_group : 1u;  // heads in the row space
  const uint kv_head = GROUPED == 1u ? gl_WorkGroupID.y : gl_WorkGroupID.y / p.kv_group;
  const uint head_base = GROUPED == 1u ? gl_WorkGroupID.y * p.kv_group : gl_WorkGroupID.y;
  const uint total_rows = p.sq * group_heads;
  const uint splits = SPLIT == 1u ? (p.sk + p.keys_per_split - 1u) / p.keys_per_split : 1u;
  const uint query_block = gl_WorkGroupID.x / splits, split = gl_WorkGroupID.x % splits;
  const uint row0 = query_block * ROWS;  // in the row space: (query, head) pairs when GROUPED
  const uint t_row = row0 + local_row;
  // Invocations past the last row compute a clamped one and write nothing (i = sq):
  // every invocation takes part in the barriers and shuffles.
  const uint t_clamped = min(t_row, total_rows - 1u);
  const uvec2 row_head = row_query_head(t_clamped, head_base, group_heads);
  const uint row = row_head.x, h = row_head.y;
  const uint i = t_row < total_rows ? row : p.sq;

  vec4 q[QV];
  // A program's value sees the score in natural units, log2(e) applied after it.
  const float q_scale = SCORE_NATURAL ? p.scale : p.scale * LOG2E;
  const uint q_base = p.q_offset + b * p.q_batch + h * p.q_head + row * p.q_row;
  const bool rotate_q = (ROTARY & VKATTN_ATTENTION_ROTARY_Q) != 0u, rotate_k = (ROTARY & VKATTN_ATTENTION_ROTARY_K) != 0u;
  [[unroll]] for (uint t = 0; t < QV; ++t) {
    uint d4 = lane + t * LANES;
    vec4 x = vec4(0.0);
    if (d4 < D4)
      x = rotate_q ? rotated_q(q_base, 4u * d4, float(p.rotary_offset + row)) : load_q(q_base + 4u * d4, q_base + HEAD_DIM);
    q[t] = q_scale * x;
  }
  vec4 o[OV];
  [[unroll]] for (uint t = 0; t < OV; ++t) o[t] = vec4(0.0);
  // The sink's logit starts the running maximum with a weight of exp2(0) = 1 (once,
  // in split 0, when the keys are split).
  const bool sink_here = SINKS == 1u && split == 0u;
  float m = sink_here ? LOG2E * float(sinks[h]) : neg_inf, l = sink_here ? 1.0 : 0.0;

  // The keys any query of this workgroup (and split) can see.
  const ivec2 queries = row_queries(row0, min(row0 + ROWS, total_rows) - 1u, group_heads);
  const int first_row = queries.x, last_row = queries.y;
  const ivec2 heads = ivec2(head_base, head_base + group_heads - 1u);
  int key_begin = 0, key_end = int(p.sk);
#ifdef VKATTN_SCORE_PROGRAM
  const ivec4 extents = ivec4(gl_NumWorkGroups.z, p.heads, p.sq, p.sk);
  const ivec2 sqk = ivec2(p.sq, p.sk);
#endif
#ifdef VKATTN_SCORE_VISIBLE
  // The first and last key block the score program may show this workgroup's queries
  // (uniform over it); the splits then share only those keys.
  const ivec2 keys = program_keys(ivec2(key_begin, key_end), int(KEYS), int(b), heads, first_row, last_row, extents, sqk);
  key_begin = keys.x;
  key_end = keys.y;
  if (SPLIT == 1u) {
    const int share = (key_end - key_begin + int(splits * KEYS) - 1) / int(splits * KEYS) * int(KEYS);
    key_begin = min(key_end, key_begin + int(split) * share);
    key_end = min(key_end, key_begin + share);
  }
#else
  if (SPLIT == 1u) {
    key_begin = max(key_begin, int(split * p.keys_per_split));
    key_end = min(key_end, int((split + 1u) * p.keys_per_split));
  }
#endif

  for (int j0 = key_begin; j0 < key_end; j0 += int(KEYS)) {
#ifdef VKATTN_SCORE_VISIBLE
    // Uniform over the workgroup: skipping a block skips its barriers for every invocation.
    if (!score_block_visible(ivec4(b, heads.x, first_row, j0), ivec4(b, heads.y, last_row, min(j0 + int(KEYS), key_end) - 1),
                             extents, sqk))
      continue;
#endif
    barrier();  // every invocation is done with the previous block
    for (uint e = gl_LocalInvocationID.x; e < KEYS * D4; e += INVOCATIONS) {
      uint key = uint(j0) + e / D4, d4 = e % D4;
      uint base = key_row(p.k_offset, p.k_batch, p.k_head, p.k_row, b, kv_head, min(key, p.sk - 1u));
      vec4 x = vec4(0.0);
      if (key < p.sk)
        x = rotate_k ? rotated_k(base, 4u * d4, float(p.rotary_offset + key)) : load_k(base + 4u * d4, base + HEAD_DIM);
      k_tile[e] = x;
    }
    for (uint e = gl_LocalInvocationID.x; e < KEYS * DV4; e += INVOCATIONS) {
      uint key = uint(j0) + e / DV4, d4 = e % DV4;
      uint base = key_row(p.v_offset, p.v_batch, p.v_head, p.v_row, b, kv_head, min(key, p.sk - 1u));
      v_tile[e] = key < p.sk ? load_v(base + 4u * d4, base + VALUE_DIM) : vec4(0.0);
    }
    barrier();

    float s[KEYS];
    [[unroll]] for (uint jj = 0; jj < KEYS; ++jj) {
      float partial = 0.0;
      [[unroll]] for (uint t = 0; t < QV; ++t) {
        uint d4 = lane + t * LANES;
        if (d4 < D4) partial = dot_add(q[t], k_tile[jj * D4 + d4], partial);
      }
      [[unroll]] for (uint x = 1u; x < LANES; x <<= 1u) partial += subgroupShuffleXor(partial, x);
      s[jj] = partial;
    }

    float block_max = neg_inf;
    [[unroll]] for (uint jj = 0; jj < KEYS; ++jj) {
      int j = j0 + int(jj);
      bool keep = j < key_end && int(i) < int(p.sq);
      uint key = uint(min(j, int(p.sk) - 1));
      float v = s[jj];
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
      s[jj] = v;
      block_max = max(block_max, v);
    }
    float new_max = max(m, block_max);
    if (new_max != neg_inf) {  // else every key so far is hidden: nothing to add
      float rescale = exp2(m - new_max);
      m = new_max;
      float sum = 0.0;
      [[unroll]] for (uint jj = 0; jj < KEYS; ++jj) {
        s[jj] = exp2(s[jj] - new_max);
        sum += s[jj];
      }
      l = l * rescale + sum;
      [[unroll]] for (uint t = 0; t < OV; ++t) o[t] *= rescale;
      [[unroll]] for (uint jj = 0; jj < KEYS; ++jj) {
        vec4 weight = vec4(s[jj]);
        [[unroll]] for (uint t = 0; t < OV; ++t) {
          uint d4 = lane + t * LANES;
          if (d4 < DV4) o[t] = fma(weight, v_tile[jj * DV4 + d4], o[t]);
        }
      }
    }
  }

  if (i >= p.sq) return;
  if (SPLIT == 1u) {
    const uint partial_rows = gl_NumWorkGroups.z * p.heads * p.sq;
    const uint base = (split * partial_rows + (b * p.heads + h) * p.sq + i) * (VALUE_DIM + 2u);
    [[unroll]] for (uint t = 0; t < OV; ++t) {
      uint d4 = lane + t * LANES;
      [[unroll]] for (uint e = 0; e < 4u; ++e)
        if (d4 < DV4 && 4u * d4 + e < VALUE_DIM) partials[base + 4u * d4 + e] = o[t][e];
    }
    if (lane == 0u) {
      partials[base + VALUE_DIM] = m;
      partials[base + VALUE_DIM + 1u] = l;
    }
    return;
  }
  const float inverse = l > 0.0 ? 1.0 / l : 0.0;
  const uint base = p.o_offset + b * p.o_batch + h * p.o_head + i * p.o_row;
  [[unroll]] for (uint t = 0; t < OV; ++t) {
    uint d4 = lane + t * LANES;
    [[unroll]] for (uint e = 0; e < 4u; ++e)
      if (d4 < DV4 && 4u * d4 + e < VALUE_DIM) o_out[base + 4u * d4 + e] = STORE(o[t][e] * inverse);
  }
}
