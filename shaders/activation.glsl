// The activations, by their VKATTN_ACTIVATION_* code (kernels/encodings.h), computed in
// f32: a GEMM epilogue's ACTIVATION and elementwise.comp's OP. Needs common.glsl.
//   RELU:      max(v, 0)
//   GELU:      0.5 v (1 + erf(v / sqrt 2))                  (erf_approx, |error| < 1.5e-7)
//   SILU:      v * sigmoid(v) = v / (1 + exp(-v))
//   GELU_TANH: 0.5 v (1 + tanh(sqrt(2/pi) (v + 0.044715 v^3)))
//   TANH:      tanh(v)
// tanh is written through exp of a non-positive argument, so large |v| cannot overflow.
#include "vkattn/kernels/encodings.h"

float tanh_stable(float v) {
  float e = exp(-2.0 * abs(v));
  float t = (1.0 - e) / (1.0 + e);
  return v < 0.0 ? -t : t;
}

float activate(uint code, float v) {
  if (code == VKATTN_ACTIVATION_RELU) return max(v, 0.0);
  if (code == VKATTN_ACTIVATION_GELU) return gelu(v);
  if (code == VKATTN_ACTIVATION_SILU) return v / (1.0 + exp(-v));
  if (code == VKATTN_ACTIVATION_GELU_TANH) return 0.5 * v * (1.0 + tanh_stable(0.7978845608028654 * (v + 0.044715 * v * v * v)));
  if (code == VKATTN_ACTIVATION_TANH) return tanh_stable(v);
  return v;
}
