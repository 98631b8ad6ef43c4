#pragma once
// A VkPipelineCache persisted on disk under $XDG_CACHE_HOME/vkattn (or
// ~/.cache/vkattn), one file per device. A file that is corrupt, truncated or from
// another device or driver is ignored, never fatal.
#include "context_state.hpp"

namespace vkattn {

class PipelineCache {
 public:
  explicit PipelineCache(Context::State& context);
  ~PipelineCache();
  PipelineCache(const PipelineCache&) = delete;
  PipelineCache& operator=(const PipelineCache&) = delete;

  VkPipelineCache handle() const { return cache_; }
  const PipelineCacheInfo& info() const { return info_; }
  // Writes the cache back to disk (atomically: a temporary file, then a rename).
  // Failing to write is not an error: the cache is an optimisation.
  void save() const;

 private:
  Context::State& context_;
  VkPipelineCache cache_ = VK_NULL_HANDLE;
  PipelineCacheInfo info_;
};

}  // namespace vkattn
