#pragma once
// The Vulkan objects behind vkattn::Context, shared by the runtime's files.
#include <mutex>
#include <string>
#include <vector>

#include "vkattn/runtime.hpp"
#include "vulkan_api.hpp"

namespace vkattn {

struct Context::State {
  VkInstance instance = VK_NULL_HANDLE;
  VkDebugUtilsMessengerEXT messenger = VK_NULL_HANDLE;
  VkPhysicalDevice physical_device = VK_NULL_HANDLE;
  VkDevice device = VK_NULL_HANDLE;
  VkQueue queue = VK_NULL_HANDLE;
  std::uint32_t queue_family = 0;
  VkPhysicalDeviceProperties properties{};
  VkPhysicalDeviceMemoryProperties memory{};
  DeviceInfo info;
  bool f16_storage_enabled = false;  // storageBuffer16BitAccess, enabled when the device has it
  bool pipeline_statistics_enabled = false;  // VK_KHR_pipeline_executable_properties

  // Every submission goes through submit(): Vulkan requires the use of a queue to be
  // serialised, and a queue never used needs no wait at teardown (RADV without hardware,
  // made only to compile pipelines, cannot wait on it).
  VkResult submit(std::uint32_t count, const VkSubmitInfo* submits, VkFence fence) {
    std::lock_guard lock(queue_mutex);
    queue_used = true;
    return vk::vkQueueSubmit(queue, count, submits, fence);
  }
  std::mutex queue_mutex;
  bool queue_used = false;

  mutable std::mutex messages_mutex;
  std::vector<std::string> messages;
};

}  // namespace vkattn
