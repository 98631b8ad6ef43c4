// vkattn devices: the Vulkan devices of this machine and what the compiler uses of them.
#include <cstdio>
#include <iostream>

#include <nlohmann/json.hpp>
#include <vkattn/runtime.hpp>
#include <vkattn/schedule_text.hpp>

#include "cli_options.hpp"
#include "commands.hpp"

namespace vkattn::cli {

const char* devices_help =
    "usage: vkattn devices [--json]\n"
    "Lists every Vulkan device: index (for --device), name, type, API and driver version,\n"
    "subgroup size, shared memory per workgroup, f16 arithmetic, timestamp queries on the\n"
    "compute queue, and device-local memory. The device marked * is the one chosen when\n"
    "--device and VKATTN_DEVICE are not given.\n"
    "  --json   print JSON (format \"vkattn.devices\", version 1)\n";

int run_devices(const std::vector<std::string>& raw) {
  Arguments args(raw, {}, {"--json"});
  if (!args.positional().empty()) throw UsageError("unexpected argument '" + args.positional()[0] + "'");
  const std::vector<DeviceInfo> devices = Context::devices();
  int preferred = -1;
  {
    Context context;  // the default choice: VKATTN_DEVICE, else the preferred type
    preferred = context.device().index;
  }
  if (args.has("--json")) {
    nlohmann::json list = nlohmann::json::array();
    for (const DeviceInfo& d : devices)
      list.push_back({{"index", d.index},
                      {"name", d.name},
                      {"type", std::string(device_type_name(d.type))},
                      {"default", d.index == preferred},
                      {"vendor_id", d.vendor_id},
                      {"device_id", d.device_id},
                      {"api_version", d.api_version},
                      {"driver_version", d.driver_version},
                      {"subgroup_size", d.subgroup_size},
                      {"max_shared_memory_bytes", d.max_shared_memory_bytes},
                      {"f16_arithmetic", d.f16_arithmetic},
                      {"timestamps", d.timestamps},
                      {"timestamp_period_ns", d.timestamp_period_ns},
                      {"device_local_bytes", d.device_local_bytes},
                      {"max_allocation_bytes", d.max_allocation_bytes},
                      {"target", nlohmann::json::parse(target_to_json(d.target))}});
    nlohmann::json doc{{"format", "vkattn.devices"}, {"version", 1}, {"devices", list}};
    std::cout << doc.dump(2) << "\n";
    return 0;
  }
  for (const DeviceInfo& d : devices) {
    std::printf("%c%d  %s (%s, Vulkan %s, driver %s)\n", d.index == preferred ? '*' : ' ', d.index, d.name.c_str(),
                std::string(device_type_name(d.type)).c_str(), d.api_version.c_str(), d.driver_version.c_str());
    std::printf("    subgroup %u, shared memory %u KiB, f16 arithmetic %s, timestamps %s, device memory %.1f GiB "
                "(one allocation at most %.1f GiB)\n",
                d.subgroup_size, d.max_shared_memory_bytes / 1024, d.f16_arithmetic ? "yes" : "no",
                d.timestamps ? "yes" : "no", double(d.device_local_bytes) / (1024.0 * 1024.0 * 1024.0),
                double(d.max_allocation_bytes) / (1024.0 * 1024.0 * 1024.0));
    std::printf("    target: %s\n", target_text(d.target).c_str());
  }
  return 0;
}

}  // namespace vkattn::cli
