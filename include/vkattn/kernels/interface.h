// The interface between the compiler and one kernel, written once and read by both
// languages: each kernels/<kernel>.h includes this file and declares its push constants
// and its specialization constants with the macros below. GLSL gets the push_constant
// block (std430) and `layout(constant_id = N) const uint NAME = DEFAULT;`; C++ gets a
// struct of the same layout and a struct of the constants' values, in id order.
// Specialization constant 0 is always the workgroup's local size along x
// (`layout(local_size_x_id = 0) in;` in the shader), so kernel constants start at 1.
#ifndef VKATTN_KERNEL_INTERFACE_H
#define VKATTN_KERNEL_INTERFACE_H

#ifdef __cplusplus
#include <cstdint>
#define VKATTN_PUSH_BEGIN(block) struct block {
#define VKATTN_PUSH_END(block)                                                              \
  }                                                                                         \
  ;                                                                                         \
  static_assert(sizeof(block) <= 128, #block " exceeds the 128 bytes of push constants " \
                                              "every Vulkan device guarantees");
#define VKATTN_U32(field) std::uint32_t field = 0;
#define VKATTN_F32(field) float field = 0;
#define VKATTN_U32_ARRAY(field, count) std::uint32_t field[count] = {};
// X(id, NAME, DEFAULT) -> a field NAME = DEFAULT of the constants struct.
#define VKATTN_CONSTANT_FIELD(id, name, default_value) std::uint32_t name = default_value;
#define VKATTN_CONSTANT_ID(id, name, default_value) id,
#define VKATTN_CONSTANT_NAME(id, name, default_value) #name,
// The constants of one shader as a struct: LOCAL_SIZE (id 0), then `list`'s, with
// their ids and names in the same order.
#define VKATTN_CONSTANTS(type, list)                                          \
  struct type {                                                               \
    std::uint32_t LOCAL_SIZE = 64;                                            \
    list(VKATTN_CONSTANT_FIELD)                                               \
    static constexpr std::uint32_t ids[] = {0, list(VKATTN_CONSTANT_ID)};     \
    static constexpr const char* names[] = {"LOCAL_SIZE", list(VKATTN_CONSTANT_NAME)}; \
  };
#define VKATTN_NAMESPACE_BEGIN namespace vkattn::kernels {
#define VKATTN_NAMESPACE_END }
#else
#define VKATTN_PUSH_BEGIN(block) layout(push_constant) uniform block {
#define VKATTN_PUSH_END(block) } p;
#define VKATTN_U32(field) uint field;
#define VKATTN_F32(field) float field;
#define VKATTN_U32_ARRAY(field, count) uint field[count];
#define VKATTN_CONSTANT_DECLARE(id, name, default_value) layout(constant_id = id) const uint name = default_value;
#define VKATTN_CONSTANTS(type, list)
#define VKATTN_NAMESPACE_BEGIN
#define VKATTN_NAMESPACE_END
#endif

#endif
