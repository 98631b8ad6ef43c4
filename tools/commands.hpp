#pragma once
// The subcommands of vkattn, one file each.
#include <string>
#include <vector>

namespace vkattn::cli {

extern const char* compile_help;
extern const char* bench_help;
int run_compile(const std::vector<std::string>& args);
int run_bench(const std::vector<std::string>& args);

}  // namespace vkattn::cli
