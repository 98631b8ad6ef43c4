#include "pipeline_cache.hpp"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

namespace vkattn {
namespace {

using namespace vk;

std::filesystem::path cache_directory() {
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg) return std::filesystem::path(xdg) / "vkattn";
  if (const char* home = std::getenv("HOME"); home && *home) return std::filesystem::path(home) / ".cache" / "vkattn";
  return {};
}

// The header every pipeline cache starts with (Vulkan spec, "Pipeline Cache").
bool header_matches(const std::vector<char>& data, const VkPhysicalDeviceProperties& properties) {
  if (data.size() < 16 + VK_UUID_SIZE) return false;
  std::uint32_t words[4];
  std::memcpy(words, data.data(), sizeof words);
  return words[0] >= 16 + VK_UUID_SIZE && words[0] <= data.size() && words[1] == VK_PIPELINE_CACHE_HEADER_VERSION_ONE &&
         words[2] == properties.vendorID && words[3] == properties.deviceID &&
         std::memcmp(data.data() + 16, properties.pipelineCacheUUID, VK_UUID_SIZE) == 0;
}

}  // namespace

PipelineCache::PipelineCache(Context::State& context) : context_(context) {
  std::filesystem::path directory = cache_directory();
  std::vector<char> data;
  if (!directory.empty()) {
    char name[64];
    std::snprintf(name, sizeof name, "pipelines-%04x-%04x.bin", context.properties.vendorID, context.properties.deviceID);
    info_.path = (directory / name).string();
    std::ifstream file(info_.path, std::ios::binary);
    if (file) {
      data.assign(std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>());
      if (!header_matches(data, context.properties)) {
        info_.rejected = true;
        data.clear();
      }
    }
  }
  auto create = make_info<VkPipelineCacheCreateInfo>(VK_STRUCTURE_TYPE_PIPELINE_CACHE_CREATE_INFO);
  create.initialDataSize = data.size();
  create.pInitialData = data.empty() ? nullptr : data.data();
  if (vkCreatePipelineCache(context.device, &create, nullptr, &cache_) != VK_SUCCESS) {
    // The driver refused the data: start empty.
    info_.rejected = !data.empty();
    data.clear();
    create.initialDataSize = 0;
    create.pInitialData = nullptr;
    check(vkCreatePipelineCache(context.device, &create, nullptr, &cache_), "vkCreatePipelineCache");
  }
  info_.loaded_bytes = data.size();
}

PipelineCache::~PipelineCache() {
  // A closed context has destroyed the device, and with it this cache.
  if (cache_ && context_.device) vkDestroyPipelineCache(context_.device, cache_, nullptr);
}

void PipelineCache::save() const {
  if (info_.path.empty()) return;
  std::size_t size = 0;
  if (vkGetPipelineCacheData(context_.device, cache_, &size, nullptr) != VK_SUCCESS || size == 0) return;
  std::vector<char> data(size);
  if (vkGetPipelineCacheData(context_.device, cache_, &size, data.data()) != VK_SUCCESS) return;
  std::error_code error;
  std::filesystem::path path(info_.path);
  std::filesystem::create_directories(path.parent_path(), error);
  std::filesystem::path temporary = path;
  temporary += ".tmp" + std::to_string(reinterpret_cast<std::uintptr_t>(this));
  {
    std::ofstream file(temporary, std::ios::binary | std::ios::trunc);
    if (!file) return;
    file.write(data.data(), std::streamsize(size));
    if (!file) return;
  }
  std::filesystem::rename(temporary, path, error);
  if (error) std::filesystem::remove(temporary, error);
}

}  // namespace vkattn
