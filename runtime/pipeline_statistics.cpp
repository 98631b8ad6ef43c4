// Pipelines compiled only to read the driver's statistics of them.
#include "vkattn/pipeline_statistics.hpp"

#include <algorithm>
#include <map>
#include <tuple>

#include "context_state.hpp"
#include "pipeline_objects.hpp"
#include "shader_compiler.hpp"

namespace vkattn {

using namespace vk;

std::optional<double> PipelineStatistics::value(std::string_view name) const {
  for (const DriverStatistic& s : statistics)
    if (s.name == name) return s.value;
  return std::nullopt;
}

namespace {

double statistic_value(const VkPipelineExecutableStatisticKHR& s) {
  switch (s.format) {
    case VK_PIPELINE_EXECUTABLE_STATISTIC_FORMAT_BOOL32_KHR: return s.value.b32 ? 1 : 0;
    case VK_PIPELINE_EXECUTABLE_STATISTIC_FORMAT_INT64_KHR: return double(s.value.i64);
    case VK_PIPELINE_EXECUTABLE_STATISTIC_FORMAT_UINT64_KHR: return double(s.value.u64);
    case VK_PIPELINE_EXECUTABLE_STATISTIC_FORMAT_FLOAT64_KHR: return s.value.f64;
    default: return 0;
  }
}

// Vulkan's two-call enumeration: the count, then the items (each with its sType set).
template <typename Item, typename Call>
std::vector<Item> enumerate(VkStructureType type, const char* name, Call call) {
  std::uint32_t count = 0;
  check(call(&count, nullptr), name);
  std::vector<Item> items(count, make_info<Item>(type));
  check(call(&count, items.data()), name);
  items.resize(count);
  return items;
}

// The driver's report on the pipeline's compute executable.
void read_statistics(VkDevice device, VkPipeline pipeline, PipelineStatistics& out) {
  auto get_properties = reinterpret_cast<PFN_vkGetPipelineExecutablePropertiesKHR>(
      vkGetDeviceProcAddr(device, "vkGetPipelineExecutablePropertiesKHR"));
  auto get_statistics = reinterpret_cast<PFN_vkGetPipelineExecutableStatisticsKHR>(
      vkGetDeviceProcAddr(device, "vkGetPipelineExecutableStatisticsKHR"));
  if (!get_properties || !get_statistics)
    throw VulkanError("the driver does not provide vkGetPipelineExecutableStatisticsKHR");
  auto info = make_info<VkPipelineInfoKHR>(VK_STRUCTURE_TYPE_PIPELINE_INFO_KHR);
  info.pipeline = pipeline;
  const auto executables = enumerate<VkPipelineExecutablePropertiesKHR>(
      VK_STRUCTURE_TYPE_PIPELINE_EXECUTABLE_PROPERTIES_KHR, "vkGetPipelineExecutablePropertiesKHR",
      [&](std::uint32_t* n, VkPipelineExecutablePropertiesKHR* items) { return get_properties(device, &info, n, items); });
  for (std::uint32_t e = 0; e < executables.size(); ++e) {
    if (!(executables[e].stages & VK_SHADER_STAGE_COMPUTE_BIT)) continue;
    out.subgroup_size = executables[e].subgroupSize;
    auto which = make_info<VkPipelineExecutableInfoKHR>(VK_STRUCTURE_TYPE_PIPELINE_EXECUTABLE_INFO_KHR);
    which.pipeline = pipeline;
    which.executableIndex = e;
    const auto stats = enumerate<VkPipelineExecutableStatisticKHR>(
        VK_STRUCTURE_TYPE_PIPELINE_EXECUTABLE_STATISTIC_KHR, "vkGetPipelineExecutableStatisticsKHR",
        [&](std::uint32_t* n, VkPipelineExecutableStatisticKHR* items) { return get_statistics(device, &which, n, items); });
    for (const auto& stat : stats) out.statistics.push_back({stat.name, stat.description, statistic_value(stat)});
    return;
  }
}

}  // namespace

std::vector<PipelineStatistics> pipeline_statistics(Context& context, const std::vector<Schedule>& schedules,
                                                    const std::vector<std::string>& describe) {
  Context::State& s = context.state();
  if (!s.pipeline_statistics_enabled)
    throw VulkanError("pipeline_statistics needs a context made with ContextOptions::pipeline_statistics = true");
  using Key = std::tuple<Shader, DType, std::vector<std::uint32_t>, std::string>;
  std::map<Key, std::size_t> index;
  std::vector<PipelineStatistics> out;
  for (std::size_t k = 0; k < schedules.size(); ++k) {
    const Schedule& schedule = schedules[k];
    for (std::size_t i = 0; i < schedule.dispatches.size(); ++i) {
      const Dispatch& d = schedule.dispatches[i];
      Key key{d.shader, d.element, std::vector<std::uint32_t>(d.specialization.begin(), d.specialization.end()),
              generated_source(schedule, d)};
      auto [it, fresh] = index.try_emplace(key, out.size());
      const std::string target(schedule.target.name.view());
      if (!fresh) {
        PipelineStatistics& seen = out[it->second];
        ++seen.uses;
        if (std::find(seen.targets.begin(), seen.targets.end(), target) == seen.targets.end())
          seen.targets.push_back(target);
        continue;
      }
      PipelineStatistics p;
      p.shader = d.shader;
      p.element = d.element;
      p.specialization = std::get<2>(key);
      p.generated = std::get<3>(key);
      p.invocations = d.local_size();
      p.declared_shared_bytes = d.shared_bytes();
      p.config = std::string(d.config.view());
      p.reason = std::string(d.reason.view());
      p.first_use = (k < describe.size() ? describe[k] : std::string(schedule.graph_name.view())) + " #" +
                    std::to_string(i) + " " + std::string(d.label.view());
      p.uses = 1;
      p.targets.push_back(target);
      out.push_back(std::move(p));
    }
  }
  std::map<Shader, ShaderLayout> layouts;
  std::map<std::tuple<Shader, DType, std::string>, VkShaderModule> modules;
  auto release = [&] {
    for (auto& [key, module] : modules) vkDestroyShaderModule(s.device, module, nullptr);
    for (auto& [key, layout] : layouts) destroy_shader_layout(s.device, layout);
  };
  try {
    for (PipelineStatistics& p : out) {
      if (!layouts.count(p.shader)) layouts[p.shader] = create_shader_layout(s.device, p.shader);
      VkShaderModule& module = modules[{p.shader, p.element, p.generated}];
      if (!module)
        module = p.generated.empty() ? create_shader_module(s.device, p.shader, p.element)
                                     : create_shader_module(s.device, generated_spirv(p.shader, p.element, p.generated));
      VkPipeline pipeline = VK_NULL_HANDLE;
      try {
        pipeline = create_compute_pipeline(s.device, VK_NULL_HANDLE, module, layouts.at(p.shader).pipeline,
                                           p.specialization, VK_PIPELINE_CREATE_CAPTURE_STATISTICS_BIT_KHR);
      } catch (const VulkanError& e) {
        p.error = e.what();
        continue;
      }
      try {
        read_statistics(s.device, pipeline, p);
      } catch (...) {
        vkDestroyPipeline(s.device, pipeline, nullptr);
        throw;
      }
      vkDestroyPipeline(s.device, pipeline, nullptr);
    }
  } catch (...) {
    release();
    throw;
  }
  release();
  return out;
}

std::optional<ComputeUnitResources> amd_compute_unit(const Context& context) {
  const Context::State& s = context.state();
  std::uint32_t count = 0;
  vkEnumerateDeviceExtensionProperties(s.physical_device, nullptr, &count, nullptr);
  std::vector<VkExtensionProperties> extensions(count);
  vkEnumerateDeviceExtensionProperties(s.physical_device, nullptr, &count, extensions.data());
  const bool has = std::any_of(extensions.begin(), extensions.end(), [](const VkExtensionProperties& e) {
    return std::string_view(e.extensionName) == VK_AMD_SHADER_CORE_PROPERTIES_EXTENSION_NAME;
  });
  if (!has) return std::nullopt;
  auto core = make_info<VkPhysicalDeviceShaderCorePropertiesAMD>(VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_CORE_PROPERTIES_AMD);
  auto properties = make_info<VkPhysicalDeviceProperties2>(VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2);
  properties.pNext = &core;
  vkGetPhysicalDeviceProperties2(s.physical_device, &properties);
  ComputeUnitResources unit;
  // RDNA's CUs have 2 SIMD32s and pair into a WGP that places workgroups (4 SIMDs, 128
  // KiB LDS); GFX9's CUs have 4 SIMD16s and 64 KiB.
  const bool rdna = core.simdPerComputeUnit == 2;
  unit.simds = rdna ? 4 : core.simdPerComputeUnit;
  unit.shared_bytes = rdna ? 128u * 1024u : 64u * 1024u;
  unit.wave_slots_per_simd = core.wavefrontsPerSimd;
  unit.wave64_vgprs_per_simd = core.vgprsPerSimd;
  unit.wave64_vgpr_granule = core.vgprAllocationGranularity;
  return unit;
}

}  // namespace vkattn
