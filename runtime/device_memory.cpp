#include "device_memory.hpp"

#include <cstring>
#include <utility>

namespace vkattn {
namespace {

using namespace vk;

// Kernels read tensors as storage buffers or uniform texel buffers.
constexpr VkBufferUsageFlags storage_usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT |
                                             VK_BUFFER_USAGE_UNIFORM_TEXEL_BUFFER_BIT |
                                             VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT;

std::uint32_t find_memory_type(const VkPhysicalDeviceMemoryProperties& memory, std::uint32_t allowed,
                               VkMemoryPropertyFlags wanted) {
  for (std::uint32_t i = 0; i < memory.memoryTypeCount; ++i)
    if ((allowed & (1u << i)) && (memory.memoryTypes[i].propertyFlags & wanted) == wanted) return i;
  return UINT32_MAX;
}

std::string size_text(std::uint64_t bytes) {
  return std::to_string(bytes) + " bytes (" + std::to_string(double(bytes) / (1024.0 * 1024.0)).substr(0, 8) + " MiB)";
}

// A raw buffer and memory of the given properties; used for the staging buffers too.
void allocate(Context::State& c, std::uint64_t bytes, VkMemoryPropertyFlags preferred, VkMemoryPropertyFlags fallback,
              const std::string& what, VkBuffer& buffer, VkDeviceMemory& memory, VkMemoryPropertyFlags& chosen) {
  auto info = make_info<VkBufferCreateInfo>(VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO);
  info.size = bytes;
  info.usage = storage_usage;
  info.sharingMode = VK_SHARING_MODE_EXCLUSIVE;
  check(vkCreateBuffer(c.device, &info, nullptr, &buffer), "vkCreateBuffer");
  VkMemoryRequirements requirements;
  vkGetBufferMemoryRequirements(c.device, buffer, &requirements);
  std::uint32_t type = find_memory_type(c.memory, requirements.memoryTypeBits, preferred);
  if (type == UINT32_MAX) type = find_memory_type(c.memory, requirements.memoryTypeBits, fallback);
  if (type == UINT32_MAX) {
    vkDestroyBuffer(c.device, buffer, nullptr);
    throw VulkanError("no memory type of " + c.info.name + " can hold " + what);
  }
  chosen = c.memory.memoryTypes[type].propertyFlags;
  auto allocation = make_info<VkMemoryAllocateInfo>(VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO);
  allocation.allocationSize = requirements.size;
  allocation.memoryTypeIndex = type;
  VkResult result = vkAllocateMemory(c.device, &allocation, nullptr, &memory);
  if (result != VK_SUCCESS) {
    vkDestroyBuffer(c.device, buffer, nullptr);
    if (result == VK_ERROR_OUT_OF_DEVICE_MEMORY || result == VK_ERROR_OUT_OF_HOST_MEMORY)
      throw VulkanError("out of memory allocating " + size_text(requirements.size) + " for " + what + " on " +
                        c.info.name + " (vkAllocateMemory: " + result_name(result) + ")", result);
    check(result, "vkAllocateMemory");
  }
  check(vkBindBufferMemory(c.device, buffer, memory, 0), "vkBindBufferMemory");
}

}  // namespace

DeviceBuffer::DeviceBuffer(Context::State& context, std::uint64_t bytes, const std::string& what)
    : context_(&context), size_(bytes < 4 ? 4 : bytes) {
  VkMemoryPropertyFlags chosen = 0;
  allocate(context, size_,
           VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT | VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT,
           VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT, what, buffer_, memory_, chosen);
  if (chosen & VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT) {
    check(vkMapMemory(context.device, memory_, 0, VK_WHOLE_SIZE, 0, &mapped_), "vkMapMemory");
    coherent_ = (chosen & VK_MEMORY_PROPERTY_HOST_COHERENT_BIT) != 0;
  }
}

DeviceBuffer::~DeviceBuffer() { release(); }

DeviceBuffer::DeviceBuffer(DeviceBuffer&& other) noexcept { *this = std::move(other); }

DeviceBuffer& DeviceBuffer::operator=(DeviceBuffer&& other) noexcept {
  if (this != &other) {
    release();
    context_ = std::exchange(other.context_, nullptr);
    buffer_ = std::exchange(other.buffer_, VK_NULL_HANDLE);
    memory_ = std::exchange(other.memory_, VK_NULL_HANDLE);
    size_ = std::exchange(other.size_, 0);
    mapped_ = std::exchange(other.mapped_, nullptr);
    coherent_ = other.coherent_;
  }
  return *this;
}

void DeviceBuffer::release() {
  if (!context_) return;
  if (!context_->device) {  // the context was closed first: the device and its objects are gone
    context_ = nullptr;
    return;
  }
  if (mapped_) vkUnmapMemory(context_->device, memory_);
  if (buffer_) vkDestroyBuffer(context_->device, buffer_, nullptr);
  if (memory_) vkFreeMemory(context_->device, memory_, nullptr);
  context_ = nullptr;
}

template <typename Record>
void DeviceBuffer::one_off(Record record) {
  Context::State& c = *context_;
  auto pool_info = make_info<VkCommandPoolCreateInfo>(VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO);
  pool_info.flags = VK_COMMAND_POOL_CREATE_TRANSIENT_BIT;
  pool_info.queueFamilyIndex = c.queue_family;
  VkCommandPool pool;
  check(vkCreateCommandPool(c.device, &pool_info, nullptr, &pool), "vkCreateCommandPool");
  auto allocate_info = make_info<VkCommandBufferAllocateInfo>(VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO);
  allocate_info.commandPool = pool;
  allocate_info.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY;
  allocate_info.commandBufferCount = 1;
  VkCommandBuffer commands;
  VkFence fence = VK_NULL_HANDLE;
  try {
    check(vkAllocateCommandBuffers(c.device, &allocate_info, &commands), "vkAllocateCommandBuffers");
    auto begin = make_info<VkCommandBufferBeginInfo>(VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO);
    begin.flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT;
    check(vkBeginCommandBuffer(commands, &begin), "vkBeginCommandBuffer");
    record(commands);
    check(vkEndCommandBuffer(commands), "vkEndCommandBuffer");
    auto fence_info = make_info<VkFenceCreateInfo>(VK_STRUCTURE_TYPE_FENCE_CREATE_INFO);
    check(vkCreateFence(c.device, &fence_info, nullptr, &fence), "vkCreateFence");
    auto submit = make_info<VkSubmitInfo>(VK_STRUCTURE_TYPE_SUBMIT_INFO);
    submit.commandBufferCount = 1;
    submit.pCommandBuffers = &commands;
    check(c.submit(1, &submit, fence), "vkQueueSubmit");
    check(vkWaitForFences(c.device, 1, &fence, VK_TRUE, UINT64_MAX), "vkWaitForFences");
  } catch (...) {
    if (fence) vkDestroyFence(c.device, fence, nullptr);
    vkDestroyCommandPool(c.device, pool, nullptr);
    throw;
  }
  vkDestroyFence(c.device, fence, nullptr);
  vkDestroyCommandPool(c.device, pool, nullptr);
}

namespace {
// A host-visible staging buffer for one transfer.
struct Staging {
  Context::State& c;
  VkBuffer buffer = VK_NULL_HANDLE;
  VkDeviceMemory memory = VK_NULL_HANDLE;
  void* mapped = nullptr;
  Staging(Context::State& context, std::uint64_t bytes) : c(context) {
    VkMemoryPropertyFlags chosen = 0;
    allocate(c, bytes, VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT,
             VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT, "a staging buffer", buffer,
             memory, chosen);
    check(vkMapMemory(c.device, memory, 0, VK_WHOLE_SIZE, 0, &mapped), "vkMapMemory");
  }
  ~Staging() {
    vkUnmapMemory(c.device, memory);
    vkDestroyBuffer(c.device, buffer, nullptr);
    vkFreeMemory(c.device, memory, nullptr);
  }
};
}  // namespace

void DeviceBuffer::write(std::uint64_t offset, const void* data, std::uint64_t bytes) {
  if (bytes == 0) return;
  if (mapped_) {
    std::memcpy(static_cast<char*>(mapped_) + offset, data, bytes);
    if (!coherent_) {
      VkMappedMemoryRange range{VK_STRUCTURE_TYPE_MAPPED_MEMORY_RANGE, nullptr, memory_, 0, VK_WHOLE_SIZE};
      check(vkFlushMappedMemoryRanges(context_->device, 1, &range), "vkFlushMappedMemoryRanges");
    }
    return;
  }
  Staging staging(*context_, bytes);
  std::memcpy(staging.mapped, data, bytes);
  one_off([&](VkCommandBuffer commands) {
    VkBufferCopy copy{0, offset, bytes};
    vkCmdCopyBuffer(commands, staging.buffer, buffer_, 1, &copy);
  });
}

void DeviceBuffer::read(std::uint64_t offset, void* data, std::uint64_t bytes) {
  if (bytes == 0) return;
  if (mapped_) {
    if (!coherent_) {
      VkMappedMemoryRange range{VK_STRUCTURE_TYPE_MAPPED_MEMORY_RANGE, nullptr, memory_, 0, VK_WHOLE_SIZE};
      check(vkInvalidateMappedMemoryRanges(context_->device, 1, &range), "vkInvalidateMappedMemoryRanges");
    }
    std::memcpy(data, static_cast<const char*>(mapped_) + offset, bytes);
    return;
  }
  Staging staging(*context_, bytes);
  one_off([&](VkCommandBuffer commands) {
    VkBufferCopy copy{offset, 0, bytes};
    vkCmdCopyBuffer(commands, buffer_, staging.buffer, 1, &copy);
    VkMemoryBarrier barrier{VK_STRUCTURE_TYPE_MEMORY_BARRIER, nullptr, VK_ACCESS_TRANSFER_WRITE_BIT, VK_ACCESS_HOST_READ_BIT};
    vkCmdPipelineBarrier(commands, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_HOST_BIT, 0, 1, &barrier, 0, nullptr,
                         0, nullptr);
  });
  std::memcpy(data, staging.mapped, bytes);
}

void DeviceBuffer::fill(std::uint32_t word) { fill(0, size_ / 4 * 4, word); }

void DeviceBuffer::fill(std::uint64_t offset, std::uint64_t bytes, std::uint32_t word) {
  if (bytes == 0) return;
  if (offset % 4 != 0 || bytes % 4 != 0 || offset + bytes > size_)
    throw VulkanError("internal: a fill of " + std::to_string(bytes) + " bytes at " + std::to_string(offset) +
                      " does not fit a buffer of " + std::to_string(size_) + " bytes in whole words");
  if (mapped_) {
    auto* words = static_cast<std::uint32_t*>(mapped_);
    for (std::uint64_t i = offset / 4; i < (offset + bytes) / 4; ++i) words[i] = word;
    if (!coherent_) {
      VkMappedMemoryRange range{VK_STRUCTURE_TYPE_MAPPED_MEMORY_RANGE, nullptr, memory_, 0, VK_WHOLE_SIZE};
      check(vkFlushMappedMemoryRanges(context_->device, 1, &range), "vkFlushMappedMemoryRanges");
    }
    return;
  }
  one_off([&](VkCommandBuffer commands) { vkCmdFillBuffer(commands, buffer_, offset, bytes, word); });
}

void DeviceBuffer::copy_within(std::uint64_t from, std::uint64_t to, std::uint64_t bytes) {
  if (bytes == 0) return;
  if (from + bytes > size_ || to + bytes > size_ || (from < to + bytes && to < from + bytes))
    throw VulkanError("internal: a copy of " + std::to_string(bytes) + " bytes from " + std::to_string(from) + " to " +
                      std::to_string(to) + " overlaps itself or leaves a buffer of " + std::to_string(size_) + " bytes");
  if (mapped_) {
    if (!coherent_) {
      VkMappedMemoryRange range{VK_STRUCTURE_TYPE_MAPPED_MEMORY_RANGE, nullptr, memory_, 0, VK_WHOLE_SIZE};
      check(vkInvalidateMappedMemoryRanges(context_->device, 1, &range), "vkInvalidateMappedMemoryRanges");
    }
    std::memcpy(static_cast<char*>(mapped_) + to, static_cast<const char*>(mapped_) + from, bytes);
    if (!coherent_) {
      VkMappedMemoryRange range{VK_STRUCTURE_TYPE_MAPPED_MEMORY_RANGE, nullptr, memory_, 0, VK_WHOLE_SIZE};
      check(vkFlushMappedMemoryRanges(context_->device, 1, &range), "vkFlushMappedMemoryRanges");
    }
    return;
  }
  one_off([&](VkCommandBuffer commands) {
    VkBufferCopy copy{from, to, bytes};
    vkCmdCopyBuffer(commands, buffer_, buffer_, 1, &copy);
    // The copy is visible to the dispatches and transfers of later submissions.
    VkMemoryBarrier barrier{VK_STRUCTURE_TYPE_MEMORY_BARRIER, nullptr, VK_ACCESS_TRANSFER_WRITE_BIT,
                            VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_READ_BIT |
                                VK_ACCESS_TRANSFER_WRITE_BIT};
    vkCmdPipelineBarrier(commands, VK_PIPELINE_STAGE_TRANSFER_BIT,
                         VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT, 0, 1, &barrier, 0,
                         nullptr, 0, nullptr);
  });
}

}  // namespace vkattn
