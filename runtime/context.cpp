// Instance, device enumeration and selection, logical device, validation messages.
#include <algorithm>
#include <cstdio>
#include <cctype>
#include <cstdlib>

#include "context_state.hpp"

namespace vkattn {
namespace {

using namespace vk;

constexpr const char* validation_layer = "VK_LAYER_KHRONOS_validation";

VKAPI_ATTR VkBool32 VKAPI_CALL collect_message(VkDebugUtilsMessageSeverityFlagBitsEXT severity,
                                               VkDebugUtilsMessageTypeFlagsEXT,
                                               const VkDebugUtilsMessengerCallbackDataEXT* data, void* user) {
  if (severity < VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT) return VK_FALSE;
  auto* state = static_cast<Context::State*>(user);
  std::lock_guard lock(state->messages_mutex);
  state->messages.push_back(std::string(severity >= VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT ? "error: " : "warning: ") +
                            (data->pMessage ? data->pMessage : ""));
  return VK_FALSE;
}

std::string version_text(std::uint32_t v) {
  return std::to_string(VK_API_VERSION_MAJOR(v)) + "." + std::to_string(VK_API_VERSION_MINOR(v)) + "." +
         std::to_string(VK_API_VERSION_PATCH(v));
}

DeviceType device_type(VkPhysicalDeviceType type) {
  switch (type) {
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: return DeviceType::discrete;
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return DeviceType::integrated;
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: return DeviceType::virtual_gpu;
    case VK_PHYSICAL_DEVICE_TYPE_CPU: return DeviceType::cpu;
    default: return DeviceType::other;
  }
}

int preference(DeviceType type) { return int(type); }  // lower is better: the enum is in order

std::vector<VkQueueFamilyProperties> queue_families(VkPhysicalDevice device) {
  std::uint32_t count = 0;
  vkGetPhysicalDeviceQueueFamilyProperties(device, &count, nullptr);
  std::vector<VkQueueFamilyProperties> families(count);
  vkGetPhysicalDeviceQueueFamilyProperties(device, &count, families.data());
  return families;
}

std::uint32_t compute_queue_family(VkPhysicalDevice device) {
  const std::vector<VkQueueFamilyProperties> families = queue_families(device);
  for (std::uint32_t i = 0; i < families.size(); ++i)
    if (families[i].queueFlags & VK_QUEUE_COMPUTE_BIT) return i;
  return UINT32_MAX;
}

Vendor vendor_of(const VkPhysicalDeviceProperties& p) {
  switch (p.vendorID) {
    case 0x10DE: return Vendor::nvidia;
    case 0x1002: return Vendor::amd;
    case 0x8086: return Vendor::intel;
    case 0x106B: return Vendor::apple;
    default: break;
  }
  if (std::string_view(p.deviceName).find("llvmpipe") != std::string_view::npos) return Vendor::mesa_llvmpipe;
  return Vendor::other;
}

std::vector<std::string> device_extensions(VkPhysicalDevice device) {
  std::uint32_t count = 0;
  vkEnumerateDeviceExtensionProperties(device, nullptr, &count, nullptr);
  std::vector<VkExtensionProperties> extensions(count);
  vkEnumerateDeviceExtensionProperties(device, nullptr, &count, extensions.data());
  std::vector<std::string> names;
  for (const auto& e : extensions) names.emplace_back(e.extensionName);
  return names;
}

DeviceInfo describe(VkPhysicalDevice device, int index) {
  const std::vector<std::string> extensions = device_extensions(device);
  auto has = [&](std::string_view name) { return std::find(extensions.begin(), extensions.end(), name) != extensions.end(); };
  auto subgroup = make_info<VkPhysicalDeviceSubgroupProperties>(VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_PROPERTIES);
  auto size_control = make_info<VkPhysicalDeviceSubgroupSizeControlPropertiesEXT>(
      VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_SIZE_CONTROL_PROPERTIES_EXT);
  auto maintenance3 =
      make_info<VkPhysicalDeviceMaintenance3Properties>(VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MAINTENANCE_3_PROPERTIES);
  auto properties2 = make_info<VkPhysicalDeviceProperties2>(VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2);
  properties2.pNext = &maintenance3;
  maintenance3.pNext = &subgroup;
  const bool has_size_control = has(VK_EXT_SUBGROUP_SIZE_CONTROL_EXTENSION_NAME);
  if (has_size_control) subgroup.pNext = &size_control;
  vkGetPhysicalDeviceProperties2(device, &properties2);
  auto storage16 = make_info<VkPhysicalDevice16BitStorageFeatures>(VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_16BIT_STORAGE_FEATURES);
  auto float16 = make_info<VkPhysicalDeviceShaderFloat16Int8Features>(
      VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_FLOAT16_INT8_FEATURES);
  auto features2 = make_info<VkPhysicalDeviceFeatures2>(VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2);
  features2.pNext = &storage16;
  const bool has_float16 = has(VK_KHR_SHADER_FLOAT16_INT8_EXTENSION_NAME);
  if (has_float16) storage16.pNext = &float16;
  vkGetPhysicalDeviceFeatures2(device, &features2);

  const VkPhysicalDeviceProperties& p = properties2.properties;
  DeviceInfo info;
  info.index = index;
  info.name = p.deviceName;
  info.type = device_type(p.deviceType);
  info.vendor_id = p.vendorID;
  info.device_id = p.deviceID;
  info.api_version = version_text(p.apiVersion);
  info.driver_version = std::to_string(p.driverVersion);
  info.subgroup_size = subgroup.subgroupSize;
  info.max_shared_memory_bytes = p.limits.maxComputeSharedMemorySize;
  info.timestamp_period_ns = p.limits.timestampPeriod;
  std::uint32_t family = compute_queue_family(device);
  if (family != UINT32_MAX)
    info.timestamps = queue_families(device)[family].timestampValidBits > 0 && p.limits.timestampPeriod > 0;
  VkPhysicalDeviceMemoryProperties memory;
  vkGetPhysicalDeviceMemoryProperties(device, &memory);
  for (std::uint32_t i = 0; i < memory.memoryHeapCount; ++i)
    if (memory.memoryHeaps[i].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT) info.device_local_bytes += memory.memoryHeaps[i].size;
  info.max_allocation_bytes = maintenance3.maxMemoryAllocationSize;
  info.f16_arithmetic = has_float16 && float16.shaderFloat16;

  Target& t = info.target;
  t.name = TargetName{info.name};
  t.vendor = vendor_of(p);
  t.device_type = info.type;
  const bool compute_subgroups = (subgroup.supportedStages & VK_SHADER_STAGE_COMPUTE_BIT) != 0;
  t.subgroup_min = t.subgroup_max = subgroup.subgroupSize;
  if (has_size_control && size_control.minSubgroupSize > 0) {
    t.subgroup_min = size_control.minSubgroupSize;
    t.subgroup_max = size_control.maxSubgroupSize;
    t.subgroup_size_control = (size_control.requiredSubgroupSizeStages & VK_SHADER_STAGE_COMPUTE_BIT) != 0;
  }
  t.subgroup_arithmetic = compute_subgroups && (subgroup.supportedOperations & VK_SUBGROUP_FEATURE_ARITHMETIC_BIT);
  t.subgroup_shuffle = compute_subgroups && (subgroup.supportedOperations & VK_SUBGROUP_FEATURE_SHUFFLE_BIT);
  t.shared_memory_bytes = p.limits.maxComputeSharedMemorySize;
  t.max_invocations = std::min({p.limits.maxComputeWorkGroupInvocations, p.limits.maxComputeWorkGroupSize[0]});
  t.storage_16bit = storage16.storageBuffer16BitAccess == VK_TRUE;
  t.f16_arithmetic = info.f16_arithmetic;
  t.cooperative_matrix = has("VK_NV_cooperative_matrix") || has("VK_KHR_cooperative_matrix");
  t.max_texel_buffer_elements = p.limits.maxTexelBufferElements;
  t.max_storage_buffer_range = p.limits.maxStorageBufferRange;
  return info;
}

bool layer_available(const char* name) {
  std::uint32_t count = 0;
  vkEnumerateInstanceLayerProperties(&count, nullptr);
  std::vector<VkLayerProperties> layers(count);
  vkEnumerateInstanceLayerProperties(&count, layers.data());
  return std::any_of(layers.begin(), layers.end(), [&](const auto& l) { return std::string_view(l.layerName) == name; });
}

VkInstance create_instance(const ContextOptions& options, Context::State* state, bool* debug_utils) {
  load_loader();
  auto app = make_info<VkApplicationInfo>(VK_STRUCTURE_TYPE_APPLICATION_INFO);
  app.pApplicationName = "vkattn";
  app.pEngineName = "vkattn";
  app.apiVersion = VK_API_VERSION_1_1;
  std::vector<const char*> layers, extensions;
  *debug_utils = false;
  auto messenger = make_info<VkDebugUtilsMessengerCreateInfoEXT>(VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT);
  VkValidationFeatureEnableEXT sync = VK_VALIDATION_FEATURE_ENABLE_SYNCHRONIZATION_VALIDATION_EXT;
  auto features = make_info<VkValidationFeaturesEXT>(VK_STRUCTURE_TYPE_VALIDATION_FEATURES_EXT);
  if (options.validation) {
    if (!layer_available(validation_layer))
      throw VulkanError(std::string(validation_layer) +
                        " was asked for but is not installed (Debian/Ubuntu: apt-get install vulkan-validationlayers)");
    layers.push_back(validation_layer);
    extensions.push_back(VK_EXT_DEBUG_UTILS_EXTENSION_NAME);
    *debug_utils = true;
    messenger.messageSeverity = VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT | VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT;
    messenger.messageType = VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT | VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT |
                            VK_DEBUG_UTILS_MESSAGE_TYPE_PERFORMANCE_BIT_EXT;
    messenger.pfnUserCallback = collect_message;
    messenger.pUserData = state;
    if (options.synchronization_validation) {
      extensions.push_back(VK_EXT_VALIDATION_FEATURES_EXTENSION_NAME);
      features.enabledValidationFeatureCount = 1;
      features.pEnabledValidationFeatures = &sync;
      messenger.pNext = &features;
    }
  }
  auto info = make_info<VkInstanceCreateInfo>(VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO);
  info.pNext = options.validation ? &messenger : nullptr;  // also reports on instance creation
  info.pApplicationInfo = &app;
  info.enabledLayerCount = std::uint32_t(layers.size());
  info.ppEnabledLayerNames = layers.data();
  info.enabledExtensionCount = std::uint32_t(extensions.size());
  info.ppEnabledExtensionNames = extensions.data();
  VkInstance instance = VK_NULL_HANDLE;
  VkResult result = vkCreateInstance(&info, nullptr, &instance);
  if (result == VK_ERROR_INCOMPATIBLE_DRIVER)
    throw VulkanError("no Vulkan driver is installed (vkCreateInstance: VK_ERROR_INCOMPATIBLE_DRIVER). Install one: "
                      "mesa-vulkan-drivers (lavapipe, on the CPU) or your GPU vendor's driver", int(result));
  check(result, "vkCreateInstance");
  load_instance_functions(instance, *debug_utils);
  // The persistent messenger takes the same settings without the instance-only chain.
  messenger.pNext = nullptr;
  if (options.validation)
    check(vkCreateDebugUtilsMessengerEXT(instance, &messenger, nullptr, &state->messenger),
          "vkCreateDebugUtilsMessengerEXT");
  return instance;
}

std::vector<VkPhysicalDevice> physical_devices(VkInstance instance) {
  std::uint32_t count = 0;
  check(vkEnumeratePhysicalDevices(instance, &count, nullptr), "vkEnumeratePhysicalDevices");
  std::vector<VkPhysicalDevice> devices(count);
  check(vkEnumeratePhysicalDevices(instance, &count, devices.data()), "vkEnumeratePhysicalDevices");
  std::vector<VkPhysicalDevice> usable;
  for (VkPhysicalDevice d : devices) {
    VkPhysicalDeviceProperties p;
    vkGetPhysicalDeviceProperties(d, &p);
    if (p.apiVersion >= VK_API_VERSION_1_1 && compute_queue_family(d) != UINT32_MAX) usable.push_back(d);
  }
  if (usable.empty())
    throw VulkanError("no Vulkan 1.1 device with a compute queue was found. Install a driver: mesa-vulkan-drivers "
                      "(lavapipe, on the CPU) or your GPU vendor's driver");
  return usable;
}

std::string lower(std::string text) {
  for (char& c : text) c = char(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

int select_device(const std::vector<DeviceInfo>& devices, std::string selector) {
  if (selector.empty()) {
    if (const char* env = std::getenv("VKATTN_DEVICE")) selector = env;
  }
  if (selector.empty()) {
    int best = 0;
    for (std::size_t i = 1; i < devices.size(); ++i)
      if (preference(devices[i].type) < preference(devices[std::size_t(best)].type)) best = int(i);
    return best;
  }
  std::string available;
  for (const auto& d : devices) available += "\n  " + std::to_string(d.index) + ": " + d.name;
  if (std::all_of(selector.begin(), selector.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); })) {
    int index = std::atoi(selector.c_str());
    if (index >= 0 && std::size_t(index) < devices.size()) return index;
    throw VulkanError("device index " + selector + " does not exist; the devices are:" + available);
  }
  for (const auto& d : devices)
    if (lower(d.name).find(lower(selector)) != std::string::npos) return d.index;
  throw VulkanError("no device name contains \"" + selector + "\"; the devices are:" + available);
}

}  // namespace

std::vector<DeviceInfo> Context::devices() {
  Context::State scratch;
  bool debug_utils = false;
  VkInstance instance = create_instance({}, &scratch, &debug_utils);
  std::vector<DeviceInfo> infos;
  try {
    auto list = physical_devices(instance);
    for (std::size_t i = 0; i < list.size(); ++i) infos.push_back(describe(list[i], int(i)));
  } catch (...) {
    vkDestroyInstance(instance, nullptr);
    throw;
  }
  vkDestroyInstance(instance, nullptr);
  return infos;
}

Context::Context(const ContextOptions& options) : state_(std::make_shared<State>()) {
  State& s = *state_;
  bool debug_utils = false;
  s.instance = create_instance(options, &s, &debug_utils);
  try {
    auto list = physical_devices(s.instance);
    std::vector<DeviceInfo> infos;
    for (std::size_t i = 0; i < list.size(); ++i) infos.push_back(describe(list[i], int(i)));
    int chosen = select_device(infos, options.device);
    s.physical_device = list[std::size_t(chosen)];
    s.info = infos[std::size_t(chosen)];
    vkGetPhysicalDeviceProperties(s.physical_device, &s.properties);
    vkGetPhysicalDeviceMemoryProperties(s.physical_device, &s.memory);
    s.queue_family = compute_queue_family(s.physical_device);
    float priority = 1.0f;
    auto queue = make_info<VkDeviceQueueCreateInfo>(VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO);
    queue.queueFamilyIndex = s.queue_family;
    queue.queueCount = 1;
    queue.pQueuePriorities = &priority;
    // 16-bit storage, for schedules that hold tensors in f16.
    auto storage16 = make_info<VkPhysicalDevice16BitStorageFeatures>(VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_16BIT_STORAGE_FEATURES);
    storage16.storageBuffer16BitAccess = s.info.target.storage_16bit ? VK_TRUE : VK_FALSE;
    s.f16_storage_enabled = s.info.target.storage_16bit;
    auto device = make_info<VkDeviceCreateInfo>(VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO);
    device.pNext = &storage16;
    device.queueCreateInfoCount = 1;
    device.pQueueCreateInfos = &queue;
    // What the driver's shader compiler made of each pipeline, for pipeline_statistics().
    auto executable_info = make_info<VkPhysicalDevicePipelineExecutablePropertiesFeaturesKHR>(
        VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PIPELINE_EXECUTABLE_PROPERTIES_FEATURES_KHR);
    const char* executable_extension = VK_KHR_PIPELINE_EXECUTABLE_PROPERTIES_EXTENSION_NAME;
    if (options.pipeline_statistics) {
      const std::vector<std::string> extensions = device_extensions(s.physical_device);
      if (std::find(extensions.begin(), extensions.end(), executable_extension) == extensions.end())
        throw VulkanError("device " + s.info.name + " does not report pipeline statistics (it lacks " +
                          executable_extension + "); RADV (Mesa's AMD driver) and NVIDIA's driver have it");
      executable_info.pipelineExecutableInfo = VK_TRUE;
      storage16.pNext = &executable_info;
      device.enabledExtensionCount = 1;
      device.ppEnabledExtensionNames = &executable_extension;
      s.pipeline_statistics_enabled = true;
    }
    check(vkCreateDevice(s.physical_device, &device, nullptr, &s.device), "vkCreateDevice");
    load_device_functions(s.instance);
    vkGetDeviceQueue(s.device, s.queue_family, 0, &s.queue);
  } catch (...) {
    if (s.messenger) vkDestroyDebugUtilsMessengerEXT(s.instance, s.messenger, nullptr);
    vkDestroyInstance(s.instance, nullptr);
    throw;
  }
}

namespace {

// Destroys the device, then the messenger and the instance; messages the validation
// layer gives on the way (objects left alive, say) are collected like any other: the
// instance was created with the messenger chained, so its destruction reports too.
void tear_down(Context::State& s) {
  if (s.device) {
    if (s.queue_used) vkDeviceWaitIdle(s.device);
    vkDestroyDevice(s.device, nullptr);
    s.device = VK_NULL_HANDLE;
  }
  if (s.messenger) {
    vkDestroyDebugUtilsMessengerEXT(s.instance, s.messenger, nullptr);
    s.messenger = VK_NULL_HANDLE;
  }
  if (s.instance) {
    vkDestroyInstance(s.instance, nullptr);
    s.instance = VK_NULL_HANDLE;
  }
}

}  // namespace

std::vector<std::string> Context::close() {
  tear_down(*state_);
  return validation_messages();
}

Context::~Context() {
  State& s = *state_;
  std::size_t before = 0;
  {
    std::lock_guard lock(s.messages_mutex);
    before = s.messages.size();
  }
  tear_down(s);
  // Nobody can ask any more: what the teardown reported goes to stderr rather than nowhere.
  std::lock_guard lock(s.messages_mutex);
  for (std::size_t i = before; i < s.messages.size(); ++i)
    std::fprintf(stderr, "vkattn: validation message while the Vulkan context was destroyed: %s\n",
                 s.messages[i].c_str());
}

const DeviceInfo& Context::device() const { return state_->info; }
const Target& Context::target() const { return state_->info.target; }

std::vector<std::string> Context::validation_messages() const {
  std::lock_guard lock(state_->messages_mutex);
  return state_->messages;
}

void Context::clear_validation_messages() {
  std::lock_guard lock(state_->messages_mutex);
  state_->messages.clear();
}

}  // namespace vkattn
