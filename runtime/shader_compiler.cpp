#include "shader_compiler.hpp"

#include <glslang/Public/ResourceLimits.h>
#include <glslang/Public/ShaderLang.h>
#include <glslang/SPIRV/GlslangToSpv.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <span>
#include <string>
#include <stdexcept>
#include <string_view>
#include <utility>

#include <unistd.h>

namespace vkattn {

const std::vector<std::pair<std::string_view, std::string_view>>& embedded_shader_sources();

namespace {

constexpr std::string_view generated_name = "vkattn_generated.glsl";

std::uint64_t fnv1a(std::uint64_t hash, std::string_view text) {
  for (unsigned char c : text) hash = (hash ^ c) * 1099511628211ull;
  return hash;
}

std::string_view source_of(std::string_view name) {
  for (const auto& [file, text] : embedded_shader_sources())
    if (file == name) return text;
  return {};
}

// Every embedded source, hashed once: a changed template never meets an old cache entry.
std::uint64_t sources_hash() {
  static const std::uint64_t hash = [] {
    std::uint64_t h = 14695981039346656037ull;
    for (const auto& [file, text] : embedded_shader_sources()) h = fnv1a(fnv1a(h, file), text);
    return h;
  }();
  return hash;
}

std::filesystem::path cache_directory() {
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg) return std::filesystem::path(xdg) / "vkattn" / "spirv";
  if (const char* home = std::getenv("HOME"); home && *home)
    return std::filesystem::path(home) / ".cache" / "vkattn" / "spirv";
  return {};
}

// Resolves #include "name" from the embedded sources; the generated code is one of them.
class EmbeddedIncludes : public glslang::TShader::Includer {
 public:
  explicit EmbeddedIncludes(std::string_view generated) : generated_(generated) {}
  IncludeResult* includeLocal(const char* name, const char*, size_t) override { return find(name); }
  IncludeResult* includeSystem(const char* name, const char*, size_t) override { return find(name); }
  void releaseInclude(IncludeResult* result) override { delete result; }

 private:
  IncludeResult* find(const char* name) {
    const std::string_view text = name == generated_name ? generated_ : source_of(name);
    if (text.empty() && name != generated_name) return nullptr;  // glslang reports the missing file
    return new IncludeResult(name, text.data(), text.size(), nullptr);
  }
  std::string_view generated_;
};

std::vector<std::uint32_t> compile(Shader shader, DType element, const std::string& generated) {
  static std::once_flag initialised;
  std::call_once(initialised, [] { glslang::InitializeProcess(); });
  const ShaderInfo& info = shader_info(shader);
  const std::string_view source = source_of(info.source);
  if (source.empty()) throw std::runtime_error("vkattn: no embedded source for " + std::string(info.source));
  const std::string preamble = std::string("#define VKATTN_F16 ") + (element == DType::f16 ? "1" : "0") + "\n#define " +
                               (info.kernel == Kernel::flash_attention ? "VKATTN_SCORE_PROGRAM" : "VKATTN_GENERATED") +
                               " 1\n";
  glslang::TShader unit(EShLangCompute);
  const char* text = source.data();
  const int length = int(source.size());
  const std::string file(info.source);
  const char* name = file.c_str();
  unit.setStringsWithLengthsAndNames(&text, &length, &name, 1);
  unit.setPreamble(preamble.c_str());
  unit.setEnvInput(glslang::EShSourceGlsl, EShLangCompute, glslang::EShClientVulkan, 100);
  unit.setEnvClient(glslang::EShClientVulkan, glslang::EShTargetVulkan_1_1);
  unit.setEnvTarget(glslang::EShTargetSpv, glslang::EShTargetSpv_1_3);
  const EShMessages messages = EShMessages(EShMsgSpvRules | EShMsgVulkanRules);
  EmbeddedIncludes includes(generated);
  std::string error;
  glslang::TProgram program;
  if (!unit.parse(GetDefaultResources(), 450, false, messages, includes)) {
    error = unit.getInfoLog();
  } else {
    program.addShader(&unit);
    if (!program.link(messages)) error = program.getInfoLog();
  }
  if (!error.empty())
    throw std::runtime_error("vkattn: the generated kernel " + std::string(info.name) + " does not compile:\n" + error +
                             "\ngenerated source:\n" + generated);
  std::vector<unsigned int> spirv;
  glslang::SpvOptions options;
  glslang::GlslangToSpv(*program.getIntermediate(EShLangCompute), spirv, &options);
  return std::vector<std::uint32_t>(spirv.begin(), spirv.end());
}

std::vector<std::uint32_t> read_spirv(const std::filesystem::path& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return {};
  std::string bytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  if (bytes.size() < 20 || bytes.size() % 4 != 0) return {};
  std::vector<std::uint32_t> code(bytes.size() / 4);
  std::memcpy(code.data(), bytes.data(), bytes.size());
  return code[0] == 0x07230203u ? code : std::vector<std::uint32_t>{};
}

// Atomically (a temporary file, then a rename); a cache that cannot be written is no error.
void write_spirv(const std::filesystem::path& path, const std::vector<std::uint32_t>& code) {
  std::error_code ignored;
  std::filesystem::create_directories(path.parent_path(), ignored);
  // A name no other writer uses: processes compiling the same shader at once (tests run
  // in parallel) must not write into one temporary file.
  static std::atomic<std::uint64_t> written{0};
  const std::filesystem::path temporary = path.string() + ".tmp" + std::to_string(getpid()) + "." +
                                          std::to_string(std::random_device{}()) + "." + std::to_string(++written);
  {
    std::ofstream file(temporary, std::ios::binary);
    if (!file) return;
    file.write(reinterpret_cast<const char*>(code.data()), std::streamsize(code.size() * 4));
    if (!file) {
      file.close();
      std::filesystem::remove(temporary, ignored);
      return;
    }
  }
  std::filesystem::rename(temporary, path, ignored);
  if (ignored) std::filesystem::remove(temporary, ignored);
}

// Made on first use: precompiled kernels register during static initialisation, which
// may come before this file's own.
struct CacheState {
  std::mutex mutex;
  std::map<std::uint64_t, std::vector<std::uint32_t>> memory;
  std::map<std::uint64_t, std::span<const std::uint32_t>> precompiled;
  ShaderCacheStats stats;
};

CacheState& cache_state() {
  static CacheState state;
  return state;
}

}  // namespace

