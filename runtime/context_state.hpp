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

  mutable std::mutex messages_mutex;
  std::vector<std::string> messages;
};

}  // namespace vkattn
