// The generator vkattn_precompile_kernels builds and runs: the schedule's generated
// kernels, as SPIR-V in a C++ source.
#include <vkattn/precompiled_kernels.hpp>

#include "plan.hpp"

int main(int argc, char** argv) {
  const vkattn::Schedule schedules[] = {precompiled::plan.thaw()};
  return vkattn::write_precompiled_kernels(argc, argv, schedules);
}
