# Set-up in one command on a fresh Debian 12 machine:
#   make demo   installs what is missing, builds, and runs the main example
#   make test   installs what is missing, builds, and runs the whole test suite
# and, for CI and before a change to a parser lands:
#   make gpu-compile  every pipeline compiled by AMD's shader compiler (ACO, through Mesa's
#                   RADV without a GPU, fetched into the build tree): fails on a spill,
#                   scratch, shared memory overflow or RDNA3 occupancy below 2 waves per SIMD
#   make sanitize   a clang build with AddressSanitizer, UndefinedBehaviorSanitizer and
#                   the libFuzzer targets: the whole test suite, then FUZZ_SECONDS of
#                   fuzzing per target (sanitizer settings: tests/sanitizers/)
BUILD_DIR ?= build
BUILD_TYPE ?= Release
JOBS ?= $(shell nproc)

DEBIAN_PACKAGES = cmake make g++ pkg-config libvulkan-dev mesa-vulkan-drivers glslang-tools spirv-tools \
                  catch2 vulkan-validationlayers nlohmann-json3-dev graphviz \
                  glslang-dev

.PHONY: all deps configure build demo test gpu-compile sanitize fuzz clean

all: build

# Installs only the packages of $(1) that are missing (apt-get needs root; sudo is used
# when present).
define install_missing
	@missing=$$(for p in $(1); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "vkattn: installing $$missing"; \
	  if [ "$$(id -u)" = 0 ]; then sudo=; else sudo=sudo; fi; \
	  $$sudo apt-get update && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y --no-install-recommends $$missing; \
	fi
endef

deps:
	$(call install_missing,$(DEBIAN_PACKAGES))

configure: deps
	cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE)

build: configure
	cmake --build $(BUILD_DIR) -j $(JOBS)

demo: build
	./$(BUILD_DIR)/examples/encoder_layer_example

test: build
	ctest --test-dir $(BUILD_DIR) --output-on-failure -j $(JOBS)

# tools/gpu_compile/run.sh: Mesa 25 from bookworm-backports into $(BUILD_DIR)/gpu-compile
# (no system package changes), then vkattn pipeline-stats --coverage --check per family.
# make gpu-compile GPU_COMPILE_DOC=docs/gpu-compile.md rewrites the committed table.
gpu-compile: build
	tools/gpu_compile/run.sh $(BUILD_DIR) $(if $(GPU_COMPILE_DOC),--write $(GPU_COMPILE_DOC))

SANITIZE_DIR ?= build-sanitize
SANITIZE_PACKAGES = clang libclang-rt-14-dev
FUZZ_SECONDS ?= 60
# The Vulkan driver and the validation layer are preloaded so that they stay mapped
# after vkDestroyInstance unloads them: LeakSanitizer then names their frames, and the
# suppressions (tests/sanitizers/lsan.supp) can match the layer's own leaks.
VULKAN_PRELOAD = $(wildcard /usr/lib/*/libvulkan_lvp.so /usr/lib/*/libVkLayer_khronos_validation.so)
FUZZ_ENV = ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1 \
           LSAN_OPTIONS=suppressions=$(CURDIR)/tests/sanitizers/lsan.supp:print_suppressions=0 \
           UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
SANITIZER_ENV = $(FUZZ_ENV) LD_PRELOAD="$(VULKAN_PRELOAD)"
# Left out of the sanitizer pass (make test runs them all): the largest sweeps, which
# repeat host code that smaller tests of the same binaries run, each 85 to 190 s under
# the sanitizers, most of it the instrumented CPU reference: the attention sweeps over
# every mask kind, every score-program variant (prefill, over a KV cache, split over
# keys), decode-shaped attention and ALiBi/softcap/sinks; the GEMM epilogue and
# generated epilogue and prologue chain sweeps, whose mechanism the standalone chains,
# gated products and RMSNorm tests run; the sweeps of ragged batches, rolling pages and
# the ragged decoder over every target, and llama_model over every target, whose host
# code their single-target tests and the ragged table and count tests run; and the
# installed-package consumer build (about 140 s), which compiles no code of ours that
# the suite does not.
SANITIZE_SKIP ?= attention with every mask kind at awkward sizes|a ragged batch.s tokens follow their own sequences|a rolling paged cache equals full attention|a ragged decoder: each sequence its own count|llama_model: ids to logits, fused and unfused, every target|catalog variants (against the reference, fused and unfused|over a KV cache|in the split-over-keys decode form)|decode-shaped attention|ALiBi, softcap and sinks with|GEMM epilogues: bias, activation|every elementwise chain (fuses into its GEMM|on a GEMM)|install: a consumer project builds

sanitize: deps
	$(call install_missing,$(SANITIZE_PACKAGES))
	cmake -S . -B $(SANITIZE_DIR) -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=Release \
	      -DVKATTN_SANITIZE=address,undefined -DVKATTN_FUZZ=ON
	cmake --build $(SANITIZE_DIR) -j $(JOBS)
	$(SANITIZER_ENV) ctest --test-dir $(SANITIZE_DIR) --output-on-failure -j $(JOBS) -E "$(SANITIZE_SKIP)"
	$(FUZZ_ENV) fuzz/run_fuzzers.sh $(SANITIZE_DIR) $(FUZZ_SECONDS)

# Fuzzing alone, longer: make fuzz FUZZ_SECONDS=600 (after make sanitize has built it).
fuzz:
	$(FUZZ_ENV) fuzz/run_fuzzers.sh $(SANITIZE_DIR) $(FUZZ_SECONDS)

clean:
	rm -rf $(BUILD_DIR) $(SANITIZE_DIR)
