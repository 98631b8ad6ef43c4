#pragma once
// Fixed-capacity text usable inside constant evaluation: names in the IR and error
// messages are built with it so that a graph can be built, checked and frozen while
// the C++ compiles.
#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace vkattn {

template <std::size_t Capacity>
class FixedText {
 public:
  constexpr FixedText() = default;
  constexpr FixedText(std::string_view text) { append(text); }  // NOLINT: implicit by design
  constexpr FixedText(const char* text) : FixedText(std::string_view{text}) {}  // NOLINT

  static constexpr std::size_t capacity() { return Capacity - 1; }
  constexpr std::size_t size() const { return size_; }
  constexpr bool empty() const { return size_ == 0; }
  constexpr std::string_view view() const { return {chars_.data(), size_}; }
  constexpr const char* c_str() const { return chars_.data(); }
  // True when an append did not fit and the text was cut.
  constexpr bool truncated() const { return truncated_; }

  constexpr FixedText& append(std::string_view text) {
    for (char c : text) {
      if (size_ + 1 >= Capacity) {
        truncated_ = true;
        break;
      }
      chars_[size_++] = c;
    }
    return *this;
  }
  constexpr FixedText& append(std::int64_t number) {
    char digits[24]{};
    int count = 0;
    bool negative = number < 0;
    std::uint64_t magnitude = negative ? std::uint64_t(0) - std::uint64_t(number) : std::uint64_t(number);
    do {
      digits[count++] = char('0' + magnitude % 10);
      magnitude /= 10;
    } while (magnitude != 0);
    if (negative) append("-");
    while (count > 0) {
      const char one[1] = {digits[--count]};
      append(std::string_view{one, 1});
    }
    return *this;
  }

  constexpr bool operator==(const FixedText& other) const { return view() == other.view(); }

 private:
  std::array<char, Capacity> chars_{};
  std::size_t size_ = 0;
  bool truncated_ = false;
};

// Names of graph values (inputs, weights, outputs, ops): long enough for dotted
// PyTorch state-dict names such as "layers.11.self_attn.out_proj.weight".
using Name = FixedText<96>;

// Error messages.
class Message : public FixedText<1024> {
 public:
  using FixedText<1024>::FixedText;
  constexpr Message& operator<<(std::string_view text) { append(text); return *this; }
  constexpr Message& operator<<(const char* text) { append(std::string_view{text}); return *this; }
  constexpr Message& operator<<(std::int64_t number) { append(number); return *this; }
  constexpr Message& operator<<(int number) { append(std::int64_t{number}); return *this; }
  constexpr Message& operator<<(std::uint32_t number) { append(std::int64_t{number}); return *this; }
};

}  // namespace vkattn
