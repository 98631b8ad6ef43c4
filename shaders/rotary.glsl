// Rotary position embedding (rotary_embedding, include/vkattn/ir.hpp), in f32, of element
// d of a row at sequence position `position`:
//   pairs: ROTARY_INTERLEAVED: (2k, 2k + 1); else half-split (k, k + ROTARY_DIMS / 2)
//   angle_k = position * theta^(-2k / ROTARY_DIMS), theta = the f32 whose bits are ROTARY_THETA
//   first' = first cos - second sin,  second' = second cos + first sin
//   elements d >= ROTARY_DIMS pass unchanged.
// The includer defines ROTARY_DIMS and ROTARY_THETA (specialization constants) and
// ROTARY_INTERLEAVED (a bool expression).

// The element d is paired with (itself past ROTARY_DIMS).
uint rotary_partner(uint d) {
  if (d >= ROTARY_DIMS) return d;
  if (ROTARY_INTERLEAVED) return d ^ 1u;
  return d < ROTARY_DIMS / 2u ? d + ROTARY_DIMS / 2u : d - ROTARY_DIMS / 2u;
}

// The angle element d turns by per position, theta^(-2k / ROTARY_DIMS) for its pair k;
// 0 past ROTARY_DIMS.
float rotary_frequency(uint d) {
  if (d >= ROTARY_DIMS) return 0.0;
  const uint pair = ROTARY_INTERLEAVED ? d >> 1 : (d < ROTARY_DIMS / 2u ? d : d - ROTARY_DIMS / 2u);
  return exp2(-2.0 * float(pair) / float(ROTARY_DIMS) * log2(uintBitsToFloat(ROTARY_THETA)));
}

// The sign of the partner's term: -1 for the first element of a pair, +1 for the
// second, 0 past ROTARY_DIMS. Element d turns to x cos + sign * partner * sin.
float rotary_sign(uint d) {
  if (d >= ROTARY_DIMS) return 0.0;
  const bool first = ROTARY_INTERLEAVED ? (d & 1u) == 0u : d < ROTARY_DIMS / 2u;
  return first ? -1.0 : 1.0;
}

// Element d after the rotation, given its value x and its partner's value.
float rotary_rotate(float x, float partner, uint d, float position) {
  const float angle = position * rotary_frequency(d);
  return x * cos(angle) + rotary_sign(d) * partner * sin(angle);
}

// Elements d .. d + 3, given theirs and their partners' values.
vec4 rotary_rotate4(vec4 x, vec4 partner, uint d, float position) {
  return vec4(rotary_rotate(x.x, partner.x, d, position), rotary_rotate(x.y, partner.y, d + 1u, position),
              rotary_rotate(x.z, partner.z, d + 2u, position), rotary_rotate(x.w, partner.w, d + 3u, position));
}
