#pragma once
// Buffers and their memory: device-local and host-visible where the device has such
// memory (lavapipe, integrated GPUs, resizable BAR), otherwise device-local with a
// staging buffer for every transfer.
#include <cstdint>
#include <string>

#include "context_state.hpp"

namespace vkattn {

class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  // `what` names the buffer in errors ("the arena", "the weights").
  DeviceBuffer(Context::State& context, std::uint64_t bytes, const std::string& what);
  ~DeviceBuffer();
  DeviceBuffer(DeviceBuffer&& other) noexcept;
  DeviceBuffer& operator=(DeviceBuffer&& other) noexcept;

  VkBuffer buffer() const { return buffer_; }
  std::uint64_t size() const { return size_; }
  bool host_visible() const { return mapped_ != nullptr; }

  void write(std::uint64_t offset, const void* data, std::uint64_t bytes);
  void read(std::uint64_t offset, void* data, std::uint64_t bytes);
  void fill(std::uint32_t word);
  // Fills bytes [offset, offset + bytes) with `word` (both multiples of 4).
  void fill(std::uint64_t offset, std::uint64_t bytes, std::uint32_t word);
  // Copies bytes [from, from + bytes) to [to, to + bytes); the ranges do not overlap.
  void copy_within(std::uint64_t from, std::uint64_t to, std::uint64_t bytes);

 private:
  void release();
  // Runs `record` in a one-off command buffer and waits for it.
  template <typename Record>
  void one_off(Record record);

  Context::State* context_ = nullptr;
  VkBuffer buffer_ = VK_NULL_HANDLE;
  VkDeviceMemory memory_ = VK_NULL_HANDLE;
  std::uint64_t size_ = 0;
  void* mapped_ = nullptr;
  bool coherent_ = false;
};

}  // namespace vkattn
