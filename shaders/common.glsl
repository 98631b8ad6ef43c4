// Shared by the kernels.

// The flat index of this invocation in a 1-D launch spread over x and y (x is capped
// at 65535 workgroups).
uint flat_invocation_index() {
  return gl_GlobalInvocationID.x + gl_GlobalInvocationID.y * gl_NumWorkGroups.x * gl_WorkGroupSize.x;
}

// erf by Abramowitz & Stegun 7.1.26 (absolute error below 1.5e-7).
float erf_approx(float v) {
  float t = 1.0 / (1.0 + 0.3275911 * abs(v));
  float poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  float e = 1.0 - poly * exp(-v * v);
  return v < 0.0 ? -e : e;
}

// gelu(v) = 0.5 v (1 + erf(v / sqrt 2)), the exact form.
float gelu(float v) { return 0.5 * v * (1.0 + erf_approx(v * 0.70710678118654752)); }

// tanh through exp of a non-positive argument, so large |v| cannot overflow.
float tanh_stable(float v) {
  float e = exp(-2.0 * abs(v));
  float t = (1.0 - e) / (1.0 + e);
  return v < 0.0 ? -t : t;
}

// The coordinates of element `at` of a row-major tensor of extents e (four axes,
// aligned from the back): what generated code reads its tensors at.
ivec4 vkattn_coordinates(uint at, ivec4 e) {
  ivec4 c;
  uint rest = at;
  c.w = int(rest % uint(e.w));
  rest /= uint(e.w);
  c.z = int(rest % uint(e.z));
  rest /= uint(e.z);
  c.y = int(rest % uint(e.y));
  c.x = int(rest / uint(e.y));
  return c;
}

// Four consecutive elements [e, e + 4) of a texel buffer: one RGBA32F fetch when the
// view is RGBA32F (e is then a multiple of 4), else four R32F fetches, with elements
// at or past `end` read as 0.
vec4 fetch4(samplerBuffer texels, bool vec4_view, uint e, uint end) {
  if (vec4_view) return texelFetch(texels, int(e >> 2));
  return vec4(e < end ? texelFetch(texels, int(e)).x : 0.0, e + 1u < end ? texelFetch(texels, int(e + 1u)).x : 0.0,
              e + 2u < end ? texelFetch(texels, int(e + 2u)).x : 0.0, e + 3u < end ? texelFetch(texels, int(e + 3u)).x : 0.0);
}

// acc + dot(a, b), as four fused multiply-adds.
float dot_add(vec4 a, vec4 b, float acc) { return fma(a.w, b.w, fma(a.z, b.z, fma(a.y, b.y, fma(a.x, b.x, acc)))); }
