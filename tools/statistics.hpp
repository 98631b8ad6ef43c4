#pragma once
// Summaries of repeated timings, as the timing commands (bench, decode) report them.
#include <algorithm>
#include <vector>

namespace vkattn::cli {

// The middle value (the upper of the two middle ones for an even count); 0 when empty.
inline double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values.empty() ? 0.0 : values[values.size() / 2];
}

}  // namespace vkattn::cli
