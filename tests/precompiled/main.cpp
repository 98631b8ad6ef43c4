// A program built with vkattn_precompile_kernels runs its constexpr schedule's generated
// kernels without compiling one: with an empty shader cache, every kernel comes from
// the SPIR-V the build made, and the run matches the CPU reference.
#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include <vkattn/reference.hpp>
#include <vkattn/runtime.hpp>
#include <vkattn/shader_cache.hpp>

#include "plan.hpp"

int main() {
  namespace va = vkattn;
  // No on-disk cache to fall back on.
  const std::filesystem::path empty = std::filesystem::temp_directory_path() / "vkattn_precompiled_test_cache";
  std::filesystem::remove_all(empty);
  setenv("XDG_CACHE_HOME", empty.c_str(), 1);
  const va::Graph graph = precompiled::windowed_attention();
  const va::TensorMap bindings = va::random_bindings(graph, 5);
  va::Context context;
  va::Executable executable(context, precompiled::plan.thaw(), bindings);
  const double error =
      va::normalised_error(executable.run(bindings).at("y"), va::run_reference(graph, bindings).outputs.at("y"));
  const va::ShaderCacheStats stats = va::shader_cache_stats();
  std::printf("precompiled %llu, compiled %llu, normalised error %.2e\n",
              static_cast<unsigned long long>(stats.precompiled), static_cast<unsigned long long>(stats.compiled), error);
  std::filesystem::remove_all(empty);
  return stats.precompiled >= 1 && stats.compiled == 0 && stats.from_disk == 0 && error < 1e-5 ? 0 : 1;
}
