// A Schedule loaded onto a device: pipelines, buffers, descriptor sets and a command
// buffer recorded once and replayed by every run; for a graph with dynamic dimensions,
// one recording per set of sizes, sharing the pipelines, the buffers and the states.
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <tuple>

#include "vkattn/schedule_check.hpp"
#include "vkattn/schedule_text.hpp"
#include "vkattn/tensor_files.hpp"
#include "vkattn/unroll_repeats.hpp"

#include "context_state.hpp"
#include "device_fit.hpp"
#include "device_memory.hpp"
#include "pipeline_cache.hpp"
#include "pipeline_objects.hpp"
#include "shader_compiler.hpp"
#include "vkattn/codegen/render.hpp"

namespace vkattn {

using namespace vk;

// One set of sizes of the dynamic dimensions (all of them, in dynamic_dims order; empty
// for a graph without any).
using SizeKey = std::vector<std::int64_t>;

// `graph` compiled at `key` (sizes in `dims` order) with its kernels chosen for `tune_for`,
// its repeated bodies written out as the device runs them.
Schedule compile_sized(const Graph& graph, CompileOptions options, const DimSizes& dims, const SizeKey& key,
                       const DimSizes& tune_for) {
  DimSizes sizes;
  for (std::size_t k = 0; k < dims.size(); ++k) sizes.push_back({dims[k].name, key[k]});
  options.tune_for = tune_for;
  return unroll_repeats(compile(with_sizes(graph, sizes), options));
}

struct Executable::State {
  // The schedule of one set of sizes: its descriptor sets, its command buffer and
  // timestamps, recorded once and replayed by every run at those sizes.
  struct Recording {
    Schedule schedule;
    VkDescriptorPool descriptor_pool = VK_NULL_HANDLE;
    std::vector<VkDescriptorSet> sets;
    VkCommandBuffer commands = VK_NULL_HANDLE;
    VkQueryPool queries = VK_NULL_HANDLE;
    std::uint64_t last_use = 0;  // for evicting the least recently used
  };

  // Shared with the Context: a context destroyed first leaves this executable inert
  // (its device handle reads null) rather than pointing at freed memory.
  std::shared_ptr<Context::State> owner;
  Context::State& context;
  // run(), poison_arena() and reset_state() from several threads take turns.
  std::mutex mutex;
  Schedule schedule;  // at the bounds: weights, states, arena
  ExecutableOptions options;
  PipelineCache cache;
  DeviceBuffer arena, weights;
  // One descriptor set layout and pipeline layout per shader (its bindings differ).
  std::map<Shader, ShaderLayout> layouts;
  // The f32 and f16 builds, and the generated kernels by their generated source ("" for
  // the embedded builds).
  std::map<std::tuple<Shader, DType, std::string>, VkShaderModule> modules;
  std::map<std::tuple<Shader, DType, std::string, std::vector<std::uint32_t>>, VkPipeline> pipelines;
  std::map<std::tuple<std::int64_t, std::int64_t, VkFormat>, VkBufferView> views;  // by offset, range, format
  VkCommandPool command_pool = VK_NULL_HANDLE;
  VkFence fence = VK_NULL_HANDLE;
  // Dynamic dimensions: the graph recompiled for each new set of sizes.
  std::optional<Graph> graph;
  CompileOptions compile_options;
  DimSizes dims;  // every dynamic dimension at its bound
  std::map<SizeKey, std::unique_ptr<Recording>> recordings;
  Recording* current = nullptr;
  std::uint64_t use_clock = 0;
  // The names run() accepts (inputs, weights and their packed parts), made once.
  std::vector<std::string> input_names;
  std::set<std::string, std::less<>> known_names;
  ExecutableStats stats;
  std::vector<DispatchTiming> timings;
  double last_run_ms = 0;

  State(std::shared_ptr<Context::State> c, Schedule s, std::int64_t arena_bytes, const ExecutableOptions& o)
      : owner(std::move(c)),
        context(*owner),
        schedule(std::move(s)),
        options(o),
        cache(context),
        arena(context, std::uint64_t(arena_bytes), "the arena (inputs, intermediates, outputs and states)"),
        weights(context, std::uint64_t(schedule.weight_bytes), "the weights") {
    for (const TensorSlot& slot : schedule.slots) {
      if (slot.role == SlotRole::input) input_names.emplace_back(slot.name.view());
      if (slot.role == SlotRole::input || slot.role == SlotRole::weight) known_names.emplace(slot.name.view());
      for (const PackedPart& part : slot.parts) known_names.emplace(part.name.view());
    }
  }

  ~State() {
    VkDevice d = context.device;
    if (!d) return;  // the context was closed first; the validation layer has reported what was left
    for (auto& [key, recording] : recordings) destroy(*recording);
    if (command_pool) vkDestroyCommandPool(d, command_pool, nullptr);
    for (auto& [key, view] : views) vkDestroyBufferView(d, view, nullptr);
    for (auto& [key, pipeline] : pipelines) vkDestroyPipeline(d, pipeline, nullptr);
    for (auto& [kernel, module] : modules) vkDestroyShaderModule(d, module, nullptr);
    for (auto& [kernel, layout] : layouts) destroy_shader_layout(d, layout);
    arena = DeviceBuffer{};
    weights = DeviceBuffer{};
    // Some drivers (lavapipe) free destroyed objects on the queue's next submission;
    // an empty one, waited for, gives the memory back now rather than never.
    if (fence && vkResetFences(d, 1, &fence) == VK_SUCCESS &&
        context.submit(0, nullptr, fence) == VK_SUCCESS)
      vkWaitForFences(d, 1, &fence, VK_TRUE, UINT64_MAX);
    if (fence) vkDestroyFence(d, fence, nullptr);
  }

  void destroy(Recording& r) {
    VkDevice d = context.device;
    if (r.queries) vkDestroyQueryPool(d, r.queries, nullptr);
    if (r.descriptor_pool) vkDestroyDescriptorPool(d, r.descriptor_pool, nullptr);
    if (r.commands) vkFreeCommandBuffers(d, command_pool, 1, &r.commands);
    r = Recording{};
  }

