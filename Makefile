# Set-up in one command on a fresh Debian 12 machine:
#   make demo   installs what is missing, builds, and runs the main example
#   make test   installs what is missing, builds, and runs the whole test suite
BUILD_DIR ?= build
BUILD_TYPE ?= Release
JOBS ?= $(shell nproc)

DEBIAN_PACKAGES = cmake make g++ pkg-config libvulkan-dev mesa-vulkan-drivers glslang-tools spirv-tools \
                  catch2 vulkan-validationlayers nlohmann-json3-dev graphviz

.PHONY: all deps configure build demo test clean

all: build

# Installs only the packages that are missing (apt-get needs root; sudo is used when present).
deps:
	@missing=$$(for p in $(DEBIAN_PACKAGES); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "vkattn: installing $$missing"; \
	  if [ "$$(id -u)" = 0 ]; then sudo=; else sudo=sudo; fi; \
	  $$sudo apt-get update && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y --no-install-recommends $$missing; \
	fi

configure: deps
	cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE)

build: configure
	cmake --build $(BUILD_DIR) -j $(JOBS)

demo: build
	./$(BUILD_DIR)/examples/encoder_layer_example

test: build
	ctest --test-dir $(BUILD_DIR) --output-on-failure -j $(JOBS)

clean:
	rm -rf $(BUILD_DIR)
