#version 450
#extension GL_GOOGLE_include_directive : require
#include "storage.glsl"
#extension GL_EXT_control_flow_attributes : require
// Batched matrix product with a generated epilogue, f32 accumulation:
//   C[z, m, n] = epilogue(s, s1, at), s = alpha * sum_k A[z, m, k] * B'[z, k, n] + bias[n]
//   B'[z, k, n] = B[z, n, k] (TRANSPOSE_B = 1, a [out, in] weight) or B[z, k, n]
//   bias when HAS_BIAS; at = the element's index in C, whose coordinates the epilogue
//   reads its own tensors at (a residual, a scale, another product).
// The epilogue is generated code (VKATTN_GENERATED: codegen/render.hpp's
// render_epilogue, any elementwise expression of s); without it, C = s. A generated
// prologue (VKATTN_PROLOGUE) replaces each element of A as it is loaded by an
// elementwise expression of it at its coordinates (row z * M + m, column k of A's
// logical shape):
//   A[z, m, k] -> prologue(A[z, m, k], coordinates of row z * M + m and column k)
// (a normalisation by per-row statistics and per-column weights); elements past the
// edges stay 0.
// GATED = 1 (TRANSPOSE_B): B holds 2N rows, two column halves [0, N) and [N, 2N) of a
// packed product, the bias 2N values likewise; s is the first half's and
//   s1 = alpha * A B'[N + n] + bias[N + n]
// the second's, and the epilogue combines them (SwiGLU's silu(s) * s1, GeGLU's
// gelu(s1) * s, ...): the workgroup stages the second half's tile under the first's
// and each invocation accumulates both for its outputs.
// A and B are storage buffers read at any offset and row stride (lda, ldb), batch z =
// outer * inner_count + inner starting at outer * x_outer + inner * x_inner (0
// broadcasts); C and the bias are dense.
// The GPU form: a workgroup computes a TILE_M x TILE_N block of C. Per step of TILE_K,
// its invocations copy the A and B tiles into shared memory (coalesced, as vec4 where
// A_VEC4 / B_VEC4 say every offset and stride is a multiple of 4; elements past an
// edge read 0), then each invocation accumulates THREAD_M x THREAD_N outputs in
// registers, its rows and columns strided by the thread grid so that neighbouring
// invocations read neighbouring shared-memory words and write neighbouring columns.
// The next step's tiles are fetched into registers while this step computes.
// Storage is f32 or f16 (storage.glsl); products accumulate in f32 and only the final
// value is rounded to the storage type.
layout(local_size_x_id = 0) in;
#include "vkattn/kernels/gemm.h"
VKATTN_GEMM_TILED_CONSTANTS(VKATTN_CONSTANT_DECLARE)
#include "common.glsl"
#ifdef VKATTN_GENERATED
#include "vkattn_generated.glsl"
#else
float vkattn_epilogue(float s, float s1, uint at) { return s; }
#endif
#ifndef VKATTN_PROLOGUE
ivec4 vkattn_prologue_row(uint row) { return ivec4(0); }
vec4 vkattn_prologue4(vec4 a, ivec4 row_at, uint k) { return a; }
#endif

layout(std430, binding = 0) writeonly buffer Result { STORE c[]; };
layout(std430, binding = 1) readonly buffer A1 { STORE a1[]; };
layout(std430, binding = 1) readonly buffer A4 { STORE4 a4[]; };
layout(std430, binding = 2) readonly buffer B1 { STORE b1[]; };
layout(std430, binding = 2) readonly buffer B4 { STORE4 b4[]; };
layout(std430, binding = 3) readonly buffer Bias { STORE bias[]; };

const uint GRID_N = TILE_N / THREAD_N;  // invocations along n
const uint GRID_M = TILE_M / THREAD_M;
const uint INVOCATIONS = GRID_M * GRID_N;
// Elements each invocation copies per tile, in vec4 (the scalar path copies 4 of them).
const uint A_LOADS = (TILE_M * TILE_K / 4u + INVOCATIONS - 1u) / INVOCATIONS;
const uint B_PARTS = GATED != 0u ? 2u : 1u;  // gate (and up) tiles
const uint B_LOADS = (B_PARTS * TILE_N * TILE_K / 4u + INVOCATIONS - 1u) / INVOCATIONS;