  // Keeps at most options.max_recordings recordings: the least recently run go (the
  // pipelines stay; a size met again is recorded again).
  void evict_beyond_limit() {
    const std::size_t limit = options.max_recordings < 1 ? 1 : std::size_t(options.max_recordings);
    while (recordings.size() > limit) {
      auto oldest = recordings.end();
      for (auto it = recordings.begin(); it != recordings.end(); ++it)
        if (it->second.get() != current && (oldest == recordings.end() || it->second->last_use < oldest->second->last_use))
          oldest = it;
      if (oldest == recordings.end()) return;
      destroy(*oldest->second);
      recordings.erase(oldest);
      ++stats.evictions;
    }
  }

  bool profiling() const { return options.profile && context.info.timestamps; }

  DeviceBuffer& buffer_of(const TensorSlot& slot) { return slot.storage == Storage::weights ? weights : arena; }

  void create_layouts(const Schedule& sized) {
    for (const Dispatch& d : sized.dispatches)
      if (!layouts.count(d.shader)) layouts[d.shader] = create_shader_layout(context.device, d.shader);
  }

  VkPipeline pipeline_for(const Schedule& sized, const Dispatch& d) {
    std::vector<std::uint32_t> constants(d.specialization.begin(), d.specialization.end());
    const std::string generated = generated_source(sized, d);
    auto key = std::make_tuple(d.shader, d.element, generated, constants);
    if (auto it = pipelines.find(key); it != pipelines.end()) return it->second;
    VkShaderModule& module = modules[{d.shader, d.element, generated}];
    if (!module)
      module = generated.empty() ? create_shader_module(context.device, d.shader, d.element)
                                 : create_shader_module(context.device, generated_spirv(d.shader, d.element, generated));
    VkPipeline pipeline =
        create_compute_pipeline(context.device, cache.handle(), module, layouts.at(d.shader).pipeline, constants);
    pipelines[key] = pipeline;
    ++stats.pipelines;
    return pipeline;
  }

  VkBufferView texel_view(const TensorSlot& slot, bool vec4) {
    const bool half = slot.element == DType::f16;  // texelFetch widens RGBA16F / R16F to f32
    const VkFormat format = half ? (vec4 ? VK_FORMAT_R16G16B16A16_SFLOAT : VK_FORMAT_R16_SFLOAT)
                                 : (vec4 ? VK_FORMAT_R32G32B32A32_SFLOAT : VK_FORMAT_R32_SFLOAT);
    const std::uint64_t texel_bytes = std::uint64_t(storage_bytes(slot.element)) * (vec4 ? 4 : 1);
    const std::uint64_t range = std::max<std::uint64_t>(texel_bytes, std::uint64_t(slot.bytes) / texel_bytes * texel_bytes);
    const auto key = std::make_tuple(slot.offset + (slot.storage == Storage::weights ? std::int64_t(1) << 62 : 0),
                                     std::int64_t(range), format);
    if (auto it = views.find(key); it != views.end()) return it->second;
    auto info = make_info<VkBufferViewCreateInfo>(VK_STRUCTURE_TYPE_BUFFER_VIEW_CREATE_INFO);
    info.buffer = buffer_of(slot).buffer();
    info.format = format;
    info.offset = VkDeviceSize(slot.offset);
    info.range = range;
    VkBufferView view;
    check(vkCreateBufferView(context.device, &info, nullptr, &view), "vkCreateBufferView");
    views[key] = view;
    return view;
  }

  void create_descriptor_sets(Recording& r) {
    const Schedule& schedule = r.schedule;
    VkDescriptorPool& descriptor_pool = r.descriptor_pool;
    std::vector<VkDescriptorSet>& sets = r.sets;
    std::uint32_t count = std::uint32_t(schedule.dispatches.size());
    if (count == 0) return;
    VkDescriptorPoolSize sizes[2] = {{VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, count * max_bindings},
                                     {VK_DESCRIPTOR_TYPE_UNIFORM_TEXEL_BUFFER, count * max_bindings}};
    auto pool_info = make_info<VkDescriptorPoolCreateInfo>(VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO);
    pool_info.maxSets = count;
    pool_info.poolSizeCount = 2;
    pool_info.pPoolSizes = sizes;
    check(vkCreateDescriptorPool(context.device, &pool_info, nullptr, &descriptor_pool), "vkCreateDescriptorPool");
    std::vector<VkDescriptorSetLayout> set_layouts;
    for (const Dispatch& d : schedule.dispatches) set_layouts.push_back(layouts.at(d.shader).set);
    auto allocate = make_info<VkDescriptorSetAllocateInfo>(VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO);
    allocate.descriptorPool = descriptor_pool;
    allocate.descriptorSetCount = count;
    allocate.pSetLayouts = set_layouts.data();
    sets.resize(count);
    check(vkAllocateDescriptorSets(context.device, &allocate, sets.data()), "vkAllocateDescriptorSets");
    std::vector<VkDescriptorBufferInfo> infos(std::size_t(count) * max_bindings);
    std::vector<VkBufferView> texel_views(std::size_t(count) * max_bindings);
    std::vector<VkWriteDescriptorSet> writes;
    for (std::uint32_t i = 0; i < count; ++i) {
      const Dispatch& d = schedule.dispatches[i];
      const auto& descriptors = shader_info(d.shader).descriptors;
      for (int b = 0; b < max_bindings; ++b) {
        // Unused bindings repeat the output so that every descriptor is valid.
        int slot_index = d.slots[std::size_t(b)] >= 0 ? d.slots[std::size_t(b)] : d.slots[0];
        const TensorSlot& slot = schedule.slots[std::size_t(slot_index)];
        std::size_t at = std::size_t(i) * max_bindings + std::size_t(b);
        auto write = make_info<VkWriteDescriptorSet>(VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET);
        write.dstSet = sets[i];
        write.dstBinding = std::uint32_t(b);
        write.descriptorCount = 1;
        write.descriptorType = descriptor_type(descriptors[std::size_t(b)]);
        if (descriptors[std::size_t(b)] == Descriptor::texel) {
          texel_views[at] = texel_view(slot, d.access[std::size_t(b)] == Access::texel_vec4);
          write.pTexelBufferView = &texel_views[at];
        } else {
          infos[at] = {buffer_of(slot).buffer(), VkDeviceSize(slot.offset), VkDeviceSize(slot.bytes)};
          write.pBufferInfo = &infos[at];
        }
        writes.push_back(write);
      }
    }
    vkUpdateDescriptorSets(context.device, std::uint32_t(writes.size()), writes.data(), 0, nullptr);
  }

