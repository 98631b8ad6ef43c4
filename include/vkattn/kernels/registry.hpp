#pragma once
// The kernel registry: every shader in shaders/ is one entry here, with what it
// computes (its Kernel), its descriptor set, the sizes of its push constants and the
// names of its specialization constants (both taken from the interface header the GLSL
// includes, kernels/<kernel>.h), the subgroup operations it needs, and its shared memory
// as a function of its constants. Adding a shader means its interface header, its entry
// here, its line in shaders/CMakeLists.txt and in runtime/kernel_binaries.cpp; the
// build fails until each knows it.
#include <array>
#include <bit>
#include <cstdint>
#include <span>
#include <string_view>

#include "vkattn/fixed_vector.hpp"
#include "vkattn/kernels/attention.h"
#include "vkattn/kernels/attention_combine.h"
#include "vkattn/kernels/cache_write.h"
#include "vkattn/kernels/gather.h"
#include "vkattn/kernels/gemm.h"
#include "vkattn/kernels/layer_norm.h"
#include "vkattn/kernels/mask.h"
#include "vkattn/kernels/pointwise.h"
#include "vkattn/kernels/rotary.h"
#include "vkattn/kernels/softmax.h"

namespace vkattn {

// What a dispatch computes; a Shader is one way of computing it.
enum class Kernel : std::uint8_t {
  gemm, gather, mask, softmax, layer_norm, flash_attention, attention_combine, rotary, cache_write,
  pointwise
};
inline constexpr std::size_t kernel_count = std::size_t(Kernel::pointwise) + 1;

constexpr std::string_view kernel_name(Kernel kernel) {
  switch (kernel) {
    case Kernel::gemm: return "gemm";
    case Kernel::gather: return "gather";
    case Kernel::mask: return "mask";
    case Kernel::softmax: return "softmax";
    case Kernel::layer_norm: return "layer_norm";
    case Kernel::flash_attention: return "flash_attention";
    case Kernel::attention_combine: return "attention_combine";
    case Kernel::rotary: return "rotary";
    case Kernel::cache_write: return "cache_write";
    case Kernel::pointwise: return "pointwise";
  }
  return "?";
}

enum class Shader : std::uint8_t {
  gemm_texel, gemm_tiled, flash_attention_texel, flash_attention_tiled, attention_combine,
  gather, mask, softmax, layer_norm, rotary, cache_write, pointwise
};
inline constexpr std::size_t shader_count = std::size_t(Shader::pointwise) + 1;

// How a shader declares one binding: a storage buffer (read or written through an
// SSBO) or a uniform texel buffer (read with texelFetch; the fast load path on CPUs).
enum class Descriptor : std::uint8_t { storage, texel };

// Bindings 0..8 are the hand-written kernels'; the tensors of a score program or a GEMM
// epilogue take 9..15.
inline constexpr int max_bindings = 16;
inline constexpr std::size_t max_push_words = 32;
inline constexpr std::size_t max_specialization = 16;
inline constexpr std::uint32_t max_push_bytes = 128;  // what every Vulkan device guarantees

// The push-constant block and the specialization constants of each shader, as the
// GLSL declares them.
template <Shader S> struct ShaderInterface;
#define VKATTN_SHADER_INTERFACE(shader, push, constants) \
  template <> struct ShaderInterface<Shader::shader> {   \
    using Push = kernels::push;                          \
    using Constants = kernels::constants;                \
  };
VKATTN_SHADER_INTERFACE(gemm_texel, GemmPush, GemmTexelConstants)
VKATTN_SHADER_INTERFACE(gemm_tiled, GemmPush, GemmTiledConstants)
VKATTN_SHADER_INTERFACE(flash_attention_texel, AttentionPush, AttentionTexelConstants)
VKATTN_SHADER_INTERFACE(flash_attention_tiled, AttentionPush, AttentionTiledConstants)
VKATTN_SHADER_INTERFACE(attention_combine, CombinePush, CombineConstants)
VKATTN_SHADER_INTERFACE(gather, GatherPush, GatherConstants)
VKATTN_SHADER_INTERFACE(mask, MaskPush, MaskConstants)
VKATTN_SHADER_INTERFACE(softmax, SoftmaxPush, SoftmaxConstants)
VKATTN_SHADER_INTERFACE(layer_norm, LayerNormPush, LayerNormConstants)
VKATTN_SHADER_INTERFACE(rotary, RotaryPush, RotaryConstants)
VKATTN_SHADER_INTERFACE(cache_write, CacheWritePush, CacheWriteConstants)
VKATTN_SHADER_INTERFACE(pointwise, PointwisePush, PointwiseConstants)
#undef VKATTN_SHADER_INTERFACE

// Subgroup operations a shader's SPIR-V declares (the device must support them in
// compute shaders, whichever path its constants select).
struct SubgroupNeeds {
  bool arithmetic = false;
  bool shuffle = false;
};

struct ShaderInfo {
  Shader shader = Shader::gemm_texel;
  Kernel kernel = Kernel::gemm;
  std::string_view name;    // "gemm.tiled": kernel.variant
  std::string_view source;  // the file in shaders/
  // Generated: the shader is a template completed by generated code (codegen/) when an
  // executable is made; with a program, the attention kernels are too.
  std::array<Descriptor, max_bindings> descriptors{};
  std::size_t push_bytes = 0;
  std::span<const char* const> constant_names;  // by constant_id; [0] is LOCAL_SIZE
  SubgroupNeeds subgroup;
  bool generated = false;
};

namespace detail {

template <typename Constants>
constexpr bool ids_in_order() {
  for (std::size_t i = 0; i < std::size(Constants::ids); ++i)
    if (Constants::ids[i] != i) return false;
  return true;
}

template <Shader S>
constexpr ShaderInfo shader_entry(Kernel kernel, std::string_view name, std::string_view source,
                                  std::array<Descriptor, max_bindings> descriptors, SubgroupNeeds subgroup = {},
                                  bool generated = false) {
  using Interface = ShaderInterface<S>;
  using Constants = typename Interface::Constants;
  static_assert(ids_in_order<Constants>(), "specialization constant ids must count up from 1 in the order listed");
  static_assert(sizeof(Constants) == 4 * std::size(Constants::ids), "one 32-bit word per specialization constant");
  static_assert(std::size(Constants::ids) <= max_specialization);
  static_assert(sizeof(typename Interface::Push) <= max_push_bytes && sizeof(typename Interface::Push) % 4 == 0);
  return {S, kernel, name, source, descriptors, sizeof(typename Interface::Push), Constants::names, subgroup, generated};
}

}  // namespace detail

inline constexpr std::array<Descriptor, max_bindings> all_storage = [] {
  std::array<Descriptor, max_bindings> all{};
  for (Descriptor& d : all) d = Descriptor::storage;
  return all;
}();
// Texel buffers at `texel` (a bit per binding), storage buffers elsewhere.
constexpr std::array<Descriptor, max_bindings> texel_at(std::uint32_t texel) {
  std::array<Descriptor, max_bindings> all = all_storage;
  for (int b = 0; b < max_bindings; ++b)
    if (texel & (1u << b)) all[std::size_t(b)] = Descriptor::texel;
  return all;
}

// Indexed by Shader.
inline constexpr std::array<ShaderInfo, shader_count> shader_table{
    detail::shader_entry<Shader::gemm_texel>(
        Kernel::gemm, "gemm.texel", "gemm_texel.comp", texel_at(0b110)),
    detail::shader_entry<Shader::gemm_tiled>(Kernel::gemm, "gemm.tiled", "gemm_tiled.comp", all_storage),
    detail::shader_entry<Shader::flash_attention_texel>(
        Kernel::flash_attention, "flash_attention.texel", "flash_attention_texel.comp", texel_at(0b1110)),
    detail::shader_entry<Shader::flash_attention_tiled>(Kernel::flash_attention, "flash_attention.tiled",
                                                        "flash_attention_tiled.comp", all_storage,
                                                        {.shuffle = true}),
    detail::shader_entry<Shader::attention_combine>(Kernel::attention_combine, "attention_combine",
                                                    "attention_combine.comp", all_storage),
    detail::shader_entry<Shader::gather>(Kernel::gather, "gather", "gather.comp", all_storage),
    detail::shader_entry<Shader::mask>(Kernel::mask, "mask", "mask.comp", all_storage),
    detail::shader_entry<Shader::softmax>(Kernel::softmax, "softmax", "softmax.comp", all_storage,
                                          {.arithmetic = true}),
    detail::shader_entry<Shader::layer_norm>(Kernel::layer_norm, "layer_norm", "layer_norm.comp", all_storage,
                                             {.arithmetic = true}),
    detail::shader_entry<Shader::rotary>(Kernel::rotary, "rotary", "rotary.comp", all_storage),
    detail::shader_entry<Shader::cache_write>(Kernel::cache_write, "cache_write", "cache_write.comp", all_storage),
    detail::shader_entry<Shader::pointwise>(Kernel::pointwise, "pointwise", "pointwise.comp", all_storage, {}, true),
};

constexpr bool table_in_order() {
  for (std::size_t i = 0; i < shader_count; ++i)
    if (shader_table[i].shader != Shader(i) || shader_table[i].name.empty()) return false;
  return true;
}
static_assert(table_in_order(), "shader_table needs one entry per Shader, in enum order");

constexpr const ShaderInfo& shader_info(Shader shader) { return shader_table[std::size_t(shader)]; }

// A typed block (push constants or specialization constants) from a dispatch's words;
// missing words read 0.
template <typename Block>
constexpr Block block_of(std::span<const std::uint32_t> words) {
  std::array<std::uint32_t, sizeof(Block) / 4> array{};
  for (std::size_t i = 0; i < array.size() && i < words.size(); ++i) array[i] = words[i];
  return std::bit_cast<Block>(array);
}
template <Shader S>
constexpr typename ShaderInterface<S>::Constants constants_of(std::span<const std::uint32_t> words) {
  return block_of<typename ShaderInterface<S>::Constants>(words);
}
template <Shader S>
constexpr typename ShaderInterface<S>::Push push_of(std::span<const std::uint32_t> words) {
  return block_of<typename ShaderInterface<S>::Push>(words);
}

// Shared memory a dispatch of `shader` with these specialization constants declares.
constexpr std::uint32_t shared_memory_bytes(Shader shader, std::span<const std::uint32_t> words) {
  switch (shader) {
    case Shader::gemm_tiled: {  // a_tile and b_tile (twice as tall when gated)
      auto c = constants_of<Shader::gemm_tiled>(words);
      return 4u * c.TILE_K * (c.TILE_M + c.TILE_N * (c.GATED != 0u ? 2u : 1u));
    }
    case Shader::flash_attention_tiled: {  // KEYS rows of K and of V, as vec4
      auto c = constants_of<Shader::flash_attention_tiled>(words);
      return 16u * c.KEYS * ((c.HEAD_DIM + 3u) / 4u + (c.VALUE_DIM + 3u) / 4u);
    }
    case Shader::softmax:
    case Shader::layer_norm: return 4u * 128u;  // workgroup_reduce.glsl's partials
    case Shader::gemm_texel:
    case Shader::flash_attention_texel:
    case Shader::attention_combine:
    case Shader::gather:
    case Shader::mask:
    case Shader::rotary:
    case Shader::pointwise:
    case Shader::cache_write: return 0;
  }
  return 0;
}

// The words of a typed push-constant block or constants struct.
template <typename Block, std::size_t Capacity>
constexpr FixedVector<std::uint32_t, Capacity> words_of(const Block& block) {
  static_assert(sizeof(Block) % 4 == 0 && sizeof(Block) / 4 <= Capacity);
  auto words = std::bit_cast<std::array<std::uint32_t, sizeof(Block) / 4>>(block);
  FixedVector<std::uint32_t, Capacity> out;
  for (std::uint32_t w : words) out.push_back(w);
  return out;
}

}  // namespace vkattn
