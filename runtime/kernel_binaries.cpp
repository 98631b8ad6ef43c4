#include "kernel_binaries.hpp"

#include "add.spv.h"
#include "attention_combine.spv.h"
#include "elementwise.spv.h"
#include "flash_attention_texel.spv.h"
#include "flash_attention_tiled.spv.h"
#include "gather.spv.h"
#include "gemm_texel.spv.h"
#include "gemm_tiled.spv.h"
#include "layer_norm.spv.h"
#include "mask.spv.h"
#include "softmax.spv.h"

namespace vkattn {

std::span<const std::uint32_t> shader_spirv(Shader shader) {
  switch (shader) {
    case Shader::gemm_texel: return gemm_texel_spirv;
    case Shader::gemm_tiled: return gemm_tiled_spirv;
    case Shader::flash_attention_texel: return flash_attention_texel_spirv;
    case Shader::flash_attention_tiled: return flash_attention_tiled_spirv;
    case Shader::attention_combine: return attention_combine_spirv;
    case Shader::add: return add_spirv;
    case Shader::elementwise: return elementwise_spirv;
    case Shader::gather: return gather_spirv;
    case Shader::mask: return mask_spirv;
    case Shader::softmax: return softmax_spirv;
    case Shader::layer_norm: return layer_norm_spirv;
  }
  return {};
}

}  // namespace vkattn