  void record(Recording& r) {
    const Schedule& schedule = r.schedule;
    VkCommandBuffer& commands = r.commands;
    VkQueryPool& queries = r.queries;
    if (!command_pool) {
      auto pool_info = make_info<VkCommandPoolCreateInfo>(VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO);
      pool_info.queueFamilyIndex = context.queue_family;
      check(vkCreateCommandPool(context.device, &pool_info, nullptr, &command_pool), "vkCreateCommandPool");
      auto fence_info = make_info<VkFenceCreateInfo>(VK_STRUCTURE_TYPE_FENCE_CREATE_INFO);
      check(vkCreateFence(context.device, &fence_info, nullptr, &fence), "vkCreateFence");
    }
    auto allocate = make_info<VkCommandBufferAllocateInfo>(VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO);
    allocate.commandPool = command_pool;
    allocate.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY;
    allocate.commandBufferCount = 1;
    check(vkAllocateCommandBuffers(context.device, &allocate, &commands), "vkAllocateCommandBuffers");
    std::uint32_t query_count = std::uint32_t(schedule.dispatches.size() * 2);
    if (profiling() && query_count > 0) {
      auto query_info = make_info<VkQueryPoolCreateInfo>(VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO);
      query_info.queryType = VK_QUERY_TYPE_TIMESTAMP;
      query_info.queryCount = query_count;
      check(vkCreateQueryPool(context.device, &query_info, nullptr, &queries), "vkCreateQueryPool");
    }
    ++stats.recordings;

    auto begin = make_info<VkCommandBufferBeginInfo>(VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO);
    check(vkBeginCommandBuffer(commands, &begin), "vkBeginCommandBuffer");
    if (queries) vkCmdResetQueryPool(commands, queries, 0, query_count);
    // Host writes of the inputs are made visible by the submission itself. Barriers go
    // only where the schedule says a later dispatch depends on an earlier one, and first
    // where state tensors carry what the previous run wrote into this one.
    VkMemoryBarrier between{VK_STRUCTURE_TYPE_MEMORY_BARRIER, nullptr, VK_ACCESS_SHADER_WRITE_BIT,
                            VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT};
    if (has_state())
      vkCmdPipelineBarrier(commands, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, 0, 1,
                           &between, 0, nullptr, 0, nullptr);
    for (std::size_t i = 0; i < schedule.dispatches.size(); ++i) {
      const Dispatch& d = schedule.dispatches[i];
      if (queries) vkCmdWriteTimestamp(commands, VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT, queries, std::uint32_t(2 * i));
      vkCmdBindPipeline(commands, VK_PIPELINE_BIND_POINT_COMPUTE, pipeline_for(schedule, d));
      vkCmdBindDescriptorSets(commands, VK_PIPELINE_BIND_POINT_COMPUTE, layouts.at(d.shader).pipeline, 0, 1, &r.sets[i],
                              0, nullptr);
      if (!d.push_constants.empty())
        vkCmdPushConstants(commands, layouts.at(d.shader).pipeline, VK_SHADER_STAGE_COMPUTE_BIT, 0,
                           std::uint32_t(d.push_constants.size() * 4), d.push_constants.data());
      vkCmdDispatch(commands, d.workgroups[0], d.workgroups[1], d.workgroups[2]);
      if (queries) vkCmdWriteTimestamp(commands, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, queries, std::uint32_t(2 * i + 1));
      if (d.barrier_after && i + 1 < schedule.dispatches.size())
        vkCmdPipelineBarrier(commands, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, 0, 1,
                             &between, 0, nullptr, 0, nullptr);
    }
    VkMemoryBarrier to_host{VK_STRUCTURE_TYPE_MEMORY_BARRIER, nullptr, VK_ACCESS_SHADER_WRITE_BIT,
                            VK_ACCESS_HOST_READ_BIT | VK_ACCESS_TRANSFER_READ_BIT};
    vkCmdPipelineBarrier(commands, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT,
                         VK_PIPELINE_STAGE_HOST_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT, 0, 1, &to_host, 0, nullptr, 0,
                         nullptr);
    check(vkEndCommandBuffer(commands), "vkEndCommandBuffer");
  }

  // Uploads every slot of `role` from `tensors`, converted to the device
  // representation (f32, or i32 bits). A packed weight is its parts, one after another,
  // or one tensor of its own name.
  void upload_all(const Schedule& sized, SlotRole role, const TensorMap& tensors) {
    const char* kind = role == SlotRole::weight ? "weight" : "input";
    for (const TensorSlot& slot : sized.slots) {
      if (slot.role != role) continue;
      if (slot.parts.empty()) {
        upload(slot, 0, find_binding(tensors, kind, std::string(slot.name.view()), slot.shape, slot.dtype));
        continue;
      }
      // A tensor bound under the packed slot's own name (PyTorch's in_proj_weight) is
      // the packed weight already.
      if (auto packed = tensors.find(slot.name.view()); packed != tensors.end() && same_sizes(packed->second.shape, slot.shape)) {
        upload(slot, 0, packed->second);
        continue;
      }
      std::int64_t element = 0;
      for (const PackedPart& part : slot.parts) {
        const Tensor& t = find_binding(tensors, kind, std::string(part.name.view()), part.shape);
        upload(slot, element, t);
        element += part.shape.elements();
      }
    }
  }

  // run() takes a map of inputs that may also hold the weights (as random_bindings and
  // the reference take them); any other name is a mistake, named with the inputs.
  void check_names(const TensorMap& tensors) const {
    for (const auto& [name, tensor] : tensors) {
      if (known_names.count(name)) continue;
      for (const TensorSlot& slot : schedule.slots)
        if (slot.role == SlotRole::state && slot.name.view() == name)
          throw BindingError("run() was given a tensor named '" + name + "', a state tensor of graph '" +
                             std::string(schedule.graph_name.view()) +
                             "': a run keeps its contents from the last run; Executable::write_state sets them");
      std::string list;
      for (const std::string& input : input_names) list += (list.empty() ? "" : ", ") + input;
      throw BindingError("run() was given a tensor named '" + name + "', which is no input or weight of graph '" +
                         std::string(schedule.graph_name.view()) + "' (its inputs: " + list + ")" +
                         did_you_mean(name, input_names));
    }
  }

  enum class RangeUse { padding, cache_write, cache_mask, rotary };

