// Shared by the 1-D kernels: the flat index of this invocation in a launch spread over
// x and y (x is capped at 65535 workgroups).
uint flat_invocation_index() {
  return gl_GlobalInvocationID.x + gl_GlobalInvocationID.y * gl_NumWorkGroups.x * gl_WorkGroupSize.x;
}