std::uint64_t generated_kernel_key(Shader shader, DType element, const std::string& generated) {
  std::uint64_t key = fnv1a(sources_hash(), shader_info(shader).name);
  key = fnv1a(key, element == DType::f16 ? "f16" : "f32");
  return fnv1a(key, generated);
}

void register_precompiled_kernels(std::span<const PrecompiledKernel> kernels) {
  CacheState& c = cache_state();
  std::lock_guard lock(c.mutex);
  for (const PrecompiledKernel& k : kernels)
    if (k.size >= 5 && k.words[0] == 0x07230203u) c.precompiled[k.key] = {k.words, k.size};
}

std::vector<std::uint32_t> generated_spirv(Shader shader, DType element, const std::string& generated) {
  const std::uint64_t key = generated_kernel_key(shader, element, generated);
  CacheState& c = cache_state();
  std::lock_guard lock(c.mutex);
  auto& memory_cache = c.memory;
  auto& stats = c.stats;
  if (auto it = memory_cache.find(key); it != memory_cache.end()) {
    ++stats.from_memory;
    return it->second;
  }
  // Made while the application built (a key covers the templates too, so SPIR-V of
  // another vkattn version is never found).
  if (auto it = c.precompiled.find(key); it != c.precompiled.end()) {
    ++stats.precompiled;
    std::vector<std::uint32_t> code(it->second.begin(), it->second.end());
    memory_cache[key] = code;
    return code;
  }
  char name[32];
  std::snprintf(name, sizeof name, "%016llx.spv", static_cast<unsigned long long>(key));
  const std::filesystem::path directory = cache_directory();
  std::vector<std::uint32_t> code;
  if (!directory.empty()) code = read_spirv(directory / name);
  if (!code.empty()) {
    ++stats.from_disk;
  } else {
    const auto start = std::chrono::steady_clock::now();
    code = compile(shader, element, generated);
    stats.compile_ms += std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    ++stats.compiled;
    if (!directory.empty()) write_spirv(directory / name, code);
  }
  memory_cache[key] = code;
  return code;
}

ShaderCacheStats shader_cache_stats() {
  CacheState& c = cache_state();
  std::lock_guard lock(c.mutex);
  return c.stats;
}

}  // namespace vkattn