  // Inputs the kernels index by must be in range, checked before anything is uploaded:
  // padding lengths count keys that exist (0 to the keys of every dispatch that reads
  // them: flash attention's lengths, the unfused padding mask); positions put a
  // sequence's queries where keys exist (a cache write's rows fit the cache, a cache
  // mask's last query is at most the last key) and keep rotary angles exact in f32; a
  // gather's index read straight from an input (token ids into an embedding, document
  // ids) lies within its table.
  void check_input_ranges(const Schedule& sized, const TensorMap& inputs) const {
    check_gather_indices(sized, inputs);
    // A float's integers are exact to 2^24: beyond, RoPE would turn by the wrong angle.
    constexpr std::int64_t exact_positions = std::int64_t(1) << 24;
    using Use = RangeUse;
    struct Check {
      int binding = -1;
      Use use = Use::padding;
      std::int64_t high = 0;
    };
    for (const Dispatch& d : sized.dispatches) {
      FixedVector<Check, max_expression_tensors> checks;
      const std::span<const std::uint32_t> push(d.push_constants.data(), d.push_constants.size());
      const std::span<const std::uint32_t> spec(d.specialization.data(), d.specialization.size());
      if (d.kernel == Kernel::flash_attention && d.program >= 0) {
        // Both attention forms share their push block; the program says which tensors
        // are padding lengths or cache positions.
        const auto p = push_of<Shader::flash_attention_tiled>(push);
        for (const ExprTensor& t : sized.programs[std::size_t(d.program)].tensors) {
          if (t.limit == ExprLimit::key_count) checks.push_back({t.binding, Use::padding, p.sk});
          if (t.limit == ExprLimit::query_start)
            checks.push_back({t.binding, Use::cache_mask, std::int64_t(p.sk) - std::int64_t(p.sq)});
        }
      } else if (d.shader == Shader::mask) {
        const std::uint32_t kind = constants_of<Shader::mask>(spec).KIND;
        const auto p = push_of<Shader::mask>(push);
        if (kind == std::uint32_t(Mask::padding)) checks.push_back({2, Use::padding, p.keys});
        if (kind == std::uint32_t(Mask::cache_causal))
          checks.push_back({2, Use::cache_mask, std::int64_t(p.keys) - std::int64_t(p.queries)});
      } else if (d.shader == Shader::cache_write) {
        const auto p = push_of<Shader::cache_write>(push);
        // A rolling cache takes any position (rotary angles bound them where they matter).
        checks.push_back({2, Use::cache_write,
                          p.rolling != 0 ? exact_positions - std::int64_t(p.rows)
                                         : std::int64_t(p.capacity) - std::int64_t(p.rows)});
      } else if (d.shader == Shader::rotary && constants_of<Shader::rotary>(spec).POSITIONS != 0) {
        const auto p = push_of<Shader::rotary>(push);
        checks.push_back({2, Use::rotary, exact_positions - std::int64_t(p.position_offset) - std::int64_t(p.sequence)});
      }
      for (const Check& check : checks) check_input_range(sized, d, check.binding, check.use, check.high, inputs);
      // A paged write's table, once its positions are known to be in range.
      if (d.shader == Shader::cache_write && push_of<Shader::cache_write>(push).page_size != 0)
        check_block_table(sized, d, inputs);
    }
  }

  // The input at `binding` of `d`, if one is bound there, holds values 0 to `high` for
  // `use`; otherwise a BindingError names the input, the element and the range.
  void check_input_range(const Schedule& sized, const Dispatch& d, int binding, RangeUse use, std::int64_t high,
                         const TensorMap& inputs) const {
    using Use = RangeUse;
    const std::span<const std::uint32_t> push(d.push_constants.data(), d.push_constants.size());
    if (binding < 0 || binding >= max_bindings || d.slots[std::size_t(binding)] < 0) return;
    const TensorSlot& slot = sized.slots[std::size_t(d.slots[std::size_t(binding)])];
    if (slot.role != SlotRole::input) return;
    const std::string name(slot.name.view());
    auto found = inputs.find(name);
    if (found == inputs.end()) return;  // upload_all names the missing input
    const std::vector<double>& values = found->second.values;
    // -1 marks a sequence idle in a run where a paged cache write takes these positions
    // (it writes none of the sequence's rows; its cache mask and rotary angles are then
    // harmless). A contiguous cache write, and positions no paged write takes, refuse it.
    bool idle_allowed = use != Use::padding && !(use == Use::cache_write && push_of<Shader::cache_write>(push).page_size == 0);
    if (idle_allowed) {
      idle_allowed = false;
      for (const Dispatch& other : sized.dispatches)
        if (other.shader == Shader::cache_write && other.slots[2] == d.slots[std::size_t(binding)] &&
            push_of<Shader::cache_write>({other.push_constants.data(), other.push_constants.size()}).page_size != 0)
          idle_allowed = true;
    }
    const double low = idle_allowed ? -1.0 : 0.0;
    for (std::size_t i = 0; i < values.size(); ++i) {
      if (values[i] >= low && values[i] <= double(high)) continue;
      const std::string value = std::isfinite(values[i]) && std::abs(values[i]) < 1e18
                                    ? std::to_string(std::int64_t(values[i]))
                                    : std::to_string(values[i]);
      const std::string where = "input '" + name + "' puts sequence " + std::to_string(i) + " at position " + value;
      switch (use) {
        case Use::padding:
          throw BindingError("input '" + name + "' holds " + value + " at element " + std::to_string(i) +
                             ", but the attention it pads has " + std::to_string(high) +
                             " keys: a padding length is 0 to " + std::to_string(high));
        case Use::cache_write: {
          const auto p = push_of<Shader::cache_write>(push);
          const TensorSlot& cache = sized.slots[std::size_t(d.slots[0])];
          throw BindingError(where + ", and this run writes " + std::to_string(p.rows) + " rows from there into '" +
                             std::string(cache.name.view()) + "', which holds " + std::to_string(p.capacity) +
                             " positions: a position is 0 to " + std::to_string(high) +
                             " for this run (nothing was written; reset the sequence or compile with a larger "
                             "cache)");
        }
        case Use::cache_mask:
          throw BindingError(where + ", which puts its last query past the last key of '" +
                             std::string(d.label.view()) + "': a position is 0 to " + std::to_string(high) +
                             " for this run");
        case Use::rotary:
          throw BindingError(where + ", beyond the positions whose rotary angles f32 holds exactly ('" +
                             std::string(d.label.view()) + "'): a position is 0 to " + std::to_string(high) +
                             " for this run");
      }
    }
}

