#include "kernel_binaries.hpp"

#include "add.spv.h"
#include "elementwise.spv.h"
#include "flash_attention.spv.h"
#include "gather.spv.h"
#include "gemm.spv.h"
#include "layer_norm.spv.h"
#include "mask.spv.h"
#include "softmax.spv.h"

namespace vkattn {

std::span<const std::uint32_t> kernel_spirv(Kernel kernel) {
  switch (kernel) {
    case Kernel::gemm: return gemm_spirv;
    case Kernel::flash_attention: return flash_attention_spirv;
    case Kernel::add: return add_spirv;
    case Kernel::elementwise: return elementwise_spirv;
    case Kernel::gather: return gather_spirv;
    case Kernel::mask: return mask_spirv;
    case Kernel::softmax: return softmax_spirv;
    case Kernel::layer_norm: return layer_norm_spirv;
  }
  return {};
}

}  // namespace vkattn
