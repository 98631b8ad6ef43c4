#pragma once
// The schedules `vkattn pipeline-stats --coverage` compiles: every preset at head dims
// 64, 96, 128 and 256, as a prefill (seq 1024), a short batch (seq 16: the GEMMs' few-row
// tiles) and, for the presets with a KV cache, a decoding step (1 token over a 4096-
// position cache: the split-over-keys attention), under the GPU targets, in f32 and f16
// storage, fused and unfused.
#include <string>
#include <vector>

#include <vkattn/schedule.hpp>

namespace vkattn::cli {

struct CoveredSchedule {
  std::string name;  // "llama_block d128 decode amd f16 fused"
  Schedule schedule;
};

inline const std::vector<std::string> coverage_targets{"amd", "nvidia", "intel", "generic"};

std::vector<CoveredSchedule> coverage_schedules(const std::vector<std::string>& target_names);

}  // namespace vkattn::cli