  // A paged cache write's block table, checked before anything runs: every entry a row
  // reaches (its sequence's positions so far and this run's) names a page of the pool; a
  // page this run writes belongs to one sequence (a shared prefix page is copied before a
  // sequence appends to it); no position is written twice. Rows with equal table rows are
  // one sequence: in a ragged batch each row is a token, and the tokens of a sequence
  // repeat its table row. Idle rows (position -1) are not checked.
  void check_block_table(const Schedule& sized, const Dispatch& d, const TensorMap& inputs) const {
    const auto p = push_of<Shader::cache_write>({d.push_constants.data(), d.push_constants.size()});
    auto input_at = [&](int binding) -> const Tensor* {
      if (d.slots[std::size_t(binding)] < 0) return nullptr;
      const TensorSlot& slot = sized.slots[std::size_t(d.slots[std::size_t(binding)])];
      if (slot.role != SlotRole::input) return nullptr;
      auto found = inputs.find(std::string(slot.name.view()));
      return found == inputs.end() ? nullptr : &found->second;
    };
    const Tensor* positions = input_at(2);
    const Tensor* table = input_at(3);
    if (!positions || !table) return;
    const std::string table_name(sized.slots[std::size_t(d.slots[3])].name.view());
    const std::string pool(sized.slots[std::size_t(d.slots[0])].name.view());
    const std::int64_t rows = std::int64_t(positions->values.size()), row = p.table_row, page_size = p.page_size;
    auto entry = [&](std::int64_t b, std::int64_t e) { return table->values[std::size_t(b * row + e)]; };
    auto same_sequence = [&](std::int64_t a, std::int64_t b) {
      for (std::int64_t e = 0; e < row; ++e)
        if (entry(a, e) != entry(b, e)) return false;
      return true;
    };
    // A rolling pool wraps positions around the table row's (rolling_paged_cache_write).
    const std::int64_t wrap = p.rolling != 0 ? row * page_size : std::numeric_limits<std::int64_t>::max();
    auto reach = [&](std::int64_t b) {  // table entries row b reaches: [0, reach)
      const double at = positions->values[std::size_t(b)];
      return at < 0 ? std::int64_t(0)
                    : std::min(row, (std::int64_t(at) + std::int64_t(p.rows) + page_size - 1) / page_size);
    };
    // The first row writing each page this run, and each position written.
    std::map<std::int64_t, std::int64_t> writer;
    std::map<std::pair<std::int64_t, std::int64_t>, std::int64_t> position_writer;
    for (std::int64_t b = 0; b < rows; ++b) {
      const double at = positions->values[std::size_t(b)];
      if (at < 0) continue;
      for (std::int64_t e = 0; e < reach(b); ++e) {
        const double page = entry(b, e);
        if (page >= 0 && page < double(p.pages)) continue;
        throw BindingError("input '" + table_name + "' gives sequence " + std::to_string(b) + " page " +
                           std::to_string(std::int64_t(page)) + " for its positions " +
                           std::to_string(e * page_size) + ".." + std::to_string((e + 1) * page_size - 1) +
                           " (element [" + std::to_string(b) + ", " + std::to_string(e) + "]), but '" + pool +
                           "' holds pages 0 to " + std::to_string(p.pages - 1) +
                           ": every page a sequence reaches must be in the pool (nothing was written)");
      }
      const std::int64_t first = std::int64_t(at);
      const std::int64_t last = p.rolling != 0 ? first + std::int64_t(p.rows)
                                               : std::min(first + std::int64_t(p.rows), row * page_size);
      for (std::int64_t position = first; position < last; ++position) {
        const std::int64_t page = std::int64_t(entry(b, (position % wrap) / page_size));
        auto [page_first, fresh] = writer.emplace(page, b);
        if (!fresh && !same_sequence(page_first->second, b))
          throw BindingError("sequences " + std::to_string(page_first->second) + " and " + std::to_string(b) +
                             " both write page " + std::to_string(page) + " of '" + pool + "' in this run (input '" +
                             table_name + "'): a page a run writes belongs to one sequence (nothing was written)");
        auto [position_first, once] = position_writer.emplace(std::pair{page, (position % wrap) % page_size}, b);
        if (!once)
          throw BindingError("rows " + std::to_string(position_first->second) + " and " + std::to_string(b) +
                             " of input '" + table_name + "' both write position " + std::to_string(position) +
                             " of their sequence (page " + std::to_string(page) + " of '" + pool +
                             "') in this run: the tokens of a sequence take distinct positions (nothing was "
                             "written)");
      }
    }
    for (std::int64_t b = 0; b < rows; ++b)
      for (std::int64_t e = 0; e < reach(b); ++e) {
        const std::int64_t page = std::int64_t(entry(b, e));
        auto written = writer.find(page);
        if (written == writer.end() || same_sequence(written->second, b)) continue;
        throw BindingError("sequence " + std::to_string(written->second) + " writes page " + std::to_string(page) +
                           " of '" + pool + "', which sequence " + std::to_string(b) + " also holds (input '" +
                           table_name + "', element [" + std::to_string(b) + ", " + std::to_string(e) +
                           "]): copy a shared page before a sequence appends to it, as Decoder::fork does "
                           "(nothing was written)");
      }
  }

  // The slot `slot` holds a copy of, element for element (an unfused unsqueeze copies its
  // operand unchanged): followed back to the first that is no such copy.
  static int copied_from(const Schedule& sized, int slot) {
    for (bool found = slot >= 0; found;) {
      found = false;
      for (const Dispatch& d : sized.dispatches) {
        if (d.shader != Shader::gather || d.slots[0] != slot || d.slots[1] < 0) continue;
        const auto p = push_of<Shader::gather>({d.push_constants.data(), d.push_constants.size()});
        bool plain = p.offset == 0;
        std::uint32_t stride = 1;
        for (std::uint32_t k = p.rank; k-- > 0 && plain;) {
          if (p.dims[k] == 1) continue;
          plain = p.strides[k] == stride;
          stride *= p.dims[k];
        }
        if (!plain || p.total != stride) continue;
        slot = d.slots[1];
        found = true;
        break;
      }
    }
    return slot;
  }

