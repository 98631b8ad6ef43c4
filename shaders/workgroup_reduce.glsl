// Reductions over the invocations of a workgroup: subgroup operations within each
// subgroup, then one value per subgroup through shared memory. Correct for any subgroup
// size (gl_NumSubgroups <= 128 for every workgroup of at most 1024 invocations and
// subgroups of at least 8). Call from uniform control flow.
#extension GL_KHR_shader_subgroup_arithmetic : require

shared float subgroup_partials[128];

float workgroup_sum(float v) {
  v = subgroupAdd(v);
  if (subgroupElect()) subgroup_partials[gl_SubgroupID] = v;
  barrier();
  float total = 0.0;
  for (uint i = 0; i < gl_NumSubgroups; ++i) total += subgroup_partials[i];
  barrier();  // every invocation has read the partials before they are reused
  return total;
}

float workgroup_max(float v) {
  v = subgroupMax(v);
  if (subgroupElect()) subgroup_partials[gl_SubgroupID] = v;
  barrier();
  float result = subgroup_partials[0];
  for (uint i = 1; i < gl_NumSubgroups; ++i) result = max(result, subgroup_partials[i]);
  barrier();
  return result;
}
