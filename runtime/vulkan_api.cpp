#include "vulkan_api.hpp"

#include <dlfcn.h>

namespace vkattn::vk {
namespace {
PFN_vkGetInstanceProcAddr get_instance_proc_addr = nullptr;
}

const char* result_name(VkResult result) {
  switch (result) {
#define VKATTN_CASE(name) \
  case name: return #name;
    VKATTN_CASE(VK_SUCCESS)
    VKATTN_CASE(VK_NOT_READY)
    VKATTN_CASE(VK_TIMEOUT)
    VKATTN_CASE(VK_INCOMPLETE)
    VKATTN_CASE(VK_ERROR_OUT_OF_HOST_MEMORY)
    VKATTN_CASE(VK_ERROR_OUT_OF_DEVICE_MEMORY)
    VKATTN_CASE(VK_ERROR_INITIALIZATION_FAILED)
    VKATTN_CASE(VK_ERROR_DEVICE_LOST)
    VKATTN_CASE(VK_ERROR_MEMORY_MAP_FAILED)
    VKATTN_CASE(VK_ERROR_LAYER_NOT_PRESENT)
    VKATTN_CASE(VK_ERROR_EXTENSION_NOT_PRESENT)
    VKATTN_CASE(VK_ERROR_FEATURE_NOT_PRESENT)
    VKATTN_CASE(VK_ERROR_INCOMPATIBLE_DRIVER)
    VKATTN_CASE(VK_ERROR_TOO_MANY_OBJECTS)
    VKATTN_CASE(VK_ERROR_FORMAT_NOT_SUPPORTED)
    VKATTN_CASE(VK_ERROR_FRAGMENTED_POOL)
    VKATTN_CASE(VK_ERROR_OUT_OF_POOL_MEMORY)
    VKATTN_CASE(VK_ERROR_INVALID_EXTERNAL_HANDLE)
    VKATTN_CASE(VK_ERROR_FRAGMENTATION)
    VKATTN_CASE(VK_PIPELINE_COMPILE_REQUIRED)
#undef VKATTN_CASE
    default: return "VkResult (unnamed)";
  }
}

void check(VkResult result, const char* call) {
  if (result == VK_SUCCESS) return;
  std::string message = std::string(call) + " failed: " + result_name(result) + " (" + std::to_string(int(result)) + ")";
  throw VulkanError(message, int(result));
}

void load_loader() {
  if (get_instance_proc_addr) return;
  void* library = dlopen("libvulkan.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!library)
    throw VulkanError(
        "no Vulkan loader: libvulkan.so.1 could not be loaded. Install one (Debian/Ubuntu: apt-get install "
        "libvulkan1, plus a driver such as mesa-vulkan-drivers for the CPU or your GPU vendor's driver)");
  get_instance_proc_addr = reinterpret_cast<PFN_vkGetInstanceProcAddr>(dlsym(library, "vkGetInstanceProcAddr"));
  if (!get_instance_proc_addr) throw VulkanError("libvulkan.so.1 has no vkGetInstanceProcAddr; reinstall libvulkan1");
#define VKATTN_LOAD(name) name = reinterpret_cast<PFN_##name>(get_instance_proc_addr(nullptr, #name));
  VKATTN_GLOBAL_FUNCTIONS(VKATTN_LOAD)
#undef VKATTN_LOAD
  if (!vkCreateInstance) throw VulkanError("the Vulkan loader does not provide vkCreateInstance");
}

void load_instance_functions(VkInstance instance, bool debug_utils) {
#define VKATTN_LOAD(name)                                                                   \
  name = reinterpret_cast<PFN_##name>(get_instance_proc_addr(instance, #name));             \
  if (!name) throw VulkanError("the Vulkan loader does not provide " #name);
  VKATTN_INSTANCE_FUNCTIONS(VKATTN_LOAD)
  if (debug_utils) {
    VKATTN_DEBUG_FUNCTIONS(VKATTN_LOAD)
  }
#undef VKATTN_LOAD
}

// Device functions are loaded through the instance: the loader's trampolines then
// dispatch to whichever device a handle belongs to, so several devices can be open.
void load_device_functions(VkInstance instance) {
#define VKATTN_LOAD(name)                                                      \
  name = reinterpret_cast<PFN_##name>(get_instance_proc_addr(instance, #name)); \
  if (!name) throw VulkanError("the Vulkan driver does not provide " #name);
  VKATTN_DEVICE_FUNCTIONS(VKATTN_LOAD)
#undef VKATTN_LOAD
}

}  // namespace vkattn::vk
