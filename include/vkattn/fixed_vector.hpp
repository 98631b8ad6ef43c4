#pragma once
// A vector with fixed capacity and no allocation: a literal type, so schedules that
// hold these can be constexpr variables (vkattn::compile<fn>()).
#include <array>
#include <cstddef>
#include <initializer_list>
#include <stdexcept>

namespace vkattn {

template <typename T, std::size_t Capacity>
class FixedVector {
 public:
  constexpr FixedVector() = default;
  constexpr FixedVector(std::initializer_list<T> list) {
    for (const T& item : list) push_back(item);
  }

  static constexpr std::size_t capacity() { return Capacity; }
  constexpr std::size_t size() const { return size_; }
  constexpr bool empty() const { return size_ == 0; }
  constexpr void clear() { size_ = 0; }
  constexpr void push_back(const T& item) {
    if (size_ == Capacity) throw std::length_error("vkattn: a fixed-capacity list is full");
    items_[size_++] = item;
  }
  constexpr bool contains(const T& item) const {
    for (std::size_t i = 0; i < size_; ++i)
      if (items_[i] == item) return true;
    return false;
  }
  constexpr const T& operator[](std::size_t i) const { return items_[i]; }
  constexpr T& operator[](std::size_t i) { return items_[i]; }
  constexpr const T* begin() const { return items_.data(); }
  constexpr const T* end() const { return items_.data() + size_; }
  constexpr T* begin() { return items_.data(); }
  constexpr T* end() { return items_.data() + size_; }
  constexpr const T* data() const { return items_.data(); }

  constexpr bool operator==(const FixedVector& other) const {
    if (size_ != other.size_) return false;
    for (std::size_t i = 0; i < size_; ++i)
      if (!(items_[i] == other.items_[i])) return false;
    return true;
  }

 private:
  std::array<T, Capacity> items_{};
  std::size_t size_ = 0;
};

}  // namespace vkattn