  // Generated code clamps a gather's index; an input that would need the clamp is refused
  // instead, naming the input, the element and the table.
  void check_gather_indices(const Schedule& sized, const TensorMap& inputs) const {
    for (const Dispatch& d : sized.dispatches) {
      if (d.program < 0) continue;
      const Expression& e = sized.programs[std::size_t(d.program)];
      for (const ExprNode& node : e.nodes) {
        if (node.op != Op::gather || node.args[0] < 0) continue;
        const ExprNode& index = e.node(node.args[0]);
        if (index.op != Op::input) continue;
        const ExprTensor& table = e.tensors[std::size_t(node.tensor)];
        const ExprTensor& source = e.tensors[std::size_t(index.tensor)];
        const int index_slot = copied_from(sized, d.slots[std::size_t(source.binding)]);
        const int table_slot = d.slots[std::size_t(table.binding)];
        if (index_slot < 0 || table_slot < 0) continue;
        const TensorSlot& slot = sized.slots[std::size_t(index_slot)];
        if (slot.role != SlotRole::input) continue;
        // A fixed table size, or a dynamic one a pointwise kernel is pushed (a score
        // program's table along the keys is as long as the keys: the kernel's own range).
        const ExprExtent& extent = table.extents[std::size_t(table.gathered)];
        std::int64_t entries = extent.size;
        if (extent.kind == ExprExtent::Kind::push && d.shader == Shader::pointwise)
          entries = push_of<Shader::pointwise>({d.push_constants.data(), d.push_constants.size()})
                        .extents[std::size_t(extent.size)];
        else if (extent.kind != ExprExtent::Kind::fixed)
          continue;
        auto found = inputs.find(std::string(slot.name.view()));
        if (found == inputs.end()) continue;  // upload_all names the missing input
        const std::vector<double>& values = found->second.values;
        for (std::size_t i = 0; i < values.size(); ++i) {
          if (values[i] >= 0.0 && values[i] < double(entries)) continue;
          const std::string value = std::isfinite(values[i]) && std::abs(values[i]) < 1e18
                                        ? std::to_string(std::int64_t(values[i]))
                                        : std::to_string(values[i]);
          throw BindingError("input '" + std::string(slot.name.view()) + "' holds " + value + " at element " +
                             std::to_string(i) + ", an index into '" +
                             std::string(sized.slots[std::size_t(table_slot)].name.view()) + "', which has " +
                             std::to_string(entries) + " entries there ('" + std::string(d.label.view()) +
                             "'): an index is 0 to " + std::to_string(entries - 1) + " (nothing was run)");
        }
      }
    }
  }

  bool has_state() const {
    for (const TensorSlot& slot : schedule.slots)
      if (slot.role == SlotRole::state) return true;
    return false;
  }

  // Zeroes every state tensor (or fills the rest of the arena, to poison it).
  void fill_states(std::uint32_t word) {
    for (const TensorSlot& slot : schedule.slots)
      if (slot.role == SlotRole::state)
        arena.fill(std::uint64_t(slot.offset), std::uint64_t((slot.bytes + 3) / 4 * 4), word);
  }

  // The sizes of the dynamic dimensions the inputs have; throws BindingError when two
  // inputs disagree or a size is beyond its bound.
  SizeKey sizes_of(const TensorMap& inputs) const {
    SizeKey key(dims.size(), 0);
    std::vector<std::string> from(dims.size());
    for (const TensorSlot& slot : schedule.slots) {
      if (slot.role != SlotRole::input || !slot.shape.any_dynamic()) continue;
      const std::string name(slot.name.view());
      auto found = inputs.find(name);
      if (found == inputs.end() || found->second.shape.rank != slot.shape.rank) continue;  // upload names it
      for (int axis = 0; axis < slot.shape.rank; ++axis) {
        if (!slot.shape.dynamic(axis)) continue;
        std::size_t k = 0;
        while (k < dims.size() && !(dims[k].name == slot.shape.symbols[std::size_t(axis)])) ++k;
        const std::int64_t size = found->second.shape[axis];
        const std::string dim(slot.shape.symbols[std::size_t(axis)].text().view());
        if (size < 1 || size > dims[k].size)
          throw BindingError("input '" + name + "' has " + std::to_string(size) + " in dimension " +
                             std::to_string(axis) + " (`" + dim + "`), which is 1 to " + std::to_string(dims[k].size));
        if (key[k] != 0 && key[k] != size)
          throw BindingError("input '" + name + "' gives `" + dim + "` = " + std::to_string(size) + " but input '" +
                             from[k] + "' gives " + std::to_string(key[k]) + "; one run has one size per dimension");
        key[k] = size;
        from[k] = name;
      }
    }
    for (std::size_t k = 0; k < dims.size(); ++k)
      if (key[k] == 0) key[k] = dims[k].size;  // no input has it: only its bound can apply
    return key;
  }

  // The kernel choices for `key`: the first of options.tune_profiles that covers every
  // size, else the compile options' own.
  DimSizes tune_for(const SizeKey& key) const {
    for (const DimSizes& profile : options.tune_profiles) {
      bool covers = true;
      for (std::size_t k = 0; k < dims.size(); ++k) {
        const std::int64_t size = size_of(profile, dims[k].name);
        covers = covers && key[k] <= (size > 0 ? size : dims[k].size);
      }
      if (covers) return profile;
    }
    return compile_options.tune_for;
  }

  Schedule compile_at(const SizeKey& key) const {
    return compile_sized(*graph, compile_options, dims, key, tune_for(key));
  }

  // Makes (once per set of sizes) the recording that runs the graph at `key`.
  Recording& recording_for(const SizeKey& key, Schedule sized) {
    if (auto it = recordings.find(key); it != recordings.end()) return *it->second;
    check_schedule(sized);
    check_fits_device(context, sized);
    if (sized.arena_bytes > std::int64_t(arena.size()) || sized.weight_bytes != schedule.weight_bytes)
      throw VulkanError("internal: the schedule at these sizes needs " + std::to_string(sized.arena_bytes) +
                        " bytes of arena, more than the " + std::to_string(arena.size()) + " planned for the bounds");
    auto recording = std::make_unique<Recording>();
    recording->schedule = std::move(sized);
    create_layouts(recording->schedule);
    create_descriptor_sets(*recording);
    record(*recording);
    return *(recordings[key] = std::move(recording));
  }