shared float a_tile[TILE_K * TILE_M];  // [k][m]
shared float b_tile[B_PARTS * TILE_K * TILE_N];  // [part][k][n]

uint a_base, a_row0, b_base, m0, n0;

// Four consecutive k of row m of A (A: [m][k]) through the prologue; zeros past the edges.
vec4 load_a(uint m, uint k) {
  if (m >= p.M || k >= p.K) return vec4(0.0);
  uint e = a_base + m * p.lda + k;
  if (A_VEC4 == 1u) return vkattn_prologue4(vec4(a4[e >> 2]), vkattn_prologue_row(a_row0 + m), k);
  return vkattn_prologue4(vec4(float(a1[e]), k + 1u < p.K ? float(a1[e + 1u]) : 0.0,
                               k + 2u < p.K ? float(a1[e + 2u]) : 0.0, k + 3u < p.K ? float(a1[e + 3u]) : 0.0),
                          vkattn_prologue_row(a_row0 + m), k);
}

// Four consecutive elements of B along its contiguous axis: k of column n (TRANSPOSE_B)
// or n of row k.
vec4 load_b(uint outer_index, uint inner_index, uint outer_count, uint inner_count) {
  if (outer_index >= outer_count || inner_index >= inner_count) return vec4(0.0);
  uint e = b_base + outer_index * p.ldb + inner_index;
  if (B_VEC4 == 1u) return vec4(b4[e >> 2]);
  return vec4(float(b1[e]), inner_index + 1u < inner_count ? float(b1[e + 1u]) : 0.0,
              inner_index + 2u < inner_count ? float(b1[e + 2u]) : 0.0,
              inner_index + 3u < inner_count ? float(b1[e + 3u]) : 0.0);
}

// The slot of vec4 number `v` of the A tile: row v / (TILE_K / 4), k group v % (TILE_K / 4).
void fetch_tiles(uint k0, inout vec4 a_next[A_LOADS], inout vec4 b_next[B_LOADS]) {
  const uint lane = gl_LocalInvocationID.x;
  [[unroll]] for (uint i = 0; i < A_LOADS; ++i) {
    uint v = lane + i * INVOCATIONS;
    uint row = v / (TILE_K / 4u), kq = v % (TILE_K / 4u);
    a_next[i] = v < TILE_M * TILE_K / 4u ? load_a(m0 + row, k0 + 4u * kq) : vec4(0.0);
  }
  [[unroll]] for (uint i = 0; i < B_LOADS; ++i) {
    uint v = lane + i * INVOCATIONS;
    if (TRANSPOSE_B == 1u) {  // B[n][k]: groups of 4 along k; gated, columns TILE_N.. are up rows
      uint col = v / (TILE_K / 4u), kq = v % (TILE_K / 4u);
      uint part = col / TILE_N, n = n0 + col % TILE_N;
      b_next[i] = v < B_PARTS * TILE_N * TILE_K / 4u && n < p.N
                      ? load_b(part * p.N + n, k0 + 4u * kq, B_PARTS * p.N, p.K) : vec4(0.0);
    } else {  // B[k][n]: groups of 4 along n
      uint kk = v / (TILE_N / 4u), nq = v % (TILE_N / 4u);
      b_next[i] = v < TILE_N * TILE_K / 4u ? load_b(k0 + kk, n0 + 4u * nq, p.K, p.N) : vec4(0.0);
    }
  }
}

void store_tiles(vec4 a_next[A_LOADS], vec4 b_next[B_LOADS]) {
  const uint lane = gl_LocalInvocationID.x;
  [[unroll]] for (uint i = 0; i < A_LOADS; ++i) {
    uint v = lane + i * INVOCATIONS;
    if (v >= TILE_M * TILE_K / 4u) break;
    uint row = v / (TILE_K / 4u), k = 4u * (v % (TILE_K / 4u));
    [[unroll]] for (uint e = 0; e < 4u; ++e) a_tile[(k + e) * TILE_M + row] = a_next[i][e];
  }
  [[unroll]] for (uint i = 0; i < B_LOADS; ++i) {
    uint v = lane + i * INVOCATIONS;
    if (v >= B_PARTS * TILE_N * TILE_K / 4u) break;
    if (TRANSPOSE_B == 1u) {
      uint col = v / (TILE_K / 4u), k = 4u * (v % (TILE_K / 4u));
      uint part = col / TILE_N, n = col % TILE_N;
      [[unroll]] for (uint e = 0; e < 4u; ++e) b_tile[(part * TILE_K + k + e) * TILE_N + n] = b_next[i][e];
    } else {
      uint kk = v / (TILE_N / 4u), n = 4u * (v % (TILE_N / 4u));
      [[unroll]] for (uint e = 0; e < 4u; ++e) b_tile[kk * TILE_N + n + e] = b_next[i][e];
    }
  }
}

