#include "pipeline_objects.hpp"

#include <stdexcept>
#include <vector>

#include "kernel_binaries.hpp"
#include "vkattn/codegen/render.hpp"
#include "vkattn/schedule.hpp"

namespace vkattn {

using namespace vk;

VkDescriptorType descriptor_type(Descriptor descriptor) {
  return descriptor == Descriptor::texel ? VK_DESCRIPTOR_TYPE_UNIFORM_TEXEL_BUFFER : VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
}

ShaderLayout create_shader_layout(VkDevice device, Shader shader) {
  const auto& descriptors = shader_info(shader).descriptors;
  VkDescriptorSetLayoutBinding bindings[max_bindings];
  for (std::uint32_t i = 0; i < max_bindings; ++i)
    bindings[i] = {i, descriptor_type(descriptors[i]), 1, VK_SHADER_STAGE_COMPUTE_BIT, nullptr};
  auto set_info = make_info<VkDescriptorSetLayoutCreateInfo>(VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO);
  set_info.bindingCount = max_bindings;
  set_info.pBindings = bindings;
  ShaderLayout layout;
  check(vkCreateDescriptorSetLayout(device, &set_info, nullptr, &layout.set), "vkCreateDescriptorSetLayout");
  VkPushConstantRange range{VK_SHADER_STAGE_COMPUTE_BIT, 0, max_push_bytes};
  auto layout_info = make_info<VkPipelineLayoutCreateInfo>(VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO);
  layout_info.setLayoutCount = 1;
  layout_info.pSetLayouts = &layout.set;
  layout_info.pushConstantRangeCount = 1;
  layout_info.pPushConstantRanges = &range;
  VkResult result = vkCreatePipelineLayout(device, &layout_info, nullptr, &layout.pipeline);
  if (result != VK_SUCCESS) {
    vkDestroyDescriptorSetLayout(device, layout.set, nullptr);
    layout.set = VK_NULL_HANDLE;
    check(result, "vkCreatePipelineLayout");
  }
  return layout;
}

void destroy_shader_layout(VkDevice device, ShaderLayout& layout) {
  if (layout.pipeline) vkDestroyPipelineLayout(device, layout.pipeline, nullptr);
  if (layout.set) vkDestroyDescriptorSetLayout(device, layout.set, nullptr);
  layout = {};
}

VkShaderModule create_shader_module(VkDevice device, Shader shader, DType element) {
  return create_shader_module(device, shader_spirv(shader, element == DType::f16));
}

std::string generated_source(const Schedule& schedule, const Dispatch& d) {
  if (d.program < 0) {
    if (shader_info(d.shader).generated)
      throw std::runtime_error("vkattn: dispatch '" + std::string(d.label.view()) + "' runs " +
                               std::string(shader_info(d.shader).name) + " without the code that completes it");
    return {};
  }
  const Expression& program = schedule.programs.at(std::size_t(d.program));
  return render_generated(d.kernel, program);
}

VkShaderModule create_shader_module(VkDevice device, std::span<const std::uint32_t> code) {
  auto info = make_info<VkShaderModuleCreateInfo>(VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO);
  info.codeSize = code.size_bytes();
  info.pCode = code.data();
  VkShaderModule module = VK_NULL_HANDLE;
  check(vkCreateShaderModule(device, &info, nullptr, &module), "vkCreateShaderModule");
  return module;
}

VkPipeline create_compute_pipeline(VkDevice device, VkPipelineCache cache, VkShaderModule module,
                                   VkPipelineLayout layout, std::span<const std::uint32_t> constants,
                                   VkPipelineCreateFlags flags) {
  std::vector<VkSpecializationMapEntry> entries;
  for (std::uint32_t i = 0; i < constants.size(); ++i) entries.push_back({i, 4 * i, 4});
  VkSpecializationInfo specialization{std::uint32_t(entries.size()), entries.data(), constants.size_bytes(),
                                      constants.data()};
  auto info = make_info<VkComputePipelineCreateInfo>(VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO);
  info.flags = flags;
  info.stage = make_info<VkPipelineShaderStageCreateInfo>(VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO);
  info.stage.stage = VK_SHADER_STAGE_COMPUTE_BIT;
  info.stage.module = module;
  info.stage.pName = "main";
  info.stage.pSpecializationInfo = entries.empty() ? nullptr : &specialization;
  info.layout = layout;
  VkPipeline pipeline = VK_NULL_HANDLE;
  check(vkCreateComputePipelines(device, cache, 1, &info, nullptr, &pipeline), "vkCreateComputePipelines");
  return pipeline;
}

}  // namespace vkattn
