#pragma once
// The Vulkan entry points vkattn uses, loaded at run time from libvulkan.so.1, so a
// machine without a Vulkan loader gets an error saying what to install instead of a
// failure to start.
#define VK_NO_PROTOTYPES
#include <vulkan/vulkan.h>

#include <stdexcept>
#include <string>

#include "vkattn/runtime.hpp"

namespace vkattn::vk {

#define VKATTN_GLOBAL_FUNCTIONS(X)          \
  X(vkCreateInstance)                       \
  X(vkEnumerateInstanceLayerProperties)     \
  X(vkEnumerateInstanceExtensionProperties) \
  X(vkEnumerateInstanceVersion)

#define VKATTN_INSTANCE_FUNCTIONS(X)           \
  X(vkDestroyInstance)                         \
  X(vkEnumeratePhysicalDevices)                \
  X(vkGetPhysicalDeviceProperties)             \
  X(vkGetPhysicalDeviceProperties2)            \
  X(vkGetPhysicalDeviceFeatures)               \
  X(vkGetPhysicalDeviceFeatures2)              \
  X(vkGetPhysicalDeviceQueueFamilyProperties)  \
  X(vkGetPhysicalDeviceMemoryProperties)       \
  X(vkEnumerateDeviceExtensionProperties)      \
  X(vkCreateDevice)                            \
  X(vkGetDeviceProcAddr)

#define VKATTN_DEBUG_FUNCTIONS(X)    \
  X(vkCreateDebugUtilsMessengerEXT)  \
  X(vkDestroyDebugUtilsMessengerEXT)

#define VKATTN_DEVICE_FUNCTIONS(X)     \
  X(vkDestroyDevice)                   \
  X(vkGetDeviceQueue)                  \
  X(vkDeviceWaitIdle)                  \
  X(vkCreateBuffer)                    \
  X(vkDestroyBuffer)                   \
  X(vkCreateBufferView)                \
  X(vkDestroyBufferView)               \
  X(vkGetBufferMemoryRequirements)     \
  X(vkAllocateMemory)                  \
  X(vkFreeMemory)                      \
  X(vkBindBufferMemory)                \
  X(vkMapMemory)                       \
  X(vkUnmapMemory)                     \
  X(vkFlushMappedMemoryRanges)         \
  X(vkInvalidateMappedMemoryRanges)    \
  X(vkCreateShaderModule)              \
  X(vkDestroyShaderModule)             \
  X(vkCreateDescriptorSetLayout)       \
  X(vkDestroyDescriptorSetLayout)      \
  X(vkCreatePipelineLayout)            \
  X(vkDestroyPipelineLayout)           \
  X(vkCreatePipelineCache)             \
  X(vkDestroyPipelineCache)            \
  X(vkGetPipelineCacheData)            \
  X(vkCreateComputePipelines)          \
  X(vkDestroyPipeline)                 \
  X(vkCreateDescriptorPool)            \
  X(vkDestroyDescriptorPool)           \
  X(vkAllocateDescriptorSets)          \
  X(vkUpdateDescriptorSets)            \
  X(vkCreateCommandPool)               \
  X(vkDestroyCommandPool)              \
  X(vkAllocateCommandBuffers)          \
  X(vkFreeCommandBuffers)              \
  X(vkBeginCommandBuffer)              \
  X(vkEndCommandBuffer)                \
  X(vkCmdBindPipeline)                 \
  X(vkCmdBindDescriptorSets)           \
  X(vkCmdPushConstants)                \
  X(vkCmdDispatch)                     \
  X(vkCmdPipelineBarrier)              \
  X(vkCmdCopyBuffer)                   \
  X(vkCmdFillBuffer)                   \
  X(vkCmdResetQueryPool)               \
  X(vkCmdWriteTimestamp)               \
  X(vkCreateQueryPool)                 \
  X(vkDestroyQueryPool)                \
  X(vkGetQueryPoolResults)             \
  X(vkCreateFence)                     \
  X(vkDestroyFence)                    \
  X(vkWaitForFences)                   \
  X(vkResetFences)                     \
  X(vkQueueSubmit)

#define VKATTN_DECLARE(name) inline PFN_##name name = nullptr;
VKATTN_GLOBAL_FUNCTIONS(VKATTN_DECLARE)
VKATTN_INSTANCE_FUNCTIONS(VKATTN_DECLARE)
VKATTN_DEBUG_FUNCTIONS(VKATTN_DECLARE)
VKATTN_DEVICE_FUNCTIONS(VKATTN_DECLARE)
#undef VKATTN_DECLARE

// A zero-initialised Vulkan info struct with its sType set.
template <typename Info>
Info make_info(VkStructureType type) {
  Info info{};
  info.sType = type;
  return info;
}

using vkattn::VulkanError;  // declared in vkattn/runtime.hpp, where users catch it

const char* result_name(VkResult result);

// Throws VulkanError naming the call and the VkResult when `result` is not VK_SUCCESS.
void check(VkResult result, const char* call);

#define VKATTN_CHECK(call) ::vkattn::vk::check((call), #call)

// Loads libvulkan.so.1 and the global entry points (once). Throws with install advice.
void load_loader();
void load_instance_functions(VkInstance instance, bool debug_utils);
void load_device_functions(VkInstance instance);

}  // namespace vkattn::vk
