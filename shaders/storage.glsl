// The element type of the float tensors a dispatch reads and writes in storage buffers:
// f16 when the shader is compiled with VKATTN_F16=1 (16-bit storage; every kernel still
// computes and accumulates in f32), else f32. STORE_BITS copies an element unchanged.
// Each shader in shaders/ is compiled both ways; include this right after #version.
#if VKATTN_F16
#extension GL_EXT_shader_16bit_storage : require
#define STORE float16_t
#define STORE4 f16vec4
#define STORE_BITS uint16_t
#else
#define STORE float
#define STORE4 vec4
#define STORE_BITS uint
#endif
