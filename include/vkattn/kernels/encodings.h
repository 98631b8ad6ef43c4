// The encodings the DSL, the compiler and the shaders share, written once and read by
// both languages: attention mask kinds, and the activations a layer can be built with.
// C++ gets the enums vkattn::Mask and vkattn::Activation and the maps from the graph
// ops; GLSL gets `const uint VKATTN_MASK_<NAME>`. Adding an entry here adds it
// everywhere; an entry whose op does not exist fails the C++ build.
#ifndef VKATTN_KERNEL_ENCODINGS_H
#define VKATTN_KERNEL_ENCODINGS_H

// Mask kinds, one bit each: the DSL's Mask flags and the KIND constant of mask.comp
// (the unfused path). Fused, each mask op is part of a score program
// (compiler/score_program.hpp), which writes it from index values.
// X(name, NAME, bit, op that applies it)
#define VKATTN_MASK_KINDS(X)                        \
  X(causal, CAUSAL, 1u, causal_mask)                \
  X(sliding_window, WINDOW, 2u, sliding_window_mask) \
  X(padding, PADDING, 4u, padding_mask)             \
  X(boolean, BOOLEAN, 8u, boolean_mask)             \
  X(additive, ADDITIVE, 16u, additive_mask)        \
  X(alibi, ALIBI, 32u, alibi)                      \
  X(cache_causal, CACHE, 64u, cache_causal_mask)

// The activation group's ops, as the DSL's Activation names them (a feed-forward's
// choice); each names a graph op and a DSL function. Their code and reference are
// elementwise_forms.hpp's, like every elementwise op's.
#define VKATTN_ACTIVATIONS(X) X(relu) X(gelu) X(silu) X(gelu_tanh) X(tanh)

#ifdef __cplusplus
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "vkattn/ir.hpp"

namespace vkattn {

// Mask kinds, combinable: Mask::causal | Mask::padding.
enum class Mask : std::uint8_t {
  none = 0,
#define VKATTN_MASK_ENUMERATOR(name, NAME, bit, op) name = bit,
  VKATTN_MASK_KINDS(VKATTN_MASK_ENUMERATOR)
#undef VKATTN_MASK_ENUMERATOR
};
constexpr Mask operator|(Mask a, Mask b) { return Mask(std::uint8_t(a) | std::uint8_t(b)); }
constexpr bool has(Mask set, Mask kind) { return (std::uint8_t(set) & std::uint8_t(kind)) != 0; }

// The mask kind an op of the mask group applies; Mask::none for any other op.
constexpr Mask mask_of(Op op) {
#define VKATTN_MASK_OF(name, NAME, bit, mask_op) \
  if (op == Op::mask_op) return Mask::name;
  VKATTN_MASK_KINDS(VKATTN_MASK_OF)
#undef VKATTN_MASK_OF
  return Mask::none;
}

enum class Activation : std::uint8_t {
  none = 0,
#define VKATTN_ACTIVATION_ENUMERATOR(name) name,
  VKATTN_ACTIVATIONS(VKATTN_ACTIVATION_ENUMERATOR)
#undef VKATTN_ACTIVATION_ENUMERATOR
};

// The activation an op of the activation group computes; Activation::none otherwise.
constexpr Activation activation_of(Op op) {
#define VKATTN_ACTIVATION_OF(name) \
  if (op == Op::name) return Activation::name;
  VKATTN_ACTIVATIONS(VKATTN_ACTIVATION_OF)
#undef VKATTN_ACTIVATION_OF
  return Activation::none;
}

constexpr std::string_view activation_name(Activation a) {
  if (a == Activation::none) return "none";
#define VKATTN_ACTIVATION_NAME(name) \
  if (a == Activation::name) return #name;
  VKATTN_ACTIVATIONS(VKATTN_ACTIVATION_NAME)
#undef VKATTN_ACTIVATION_NAME
  return "?";
}

// Every activation, none first.
inline constexpr Activation all_activations[] = {
    Activation::none,
#define VKATTN_ACTIVATION_VALUE(name) Activation::name,
    VKATTN_ACTIVATIONS(VKATTN_ACTIVATION_VALUE)
#undef VKATTN_ACTIVATION_VALUE
};

constexpr std::optional<Activation> activation_from_name(std::string_view text) {
  for (Activation a : all_activations)
    if (activation_name(a) == text) return a;
  return std::nullopt;
}

// "relu, gelu, silu or gelu_tanh": the activations a feed-forward can use, for messages.
inline std::string activation_choices() {
  constexpr std::size_t count = sizeof all_activations / sizeof all_activations[0];
  std::string text;
  for (std::size_t i = 1; i < count; ++i)
    text.append(i == 1 ? "" : i + 1 == count ? " or " : ", ").append(activation_name(all_activations[i]));
  return text;
}

// Every op of the mask group has a kind and every op of the activation group an
// activation: the lists above and the op registry agree.
static_assert([] {
  for (int i = 0; i < op_count; ++i) {
    const Op op = Op(i);
    if (in_group(op, OpGroup::mask) != (mask_of(op) != Mask::none)) return false;
    if (in_group(op, OpGroup::activation) != (activation_of(op) != Activation::none)) return false;
  }
  return true;
}(), "VKATTN_MASK_KINDS / VKATTN_ACTIVATIONS and the op groups of VKATTN_OPS disagree");

}  // namespace vkattn
#else
#define VKATTN_GLSL_MASK(name, NAME, bit, op) const uint VKATTN_MASK_##NAME = bit;
VKATTN_MASK_KINDS(VKATTN_GLSL_MASK)
#endif

#endif
