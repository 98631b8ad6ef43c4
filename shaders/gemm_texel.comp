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
// gelu(s1) * s, ...): each invocation accumulates both for its columns.
// A and B are read through texel buffers at any offset and row stride (lda, ldb), with
// batch z = outer * inner_count + inner starting at outer * x_outer + inner * x_inner
// (0 broadcasts); C and the bias are dense.
// Each invocation computes ROWS rows x 8 columns; the 8 invocations of a workgroup take
// 64 consecutive columns, so the SIMD lanes of a CPU device share A's rows. Per step of
// 4 k values all A and B texels are fetched first, then each accumulator's FMAs run
// back to back. Rows and columns past the edge are clamped for reading and not written.
// Storage is f32 or f16 (storage.glsl); products accumulate in f32 and only the final
// value is rounded to the storage type.
layout(local_size_x_id = 0) in;
#include "vkattn/kernels/gemm.h"
VKATTN_GEMM_TEXEL_CONSTANTS(VKATTN_CONSTANT_DECLARE)
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
layout(binding = 1) uniform samplerBuffer a_texels;
layout(binding = 2) uniform samplerBuffer b_texels;
layout(std430, binding = 3) readonly buffer Bias { STORE bias[]; };


const uint COLUMNS = 8;

void main() {
  const uint z = gl_WorkGroupID.z;
  const uint outer = z / p.inner_count, inner = z % p.inner_count;
  const uint a_base = p.a_offset + outer * p.a_outer + inner * p.a_inner;
  const uint b_base = p.b_offset + outer * p.b_outer + inner * p.b_inner;
  const uint m0 = gl_WorkGroupID.y * ROWS;
  const uint n0 = (gl_WorkGroupID.x * gl_WorkGroupSize.x + gl_LocalInvocationID.x) * COLUMNS;
  if (n0 >= p.N) return;
  const bool a_vec4 = A_VEC4 == 1u, b_vec4 = B_VEC4 == 1u;

  // Row starts of A (clamped rows) and, transposed, of B's columns.
  uint a_row[ROWS];
  [[unroll]] for (uint r = 0; r < ROWS; ++r) a_row[r] = a_base + min(m0 + r, p.M - 1u) * p.lda;
  ivec4 a_at[ROWS];  // the prologue's coordinates of each row (unused without one)
  [[unroll]] for (uint r = 0; r < ROWS; ++r) a_at[r] = vkattn_prologue_row(z * p.M + min(m0 + r, p.M - 1u));
  uint b_row[COLUMNS];
  [[unroll]] for (uint j = 0; j < COLUMNS; ++j) b_row[j] = b_base + min(n0 + j, p.N - 1u) * p.ldb;
  const uint up_rows = p.N * p.ldb;  // GATED: the up row of column n is N rows below its gate row

  vec4 acc[ROWS * 2];
  [[unroll]] for (uint i = 0; i < ROWS * 2; ++i) acc[i] = vec4(0.0);
  vec4 acc_up[GATED != 0u ? ROWS * 2 : 1];
  [[unroll]] for (uint i = 0; i < acc_up.length(); ++i) acc_up[i] = vec4(0.0);

  for (uint k = 0; k < p.K; k += 4u) {
    vec4 a[ROWS];
    [[unroll]] for (uint r = 0; r < ROWS; ++r)
      a[r] = vkattn_prologue4(fetch4(a_texels, a_vec4, a_row[r] + k, a_row[r] + p.K), a_at[r], k);
    if (TRANSPOSE_B == 1u) {
      vec4 b[COLUMNS];
      [[unroll]] for (uint j = 0; j < COLUMNS; ++j) b[j] = fetch4(b_texels, b_vec4, b_row[j] + k, b_row[j] + p.K);
      [[unroll]] for (uint r = 0; r < ROWS; ++r) {
        acc[2 * r] = vec4(dot_add(a[r], b[0], acc[2 * r].x), dot_add(a[r], b[1], acc[2 * r].y),
                          dot_add(a[r], b[2], acc[2 * r].z), dot_add(a[r], b[3], acc[2 * r].w));
        acc[2 * r + 1] = vec4(dot_add(a[r], b[4], acc[2 * r + 1].x), dot_add(a[r], b[5], acc[2 * r + 1].y),
                              dot_add(a[r], b[6], acc[2 * r + 1].z), dot_add(a[r], b[7], acc[2 * r + 1].w));
      }
      if (GATED != 0u) {
        [[unroll]] for (uint j = 0; j < COLUMNS; ++j) b[j] = fetch4(b_texels, b_vec4, b_row[j] + up_rows + k, b_row[j] + up_rows + p.K);
        [[unroll]] for (uint r = 0; r < ROWS; ++r) {
          acc_up[2 * r] = vec4(dot_add(a[r], b[0], acc_up[2 * r].x), dot_add(a[r], b[1], acc_up[2 * r].y),
                               dot_add(a[r], b[2], acc_up[2 * r].z), dot_add(a[r], b[3], acc_up[2 * r].w));
          acc_up[2 * r + 1] = vec4(dot_add(a[r], b[4], acc_up[2 * r + 1].x), dot_add(a[r], b[5], acc_up[2 * r + 1].y),
                                   dot_add(a[r], b[6], acc_up[2 * r + 1].z), dot_add(a[r], b[7], acc_up[2 * r + 1].w));
        }
      }
    } else {
      // Rows k..k+3 of B, columns n0..n0+7 as two texels each; rows past K read 0.
      vec4 lo[4], hi[4];
      [[unroll]] for (uint kk = 0; kk < 4u; ++kk) {
        bool in_k = k + kk < p.K;
        uint row = b_base + min(k + kk, p.K - 1u) * p.ldb + n0;
        uint row_end = b_base + min(k + kk, p.K - 1u) * p.ldb + p.N;
        lo[kk] = in_k ? fetch4(b_texels, b_vec4, row, row_end) : vec4(0.0);
        hi[kk] = in_k && n0 + 4u < p.N ? fetch4(b_texels, b_vec4, row + 4u, row_end) : vec4(0.0);
      }
      [[unroll]] for (uint r = 0; r < ROWS; ++r) {
        acc[2 * r] = fma(vec4(a[r].w), lo[3], fma(vec4(a[r].z), lo[2], fma(vec4(a[r].y), lo[1], fma(vec4(a[r].x), lo[0], acc[2 * r]))));
        acc[2 * r + 1] = fma(vec4(a[r].w), hi[3], fma(vec4(a[r].z), hi[2], fma(vec4(a[r].y), hi[1], fma(vec4(a[r].x), hi[0], acc[2 * r + 1]))));
      }
    }
  }

  const uint c_base = z * p.M * p.N;
  [[unroll]] for (uint r = 0; r < ROWS; ++r) {
    uint m = m0 + r;
    if (m >= p.M) break;
    [[unroll]] for (uint j = 0; j < COLUMNS; ++j) {
      uint n = n0 + j;
      if (n >= p.N) break;
      float v = p.alpha * acc[2 * r + j / 4u][j % 4u];
      if (HAS_BIAS == 1u) v += float(bias[n]);
      float v1 = 0.0;
      if (GATED != 0u) v1 = p.alpha * acc_up[2 * r + j / 4u][j % 4u] + (HAS_BIAS == 1u ? float(bias[p.N + n]) : 0.0);
      uint index = c_base + m * p.N + n;
      v = vkattn_epilogue(v, v1, index);
      c[index] = STORE(v);
    }
  }
}
