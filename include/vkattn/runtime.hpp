#pragma once
// The Vulkan runtime: devices, and executables (a Schedule loaded onto one device).
#include <chrono>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "vkattn/compile.hpp"
#include "vkattn/target.hpp"
#include "vkattn/tensor.hpp"

namespace vkattn {

// Every failure of the Vulkan runtime: no loader or device, a Vulkan call that failed
// (the message names the call and the VkResult; result() is its value), a schedule that
// does not fit the device.
class VulkanError : public std::runtime_error {
 public:
  explicit VulkanError(const std::string& message, int result = 0) : std::runtime_error(message), result_(result) {}
  int result() const { return result_; }  // the VkResult, or 0 (VK_SUCCESS) when no call failed

 private:
  int result_;
};

struct DeviceInfo {
  int index = 0;
  std::string name;
  DeviceType type = DeviceType::other;
  std::uint32_t vendor_id = 0, device_id = 0;
  std::string api_version;     // "1.3.230"
  std::string driver_version;  // as the vendor encodes it
  std::uint32_t subgroup_size = 0;
  std::uint32_t max_shared_memory_bytes = 0;
  bool f16_arithmetic = false;
  bool timestamps = false;          // the compute queue supports timestamp queries
  double timestamp_period_ns = 0;   // nanoseconds per timestamp tick
  std::uint64_t device_local_bytes = 0;
  std::uint64_t max_allocation_bytes = 0;  // one allocation's limit (maxMemoryAllocationSize)
  // What the compiler knows of the device: vendor, subgroup sizes and operations,
  // shared memory, limits. compile(graph, info.target) tunes every kernel for it.
  Target target;
};

struct ContextOptions {
  // Which device: an index, or a case-insensitive part of its name. Empty: the
  // VKATTN_DEVICE environment variable, else the preferred device (discrete, then
  // integrated, then virtual, then CPU).
  std::string device{};
  // Enables VK_LAYER_KHRONOS_validation and collects its messages (see
  // Context::validation_messages); an error if the layer is not installed.
  bool validation = false;
  // With validation: also synchronization validation (hazards between dispatches).
  bool synchronization_validation = false;
  // Enables VK_KHR_pipeline_executable_properties, so that pipeline_statistics() can ask
  // the driver what its shader compiler made (vkattn/pipeline_statistics.hpp); an error
  // naming the device when it lacks the extension.
  bool pipeline_statistics = false;
};

// Threads: a Context may be shared. Executables on it may run from different threads
// at once; their submissions to the context's one queue take turns (Vulkan requires a
// queue's use to be serialised). Destroying a Context before its Executables leaves
// them inert: their run() throws and their destructors do nothing.
class Context {
 public:
  explicit Context(const ContextOptions& options = {});
  ~Context();
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

  // Every Vulkan device on this machine. Throws with install advice when there is no
  // loader or no device.
  static std::vector<DeviceInfo> devices();

  const DeviceInfo& device() const;
  // The device's target (device().target): compile(graph, context.target()).
  const Target& target() const;
  // Throws VulkanError, naming the buffer or dispatch, the size and the limit, when the
  // schedule cannot run on this device: memory beyond one allocation or the device-local
  // heap, workgroup counts, binding ranges, shared memory, subgroup operations. An
  // Executable checks this before allocating; call it to check before making inputs.
  void check_fits(const Schedule& schedule) const;
  // Destroys the device and the instance now, and returns the validation messages not
  // yet cleared, those the teardown gave included (objects still alive, say). Executables
  // still alive become inert; the context is unusable after.
  // The destructor does the same and writes teardown messages to stderr.
  std::vector<std::string> close();
  // Validation messages (warnings and errors) collected so far.
  std::vector<std::string> validation_messages() const;
  void clear_validation_messages();

  struct State;
  State& state() const { return *state_; }
  // Executables share the context's state, so that one outliving its context is inert
  // (run() throws) instead of reading freed memory.
  std::shared_ptr<State> shared_state() const { return state_; }

