#include "kernel_binaries.hpp"

#include "attention_combine_f16.spv.h"
#include "attention_combine_f32.spv.h"
#include "flash_attention_texel_f16.spv.h"
#include "flash_attention_texel_f32.spv.h"
#include "flash_attention_tiled_f16.spv.h"
#include "flash_attention_tiled_f32.spv.h"
#include "gather_f16.spv.h"
#include "gather_f32.spv.h"
#include "gemm_texel_f16.spv.h"
#include "gemm_texel_f32.spv.h"
#include "gemm_tiled_f16.spv.h"
#include "gemm_tiled_f32.spv.h"
#include "layer_norm_f16.spv.h"
#include "layer_norm_f32.spv.h"
#include "mask_f16.spv.h"
#include "mask_f32.spv.h"
#include "rotary_f16.spv.h"
#include "rotary_f32.spv.h"
#include "cache_write_f16.spv.h"
#include "cache_write_f32.spv.h"
#include "pointwise_f16.spv.h"
#include "pointwise_f32.spv.h"
#include "softmax_f16.spv.h"
#include "softmax_f32.spv.h"

namespace vkattn {

std::span<const std::uint32_t> shader_spirv(Shader shader, bool f16) {
  switch (shader) {
    case Shader::gemm_texel: return f16 ? std::span<const std::uint32_t>(gemm_texel_f16_spirv) : std::span<const std::uint32_t>(gemm_texel_f32_spirv);
    case Shader::gemm_tiled: return f16 ? std::span<const std::uint32_t>(gemm_tiled_f16_spirv) : std::span<const std::uint32_t>(gemm_tiled_f32_spirv);
    case Shader::flash_attention_texel: return f16 ? std::span<const std::uint32_t>(flash_attention_texel_f16_spirv) : std::span<const std::uint32_t>(flash_attention_texel_f32_spirv);
    case Shader::flash_attention_tiled: return f16 ? std::span<const std::uint32_t>(flash_attention_tiled_f16_spirv) : std::span<const std::uint32_t>(flash_attention_tiled_f32_spirv);
    case Shader::attention_combine: return f16 ? std::span<const std::uint32_t>(attention_combine_f16_spirv) : std::span<const std::uint32_t>(attention_combine_f32_spirv);
    case Shader::gather: return f16 ? std::span<const std::uint32_t>(gather_f16_spirv) : std::span<const std::uint32_t>(gather_f32_spirv);
    case Shader::mask: return f16 ? std::span<const std::uint32_t>(mask_f16_spirv) : std::span<const std::uint32_t>(mask_f32_spirv);
    case Shader::softmax: return f16 ? std::span<const std::uint32_t>(softmax_f16_spirv) : std::span<const std::uint32_t>(softmax_f32_spirv);
    case Shader::layer_norm: return f16 ? std::span<const std::uint32_t>(layer_norm_f16_spirv) : std::span<const std::uint32_t>(layer_norm_f32_spirv);
    case Shader::rotary: return f16 ? std::span<const std::uint32_t>(rotary_f16_spirv) : std::span<const std::uint32_t>(rotary_f32_spirv);
    case Shader::pointwise:  // the template with a stand-in; executables use generated_spirv
      return f16 ? std::span<const std::uint32_t>(pointwise_f16_spirv) : std::span<const std::uint32_t>(pointwise_f32_spirv);
    case Shader::cache_write:
      return f16 ? std::span<const std::uint32_t>(cache_write_f16_spirv) : std::span<const std::uint32_t>(cache_write_f32_spirv);
  }
  return {};
}

}  // namespace vkattn
