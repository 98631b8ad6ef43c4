#version 450
#extension GL_GOOGLE_include_directive : require
#include "storage.glsl"
// One element of a generated expression per invocation:
//   result[c] = f(c) for every coordinate c of the result (aligned from the back to four
//   axes), where f is rendered from the dispatch's Expression (codegen/render_glsl.cpp)
//   and reads its tensors, broadcast, at c (or a gathered table along its last axis);
//   o_k[c] = g_k(c) for each further output, values f computes on the way that are read
//   beyond the kernel.
// The template is completed when an executable is made: the generated function arrives
// as "vkattn_generated.glsl" (vkattn_store_all, with the buffers).
// Built only with them (VKATTN_GENERATED); the build's own compile of this file checks
// the template against a stand-in.
layout(local_size_x_id = 0) in;
#include "vkattn/kernels/pointwise.h"
VKATTN_POINTWISE_CONSTANTS(VKATTN_CONSTANT_DECLARE)
#include "common.glsl"
#ifdef VKATTN_GENERATED
#include "vkattn_generated.glsl"
#else
layout(std430, binding = 0) writeonly buffer Result { STORE result_values[]; };
void vkattn_store_all(uint at, ivec4 c, ivec4 e, ivec2 sqk) { result_values[at] = STORE(float(c.x + c.y + c.z + c.w)); }
#endif

void main() {
  const uint at = gl_GlobalInvocationID.x + gl_GlobalInvocationID.y * gl_NumWorkGroups.x * gl_WorkGroupSize.x;
  if (at >= p.total) return;
  const ivec4 e = ivec4(p.dims[0], p.dims[1], p.dims[2], p.dims[3]);
  const ivec4 c = vkattn_coordinates(at, e);
  vkattn_store_all(at, c, e, ivec2(p.score_q, p.score_k));
}