  // Converts `tensor` to the slot's device element type and writes it at element
  // `first_element` of the slot. A value f16 cannot hold is an error naming it.
  void upload(const TensorSlot& slot, std::int64_t first_element, const Tensor& tensor) {
    const std::uint64_t offset = std::uint64_t(slot.offset + first_element * storage_bytes(slot.element));
    if (slot.element == DType::f16) {
      std::vector<std::uint16_t> halves(tensor.values.size());
      for (std::size_t i = 0; i < halves.size(); ++i) {
        const double v = tensor.values[i];
        halves[i] = double_to_half(v);
        if (std::isfinite(v) && (halves[i] & 0x7FFFu) == 0x7C00u)  // a finite value that rounds to infinity
          throw BindingError("tensor '" + std::string(slot.name.view()) + "' holds " + std::to_string(v) +
                             " at element " + std::to_string(first_element + std::int64_t(i)) +
                             ", outside the range of f16 (\u00b165504) in which the device holds it");
      }
      buffer_of(slot).write(offset, halves.data(), halves.size() * 2);
      return;
    }
    std::vector<std::uint32_t> words(tensor.values.size());
    for (std::size_t i = 0; i < words.size(); ++i) {
      const double v = tensor.values[i];
      if (slot.element == DType::i32) {
        // Converting a double outside int32 to int32 is undefined; refuse it by name.
        if (!(v >= -2147483648.0 && v <= 2147483647.0) || v != std::trunc(v))
          throw BindingError("tensor '" + std::string(slot.name.view()) + "' holds " + std::to_string(v) +
                             " at element " + std::to_string(first_element + std::int64_t(i)) +
                             ", which is not an int32 (the device holds it as i32)");
        words[i] = std::bit_cast<std::uint32_t>(std::int32_t(v));
      } else {
        words[i] = std::bit_cast<std::uint32_t>(float(v));
      }
    }
    buffer_of(slot).write(offset, words.data(), words.size() * 4);
  }