 private:
  std::shared_ptr<State> state_;
};

struct DispatchTiming {
  std::string label;
  double milliseconds = 0;  // from the timestamp before the dispatch to the one after it
  double start_ms = 0;      // when it began, from the start of the first dispatch
};

struct PipelineCacheInfo {
  std::string path;            // where the cache lives on disk
  std::size_t loaded_bytes = 0;  // accepted from disk when the executable was created (0: none)
  bool rejected = false;         // a file was there but was corrupt or from another device
};

struct ExecutableOptions {
  bool profile = true;  // timestamps around each dispatch, where the queue supports them
  // A graph with dynamic dimensions: further sizes to choose kernels for, smallest first
  // (decoding steps: {{{"seq", 1}}}). A run uses the first profile whose sizes are all
  // at least its own, else the compile options' choice (the bounds by default). Each
  // profile's pipelines and recording are made when the executable is.
  std::vector<DimSizes> tune_profiles{};
  // Built from a graph with dynamic dimensions: the most command buffers kept, one per
  // set of sizes; beyond it the least recently run is freed (and recorded again when its
  // sizes come back), so an executable run at many sizes holds bounded memory.
  int max_recordings = 64;
};

// What an executable has made so far.
struct ExecutableStats {
  int pipelines = 0;   // compute pipelines created
  int recordings = 0;  // command buffers recorded (one per set of sizes of dynamic dimensions)
  int runs = 0;
  int evictions = 0;   // recordings freed to stay within ExecutableOptions::max_recordings
};

// Threads: run(), poison_arena() and reset_state() may be called from several threads;
// they take turns, one run at a time. schedule(), stats(), timings() and last_run_ms()
// describe the last run: read them on the thread that ran, once its runs are done.
class Executable {
 public:
  // Creates the pipelines, allocates the arena and the weights, uploads `weights`
  // (every weight slot of the schedule, by name, with its declared shape) and records
  // the command buffer.
  Executable(Context& context, Schedule schedule, const TensorMap& weights, const ExecutableOptions& options = {});
  // A graph compiled with `compile_options` at the bounds of its dynamic dimensions
  // (dyn("seq", 4096)). Each run takes their sizes from the inputs' shapes and runs the
  // graph at those sizes: the first run at a new set of sizes compiles the graph for it
  // (kernel choices fixed by the bounds or a profile, memory by the bounds, so the
  // pipelines are those made here) and records a command buffer, which later runs at
  // the same sizes replay. A graph without dynamic dimensions runs as compiled. Without
  // CompileOptions::target, the kernels are chosen for the context's device.
  Executable(Context& context, const Graph& graph, const CompileOptions& compile_options, const TensorMap& weights,
             const ExecutableOptions& options = {});
  ~Executable();
  Executable(const Executable&) = delete;
  Executable& operator=(const Executable&) = delete;

  // Uploads the inputs, submits the recorded command buffer once, waits, and returns
  // every graph output by name. `inputs` may also hold the weights (as random_bindings
  // makes them; they are not uploaded again); any other name, or an integer tensor for
  // a float input (or the reverse), is a BindingError naming the graph's inputs.
  TensorMap run(const TensorMap& inputs);

  // Fills the arena but its state tensors with `value` (NaN, say), so an element that a
  // run fails to write shows up in its outputs.
  void poison_arena(float value);
  // Zeroes every state tensor (Graph::state): the KV caches start empty again.
  void reset_state();
  // The contents of state tensor `name` (a KV cache, a page pool), or sets them; a
  // BindingError names an unknown state or a tensor of another shape.
  Tensor read_state(const std::string& name);
  void write_state(const std::string& name, const Tensor& contents);
  // Copies slice `from` of state `name`'s first axis onto slice `to` (one page of a
  // paged KV cache's pool: Decoder::fork copies a shared page before a sequence appends
  // to it).
  void copy_state_slice(const std::string& name, std::int64_t from, std::int64_t to);

  // The schedule of the last run's sizes (before any run: the bounds').
  const Schedule& schedule() const;
  const ExecutableStats& stats() const;
  // Device time of each dispatch in the last run; empty without timestamp support.
  const std::vector<DispatchTiming>& timings() const;
  // Device time of the whole last run, first dispatch start to last dispatch end
  // (barriers included); 0 without timestamp support.
  double last_run_ms() const;
  const PipelineCacheInfo& pipeline_cache() const;

  struct State;

 private:
  std::unique_ptr<State> state_;
};

}  // namespace vkattn
