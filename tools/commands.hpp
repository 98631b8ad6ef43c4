#pragma once
// The subcommands of vkattn, one file each: its --help text and its entry point.
#include <string>
#include <vector>

namespace vkattn::cli {

extern const char* devices_help;
extern const char* compile_help;
extern const char* run_help;
extern const char* bench_help;
extern const char* heatmap_help;
extern const char* decode_help;
extern const char* generate_help;
extern const char* pipeline_stats_help;
int run_devices(const std::vector<std::string>& args);
int run_compile(const std::vector<std::string>& args);
int run_run(const std::vector<std::string>& args);
int run_bench(const std::vector<std::string>& args);
int run_heatmap(const std::vector<std::string>& args);
int run_decode(const std::vector<std::string>& args);
int run_generate(const std::vector<std::string>& args);
int run_pipeline_stats(const std::vector<std::string>& args);

}  // namespace vkattn::cli