void main() {
  const uint z = gl_WorkGroupID.z;
  const uint outer = z / p.inner_count, inner = z % p.inner_count;
  a_base = p.a_offset + outer * p.a_outer + inner * p.a_inner;
  a_row0 = z * p.M;
  b_base = p.b_offset + outer * p.b_outer + inner * p.b_inner;
  m0 = gl_WorkGroupID.y * TILE_M;
  n0 = gl_WorkGroupID.x * TILE_N;
  const uint tx = gl_LocalInvocationID.x % GRID_N, ty = gl_LocalInvocationID.x / GRID_N;

  float acc[THREAD_M * THREAD_N];
  [[unroll]] for (uint i = 0; i < THREAD_M * THREAD_N; ++i) acc[i] = 0.0;
  float acc_up[GATED != 0u ? THREAD_M * THREAD_N : 1];
  [[unroll]] for (uint i = 0; i < acc_up.length(); ++i) acc_up[i] = 0.0;
  vec4 a_next[A_LOADS];
  vec4 b_next[B_LOADS];
  fetch_tiles(0u, a_next, b_next);
  for (uint k0 = 0; k0 < p.K; k0 += TILE_K) {
    barrier();  // the previous step's reads of the tiles are done
    store_tiles(a_next, b_next);
    barrier();
    if (k0 + TILE_K < p.K) fetch_tiles(k0 + TILE_K, a_next, b_next);
    [[unroll]] for (uint k = 0; k < TILE_K; ++k) {
      float a[THREAD_M], b[THREAD_N];
      [[unroll]] for (uint i = 0; i < THREAD_M; ++i) a[i] = a_tile[k * TILE_M + ty + i * GRID_M];
      [[unroll]] for (uint j = 0; j < THREAD_N; ++j) b[j] = b_tile[k * TILE_N + tx + j * GRID_N];
      [[unroll]] for (uint i = 0; i < THREAD_M; ++i)
        [[unroll]] for (uint j = 0; j < THREAD_N; ++j) acc[i * THREAD_N + j] = fma(a[i], b[j], acc[i * THREAD_N + j]);
      if (GATED != 0u) {
        [[unroll]] for (uint j = 0; j < THREAD_N; ++j) b[j] = b_tile[(TILE_K + k) * TILE_N + tx + j * GRID_N];
        [[unroll]] for (uint i = 0; i < THREAD_M; ++i)
          [[unroll]] for (uint j = 0; j < THREAD_N; ++j)
            acc_up[i * THREAD_N + j] = fma(a[i], b[j], acc_up[i * THREAD_N + j]);
      }
    }
  }

  const uint c_base = z * p.M * p.N;
  [[unroll]] for (uint i = 0; i < THREAD_M; ++i) {
    uint m = m0 + ty + i * GRID_M;
    if (m >= p.M) continue;
    [[unroll]] for (uint j = 0; j < THREAD_N; ++j) {
      uint n = n0 + tx + j * GRID_N;
      if (n >= p.N) continue;
      float v = p.alpha * acc[i * THREAD_N + j];
      if (HAS_BIAS == 1u) v += float(bias[n]);
      float v1 = 0.0;
      if (GATED != 0u) v1 = p.alpha * acc_up[i * THREAD_N + j] + (HAS_BIAS == 1u ? float(bias[p.N + n]) : 0.0);
      uint index = c_base + m * p.N + n;
      v = vkattn_epilogue(v, v1, index);
      c[index] = STORE(v);
    }
  }
}
