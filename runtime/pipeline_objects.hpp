#pragma once
// The Vulkan objects behind one compute pipeline of a kernel variant, made the same way
// for an Executable and for the driver's pipeline statistics: a descriptor-set layout
// from the registry's descriptors, a pipeline layout with the whole push-constant range,
// the embedded SPIR-V as a module, and the pipeline with its specialization constants.
#include <cstdint>
#include <span>
#include <string>

#include "vkattn/kernels/registry.hpp"
#include "vkattn/tensor.hpp"
#include "vulkan_api.hpp"

namespace vkattn {

VkDescriptorType descriptor_type(Descriptor descriptor);

struct ShaderLayout {
  VkDescriptorSetLayout set = VK_NULL_HANDLE;
  VkPipelineLayout pipeline = VK_NULL_HANDLE;
};

ShaderLayout create_shader_layout(VkDevice device, Shader shader);
void destroy_shader_layout(VkDevice device, ShaderLayout& layout);

// The f32 or f16 build of the shader (kernel_binaries.hpp).
VkShaderModule create_shader_module(VkDevice device, Shader shader, DType element);
// A module of SPIR-V made at run time (a generated kernel).
VkShaderModule create_shader_module(VkDevice device, std::span<const std::uint32_t> code);

struct Schedule;
struct Dispatch;
// The generated code completing a dispatch's shader (codegen/render.hpp), "" for none.
std::string generated_source(const Schedule& schedule, const Dispatch& dispatch);

// constants[i] is specialization constant i.
VkPipeline create_compute_pipeline(VkDevice device, VkPipelineCache cache, VkShaderModule module,
                                   VkPipelineLayout layout, std::span<const std::uint32_t> constants,
                                   VkPipelineCreateFlags flags = 0);

}  // namespace vkattn
