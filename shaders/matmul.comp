#version 450
// Batched matrix product, f32 in and out, f32 accumulation.
//   C[z, m, n] = sum_k A[z, m, k] * B[z, k, n]     (TRANSPOSE_B = 0)
//   C[z, m, n] = sum_k A[z, m, k] * B[z, n, k]     (TRANSPOSE_B = 1)
// Batch z = outer * inner_count + inner; A's matrix for z starts at
// outer * a_stride0 + inner * a_stride1 (0 strides broadcast), likewise B; C is dense.
// A workgroup of 8x8 invocations computes a 32x32 tile; invocation (x, y) computes
// rows m0 + y + 8i and columns n0 + x + 8j, i, j in 0..3, so neighbouring invocations
// read neighbouring columns. Out-of-range rows and columns read 0 and are not written.
layout(local_size_x = 8, local_size_y = 8, local_size_z = 1) in;
layout(constant_id = 0) const uint TRANSPOSE_B = 0;

layout(std430, binding = 0) writeonly buffer Result { float c[]; };
layout(std430, binding = 1) readonly buffer Left { float a[]; };
layout(std430, binding = 2) readonly buffer Right { float b[]; };

layout(push_constant) uniform Constants {
  uint M, N, K, inner_count, a_stride0, a_stride1, b_stride0, b_stride1;
} p;

void main() {
  uint z = gl_WorkGroupID.z;
  uint outer = z / p.inner_count, inner = z % p.inner_count;
  uint a_base = outer * p.a_stride0 + inner * p.a_stride1;
  uint b_base = outer * p.b_stride0 + inner * p.b_stride1;
  uint c_base = z * p.M * p.N;
  uint m0 = gl_WorkGroupID.y * 32u + gl_LocalInvocationID.y;
  uint n0 = gl_WorkGroupID.x * 32u + gl_LocalInvocationID.x;

  float acc[4][4];
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 4; ++j) acc[i][j] = 0.0;

  for (uint k = 0; k < p.K; ++k) {
    float av[4], bv[4];
    for (int i = 0; i < 4; ++i) {
      uint m = m0 + 8u * uint(i);
      av[i] = m < p.M ? a[a_base + m * p.K + k] : 0.0;
    }
    for (int j = 0; j < 4; ++j) {
      uint n = n0 + 8u * uint(j);
      bv[j] = n < p.N ? (TRANSPOSE_B == 1u ? b[b_base + n * p.K + k] : b[b_base + k * p.N + n]) : 0.0;
    }
    for (int i = 0; i < 4; ++i)
      for (int j = 0; j < 4; ++j) acc[i][j] += av[i] * bv[j];
  }
  for (int i = 0; i < 4; ++i) {
    uint m = m0 + 8u * uint(i);
    if (m >= p.M) continue;
    for (int j = 0; j < 4; ++j) {
      uint n = n0 + 8u * uint(j);
      if (n < p.N) c[c_base + m * p.N + n] = acc[i][j];
    }
  }
}