  // The slot's elements, widened to double.
  std::vector<double> download(const TensorSlot& slot) {
    std::vector<double> values(std::size_t(slot.shape.elements()));
    if (slot.element == DType::f16) {
      std::vector<std::uint16_t> halves(values.size());
      arena.read(std::uint64_t(slot.offset), halves.data(), halves.size() * 2);
      for (std::size_t i = 0; i < values.size(); ++i) values[i] = half_to_float(halves[i]);
      return values;
    }
    std::vector<std::uint32_t> words(values.size());
    arena.read(std::uint64_t(slot.offset), words.data(), words.size() * 4);
    for (std::size_t i = 0; i < values.size(); ++i)  // i32 as its bits, the rest as f32
      values[i] = slot.element == DType::i32 ? double(std::bit_cast<std::int32_t>(words[i]))
                                             : double(std::bit_cast<float>(words[i]));
    return values;
  }
};

namespace {

// The schedule may come from a file or another program: it is checked, written out as
// the device runs it (its repeated bodies once per iteration), and checked against the
// device, before any buffer is allocated for it.
Schedule checked(const Context::State& context, const Schedule& schedule) {
  check_schedule(schedule);
  Schedule unrolled = unroll_repeats(schedule);
  check_fits_device(context, unrolled);
  return unrolled;
}

}  // namespace

Executable::Executable(Context& context, Schedule schedule, const TensorMap& weights, const ExecutableOptions& options) {
  Schedule plan = checked(context.state(), std::move(schedule));
  const std::int64_t arena_bytes = plan.arena_bytes;
  state_ = std::make_unique<State>(context.shared_state(), plan, arena_bytes, options);
  State& s = *state_;
  s.upload_all(s.schedule, SlotRole::weight, weights);
  s.fill_states(0);
  s.current = &s.recording_for({}, plan);
  s.cache.save();
}

Executable::Executable(Context& context, const Graph& graph, const CompileOptions& options_given,
                       const TensorMap& weights, const ExecutableOptions& options) {
  CompileOptions compile_options = options_given;
  if (!compile_options.target) compile_options.target = context.target();  // the device's own kernels
  // The graph at its bounds, and at each profile's sizes: all kernels made now, the
  // arena as large as the largest of them needs.
  const DimSizes dims = dynamic_dims(graph);
  // The plan is the graph at its bounds, whatever sizes the graph was given.
  const Graph bounded = dims.empty() ? graph : with_sizes(graph, dims);
  Schedule plan = checked(context.state(), compile(bounded, compile_options));
  std::int64_t arena_bytes = plan.arena_bytes;
  std::vector<std::pair<SizeKey, Schedule>> profiles;
  for (const DimSizes& profile : options.tune_profiles) {
    SizeKey key;
    for (const DimSize& d : dims) {
      const std::int64_t size = size_of(profile, d.name);
      key.push_back(size > 0 ? std::min(size, d.size) : d.size);
    }
    for (const DimSize& p : profile)
      if (size_of(dims, p.name) == 0)
        throw GraphError("vkattn: a tuning profile names `" + std::string(p.name.text().view()) +
                         "`, which is no dynamic dimension of graph '" + std::string(graph.name()) + "'");
    Schedule sized = checked(context.state(), compile_sized(bounded, compile_options, dims, key, profile));
    arena_bytes = std::max(arena_bytes, sized.arena_bytes);
    profiles.emplace_back(key, std::move(sized));
  }
  state_ = std::make_unique<State>(context.shared_state(), plan, arena_bytes, options);
  State& s = *state_;
  s.graph = bounded;
  s.compile_options = compile_options;
  s.dims = dims;
  s.upload_all(s.schedule, SlotRole::weight, weights);
  s.fill_states(0);
  SizeKey bounds;
  for (const DimSize& d : dims) bounds.push_back(d.size);
  for (auto& [key, sized] : profiles) s.recording_for(key, std::move(sized));
  s.current = &s.recording_for(bounds, s.schedule);  // the graph at its bounds is the plan
  s.cache.save();
}

Executable::~Executable() = default;

TensorMap Executable::run(const TensorMap& inputs) {
  State& s = *state_;
  std::lock_guard lock(s.mutex);
  if (!s.context.device) throw VulkanError("the executable's Context was closed; make a new Context and Executable");
  s.check_names(inputs);
  if (s.graph && !s.dims.empty()) {
    const SizeKey key = s.sizes_of(inputs);
    auto it = s.recordings.find(key);
    s.current = it != s.recordings.end() ? it->second.get() : &s.recording_for(key, s.compile_at(key));
    s.evict_beyond_limit();
  }
  State::Recording& r = *s.current;
  r.last_use = ++s.use_clock;
  s.check_input_ranges(r.schedule, inputs);
  s.upload_all(r.schedule, SlotRole::input, inputs);
  check(vkResetFences(s.context.device, 1, &s.fence), "vkResetFences");
  auto submit = make_info<VkSubmitInfo>(VK_STRUCTURE_TYPE_SUBMIT_INFO);
  submit.commandBufferCount = 1;
  submit.pCommandBuffers = &r.commands;
  check(s.context.submit(1, &submit, s.fence), "vkQueueSubmit");
  check(vkWaitForFences(s.context.device, 1, &s.fence, VK_TRUE, UINT64_MAX), "vkWaitForFences");
  ++s.stats.runs;

  s.timings.clear();
  if (r.queries) {
    std::vector<std::uint64_t> ticks(r.schedule.dispatches.size() * 2);
    check(vkGetQueryPoolResults(s.context.device, r.queries, 0, std::uint32_t(ticks.size()), ticks.size() * 8,
                                ticks.data(), 8, VK_QUERY_RESULT_64_BIT | VK_QUERY_RESULT_WAIT_BIT),
          "vkGetQueryPoolResults");
    const double tick_ms = s.context.info.timestamp_period_ns * 1e-6;
    for (std::size_t i = 0; i < r.schedule.dispatches.size(); ++i)
      s.timings.push_back({std::string(r.schedule.dispatches[i].label.view()),
                           double(ticks[2 * i + 1] - ticks[2 * i]) * tick_ms, double(ticks[2 * i] - ticks[0]) * tick_ms});
    s.last_run_ms = ticks.empty() ? 0.0 : double(ticks.back() - ticks.front()) * tick_ms;
  }

  TensorMap outputs;
  for (const TensorSlot& slot : r.schedule.slots) {
    if (slot.role != SlotRole::output) continue;
    Tensor t;
    t.shape = plain(slot.shape);
    t.dtype = slot.dtype;
    t.values = s.download(slot);
    outputs[std::string(slot.name.view())] = std::move(t);
  }
  return outputs;
}

void Executable::poison_arena(float value) {
  // NaN poisons f32 and f16 slots alike: 0x7FC07FC0 is a NaN as one f32 and as two f16.
  // State tensors keep their contents: they are what earlier runs wrote.
  State& s = *state_;
  std::lock_guard lock(s.mutex);
  if (!s.context.device) throw VulkanError("the executable's Context was closed; make a new Context and Executable");
  std::vector<std::pair<std::uint64_t, std::uint64_t>> kept;
  for (const TensorSlot& slot : s.schedule.slots)
    if (slot.role == SlotRole::state)
      kept.emplace_back(std::uint64_t(slot.offset), std::uint64_t((slot.bytes + 3) / 4 * 4));
  std::sort(kept.begin(), kept.end());
  const std::uint32_t word = std::isnan(value) ? 0x7FC07FC0u : std::bit_cast<std::uint32_t>(value);
  std::uint64_t at = 0;
  for (const auto& [offset, bytes] : kept) {
    s.arena.fill(at, offset - at, word);
    at = offset + bytes;
  }
  s.arena.fill(at, s.arena.size() / 4 * 4 - at, word);
}

namespace {

const TensorSlot& state_slot(const Schedule& schedule, const std::string& name) {
  std::string names;
  for (const TensorSlot& slot : schedule.slots)
    if (slot.role == SlotRole::state) {
      if (slot.name.view() == name) return slot;
      names += (names.empty() ? "" : ", ") + std::string(slot.name.view());
    }
  throw BindingError("graph '" + std::string(schedule.graph_name.view()) + "' has no state tensor '" + name + "'" +
                     (names.empty() ? std::string(" (it has none)") : " (its states: " + names + ")"));
}

}  // namespace

Tensor Executable::read_state(const std::string& name) {
  std::lock_guard lock(state_->mutex);
  if (!state_->context.device) throw VulkanError("the executable's Context was closed; make a new Context and Executable");
  const TensorSlot& slot = state_slot(state_->schedule, name);
  Tensor t;
  t.shape = plain(slot.shape);
  t.dtype = slot.dtype;
  t.values = state_->download(slot);
  return t;
}

void Executable::write_state(const std::string& name, const Tensor& contents) {
  std::lock_guard lock(state_->mutex);
  if (!state_->context.device) throw VulkanError("the executable's Context was closed; make a new Context and Executable");
  const TensorSlot& slot = state_slot(state_->schedule, name);
  if (!same_sizes(contents.shape, slot.shape) || contents.values.size() != std::size_t(slot.shape.elements()))
    throw BindingError("state '" + name + "' is " + to_string(slot.shape) + ", but the tensor given has shape " +
                       to_string(contents.shape));
  state_->upload(slot, 0, contents);
}

void Executable::copy_state_slice(const std::string& name, std::int64_t from, std::int64_t to) {
  std::lock_guard lock(state_->mutex);
  if (!state_->context.device) throw VulkanError("the executable's Context was closed; make a new Context and Executable");
  const TensorSlot& slot = state_slot(state_->schedule, name);
  const std::int64_t count = slot.shape.rank > 0 ? slot.shape[0] : 1;
  for (std::int64_t index : {from, to})
    if (index < 0 || index >= count)
      throw BindingError("state '" + name + "' " + to_string(slot.shape) + " has slices 0 to " +
                         std::to_string(count - 1) + " along its first axis, not " + std::to_string(index));
  if (from == to) return;
  const std::uint64_t bytes = std::uint64_t(slot.bytes / count);
  state_->arena.copy_within(std::uint64_t(slot.offset) + std::uint64_t(from) * bytes,
                            std::uint64_t(slot.offset) + std::uint64_t(to) * bytes, bytes);
}

void Executable::reset_state() {
  std::lock_guard lock(state_->mutex);
  if (!state_->context.device) throw VulkanError("the executable's Context was closed; make a new Context and Executable");
  state_->fill_states(0);
}

const Schedule& Executable::schedule() const { return state_->current->schedule; }
const std::vector<DispatchTiming>& Executable::timings() const { return state_->timings; }
double Executable::last_run_ms() const { return state_->last_run_ms; }
const PipelineCacheInfo& Executable::pipeline_cache() const { return state_->cache.info(); }
const ExecutableStats& Executable::stats() const { return state_->stats; }

}  // namespace vkattn
