// vkattn pipeline-stats: what the device's shader compiler made of every pipeline of a
// set of schedules (registers, spills, scratch, shared memory, code size, occupancy),
// and a check that none spills or overflows.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>
#include <vkattn/pipeline_statistics.hpp>
#include <vkattn/schedule_text.hpp>

#include "cli_options.hpp"
#include "commands.hpp"
#include "device_context.hpp"
#include "pipeline_coverage.hpp"
#include "text_output.hpp"

namespace vkattn::cli {

const char* pipeline_stats_help =
    "usage: vkattn pipeline-stats [SCHEDULE.json ...] [--coverage] [--targets LIST] [--device SEL]\n"
    "                             [--markdown FILE] [--json FILE] [--check] [--min-waves X]\n"
    "Compiles every distinct pipeline (shader, f32/f16 build, specialization constants) of\n"
    "the schedules on a device and prints what its shader compiler reports of each, through\n"
    "VK_KHR_pipeline_executable_properties: registers, spills, scratch, shared memory (LDS),\n"
    "code size, and on AMD the waves per SIMD a compute unit holds. Nothing is allocated or\n"
    "run, so RADV without a GPU (RADV_FORCE_FAMILY, see tools/gpu_compile/run.sh) serves.\n"
    "  SCHEDULE.json     schedules written by `vkattn compile ... --emit json`\n"
    "  --coverage        also compile the built-in set: every preset at head dims 64, 96, 128\n"
    "                    and 256, prefill (seq 1024), short (seq 16) and decode (1 token over\n"
    "                    a 4096-position cache), f32 and f16, fused and unfused\n"
    "  --targets LIST    the targets of --coverage, comma-separated (amd,nvidia,intel,generic)\n"
    "  --device SEL      the device (index or part of its name)\n"
    "  --markdown FILE   write the table as Markdown\n"
    "  --json FILE       write every pipeline and every statistic as JSON\n"
    "                    (format \"vkattn.pipeline_stats\", version 1)\n"
    "  --check           exit 1 when a pipeline does not compile, spills registers, uses\n"
    "                    scratch, or uses shared memory beyond the device's limit or other\n"
    "                    than the compiler's registry declares\n"
    "  --min-waves X     with --check on an AMD device: also exit 1 when a GEMM or attention\n"
    "                    pipeline of an `amd` schedule keeps fewer than X waves per SIMD\n";

namespace {

// The driver's statistics this command reads, by the names RADV/ACO gives them. Other
// drivers name theirs differently; every statistic is in --json whatever its name.
constexpr const char* vgprs_name = "VGPRs";
constexpr const char* presched_vgprs_name = "Pre-Sched VGPRs";
constexpr const char* sgprs_name = "Pre-Sched SGPRs";
constexpr const char* spilled_vgprs_name = "Spilled VGPRs";
constexpr const char* spilled_sgprs_name = "Spilled SGPRs";
constexpr const char* scratch_name = "Scratch size";
constexpr const char* lds_name = "LDS size";
constexpr const char* code_name = "Code size";

struct Row {
  const PipelineStatistics* p;
  std::optional<Occupancy> occupancy;
};

std::string integer_text(std::optional<double> v) {
  return v ? std::to_string(std::int64_t(*v)) : std::string("-");
}

std::string number_text(double v) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", v);
  return text;
}

std::string pipeline_name(const PipelineStatistics& p) {
  return std::string(shader_info(p.shader).name) + (p.element == DType::f16 ? " f16" : " f32");
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& s : items) out += (out.empty() ? "" : ",") + s;
  return out;
}

std::string waves_text(const std::optional<Occupancy>& o) {
  if (!o) return "-";
  char text[64];
  std::snprintf(text, sizeof text, "%u wg, %.2g (%s)", o->workgroups, o->waves_per_simd, std::string(o->limit).c_str());
  return text;
}

std::string markdown_table(const std::vector<Row>& rows) {
  std::ostringstream out;
  out << "| pipeline | config | targets | wg | wave | VGPRs (demand) | SGPRs | spills | scratch | LDS | code | "
         "per WGP/CU: workgroups, waves/SIMD (limit) | uses |\n"
         "|---|---|---|---|---|---|---|---|---|---|---|---|---|\n";
  for (const Row& r : rows) {
    const PipelineStatistics& p = *r.p;
    if (!p.error.empty()) {
      out << "| " << pipeline_name(p) << " | " << p.config << " | " << join(p.targets) << " | " << p.invocations
          << " | | **does not compile: " << p.error << "** | | | | | | | " << p.uses << " |\n";
      continue;
    }
    const double spills = p.value(spilled_vgprs_name).value_or(0) + p.value(spilled_sgprs_name).value_or(0);
    out << "| " << pipeline_name(p) << " | " << p.config << " | " << join(p.targets) << " | " << p.invocations << " | "
        << p.subgroup_size << " | " << integer_text(p.value(vgprs_name)) << " (" << integer_text(p.value(presched_vgprs_name))
        << ") | " << integer_text(p.value(sgprs_name)) << " | " << std::int64_t(spills) << " | "
        << integer_text(p.value(scratch_name)) << " | " << integer_text(p.value(lds_name)) << " | "
        << integer_text(p.value(code_name)) << " | " << waves_text(r.occupancy) << " | " << p.uses << " |\n";
  }
  return out.str();
}

// Per kernel: the pipelines, the most registers any demands, the fewest waves per SIMD
// any keeps (of those the amd target uses), spills and scratch in all.
std::string markdown_summary(const std::vector<Row>& rows) {
  std::ostringstream out;
  out << "| kernel | pipelines | most VGPRs demanded | most LDS bytes | fewest waves/SIMD (amd target) | spills | "
         "scratch | not compiled |\n|---|---|---|---|---|---|---|---|\n";
  for (std::size_t k = 0; k < kernel_count; ++k) {
    int count = 0, failed = 0;
    double vgprs = 0, lds = 0, spills = 0, scratch = 0, waves = -1;
    std::string fewest;
    for (const Row& r : rows) {
      const PipelineStatistics& p = *r.p;
      if (std::size_t(shader_info(p.shader).kernel) != k) continue;
      ++count;
      if (!p.error.empty()) {
        ++failed;
        continue;
      }
      vgprs = std::max(vgprs, p.value(presched_vgprs_name).value_or(0));
      lds = std::max(lds, p.value(lds_name).value_or(0));
      spills += p.value(spilled_vgprs_name).value_or(0) + p.value(spilled_sgprs_name).value_or(0);
      scratch += p.value(scratch_name).value_or(0);
      const bool amd = std::find(p.targets.begin(), p.targets.end(), "amd") != p.targets.end();
      if (amd && r.occupancy && (waves < 0 || r.occupancy->waves_per_simd < waves)) {
        waves = r.occupancy->waves_per_simd;
        fewest = number_text(waves) + " (" + p.config + ", " + std::string(r.occupancy->limit) + ")";
      }
    }
    if (count == 0) continue;
    out << "| " << kernel_name(Kernel(k)) << " | " << count << " | " << std::int64_t(vgprs) << " | " << std::int64_t(lds)
        << " | " << (fewest.empty() ? "-" : fewest) << " | " << std::int64_t(spills) << " | " << std::int64_t(scratch)
        << " | " << failed << " |\n";
  }
  return out.str();
}

// What --check refuses, one line each.
std::vector<std::string> problems(const std::vector<Row>& rows, const Context& context, double min_waves) {
  std::vector<std::string> out;
  const std::uint32_t limit = context.device().max_shared_memory_bytes;
  for (const Row& r : rows) {
    const PipelineStatistics& p = *r.p;
    const std::string who = pipeline_name(p) + " " + p.config + " (first used by " + p.first_use + ")";
    if (!p.error.empty()) {
      out.push_back(who + ": does not compile: " + p.error);
      continue;
    }
    const double spills = p.value(spilled_vgprs_name).value_or(0) + p.value(spilled_sgprs_name).value_or(0);
    if (spills > 0) out.push_back(who + ": spills " + std::to_string(std::int64_t(spills)) + " registers");
    if (p.value(scratch_name).value_or(0) > 0)
      out.push_back(who + ": uses " + integer_text(p.value(scratch_name)) + " bytes of scratch memory");
    if (auto lds = p.value(lds_name)) {
      if (*lds > limit)
        out.push_back(who + ": " + std::to_string(std::int64_t(*lds)) + " bytes of shared memory, beyond the device's " +
                      std::to_string(limit));
      if (std::int64_t(*lds) != std::int64_t(p.declared_shared_bytes))
        out.push_back(who + ": the driver allocates " + std::to_string(std::int64_t(*lds)) +
                      " bytes of shared memory where the registry (kernels/registry.hpp) declares " +
                      std::to_string(p.declared_shared_bytes));
    }
    const Kernel kernel = shader_info(p.shader).kernel;
    const bool amd = std::find(p.targets.begin(), p.targets.end(), "amd") != p.targets.end();
    if (min_waves > 0 && r.occupancy && amd && (kernel == Kernel::gemm || kernel == Kernel::flash_attention) &&
        r.occupancy->waves_per_simd < min_waves)
      out.push_back(who + ": " + waves_text(r.occupancy) + " waves per SIMD, fewer than --min-waves " +
                    number_text(min_waves));
  }
  return out;
}

nlohmann::json to_json(const std::vector<Row>& rows, const Context& context) {
  nlohmann::json list = nlohmann::json::array();
  for (const Row& r : rows) {
    const PipelineStatistics& p = *r.p;
    nlohmann::json stats = nlohmann::json::object();
    for (const DriverStatistic& s : p.statistics) stats[s.name] = s.value;
    nlohmann::json item{{"shader", std::string(shader_info(p.shader).name)},
                        {"element", p.element == DType::f16 ? "f16" : "f32"},
                        {"specialization", p.specialization},
                        {"config", p.config},
                        {"reason", p.reason},
                        {"first_use", p.first_use},
                        {"uses", p.uses},
                        {"targets", p.targets},
                        {"invocations", p.invocations},
                        {"declared_shared_bytes", p.declared_shared_bytes},
                        {"subgroup_size", p.subgroup_size},
                        {"statistics", stats}};
    if (!p.error.empty()) item["error"] = p.error;
    if (r.occupancy)
      item["occupancy"] = {{"workgroups", r.occupancy->workgroups},
                           {"waves_per_workgroup", r.occupancy->waves_per_workgroup},
                           {"waves_per_simd", r.occupancy->waves_per_simd},
                           {"limit", std::string(r.occupancy->limit)}};
    list.push_back(item);
  }
  return {{"format", "vkattn.pipeline_stats"},
          {"version", 1},
          {"device", context.device().name},
          {"driver_version", context.device().driver_version},
          {"pipelines", list}};
}

std::vector<std::string> split_commas(const std::string& text) {
  std::vector<std::string> out;
  std::string item;
  std::istringstream in(text);
  while (std::getline(in, item, ','))
    if (!item.empty()) out.push_back(item);
  return out;
}

}  // namespace

int run_pipeline_stats(const std::vector<std::string>& raw) {
  Arguments args(raw, {"--device", "--markdown", "--json", "--min-waves", "--targets"}, {"--coverage", "--check"});
  const double min_waves = args.number("--min-waves", 0, 0, 64);
  if (args.has("--min-waves") && !args.has("--check")) throw UsageError("--min-waves is a check: give --check too");
  std::vector<Schedule> schedules;
  std::vector<std::string> names;
  for (const std::string& file : args.positional()) {
    std::ifstream in(file, std::ios::binary);
    std::ostringstream text;
    if (!in || !(text << in.rdbuf())) throw UsageError("cannot read the schedule file '" + file + "'");
    try {
      schedules.push_back(schedule_from_json(text.str()));
    } catch (const std::exception& e) {
      throw UsageError(file + ": " + e.what());
    }
    names.push_back(std::filesystem::path(file).filename().string());
  }
  if (args.has("--coverage")) {
    for (CoveredSchedule& c : coverage_schedules(split_commas(args.text("--targets", join(coverage_targets))))) {
      schedules.push_back(std::move(c.schedule));
      names.push_back(std::move(c.name));
    }
  } else if (args.has("--targets")) {
    throw UsageError("--targets chooses the targets of --coverage; give --coverage too");
  }
  if (schedules.empty()) throw UsageError("give schedule JSON files (vkattn compile ... --emit json) or --coverage");

  ContextOptions options{.device = args.text("--device", ""), .pipeline_statistics = true};
  Context context(options);
  const std::vector<PipelineStatistics> stats = pipeline_statistics(context, schedules, names);
  const std::optional<ComputeUnitResources> unit = amd_compute_unit(context);
  std::vector<Row> rows;
  for (const PipelineStatistics& p : stats) {
    Row r{&p, std::nullopt};
    if (unit && p.error.empty())
      r.occupancy = occupancy(*unit, {p.invocations, p.subgroup_size,
                                      std::uint32_t(p.value(vgprs_name).value_or(0)),
                                      std::uint32_t(p.value(lds_name).value_or(p.declared_shared_bytes))});
    rows.push_back(r);
  }

  const DeviceInfo& d = context.device();
  std::ostringstream summary;
  summary << "device: " << d.name << " (driver " << d.driver_version << ", " << d.max_shared_memory_bytes / 1024
          << " KiB shared per workgroup)\n"
          << schedules.size() << " schedules, " << stats.size() << " distinct pipelines\n";
  if (unit)
    summary << "compute unit as workgroups are placed: " << unit->simds << " SIMDs, " << unit->shared_bytes / 1024
            << " KiB LDS, " << unit->wave_slots_per_simd << " waves per SIMD at most, " << unit->wave64_vgprs_per_simd
            << " wave64 VGPRs per SIMD"
            << (unit->wave64_vgpr_granule > 1 ? ", allocated in granules of " + std::to_string(unit->wave64_vgpr_granule)
                                               : std::string(" (the compiler's VGPR count taken as allocated)"))
            << "\n";
  std::cout << summary.str() << markdown_summary(rows) << "\n" << markdown_table(rows);
  if (args.has("--markdown"))
    write_text_file("--markdown", args.text("--markdown", ""),
                    "```\n" + summary.str() + "```\n\n" + markdown_summary(rows) + "\n" + markdown_table(rows));
  if (args.has("--json")) write_text_file("--json", args.text("--json", ""), to_json(rows, context).dump(1) + "\n");
  if (!args.has("--check")) return 0;
  const std::vector<std::string> found = problems(rows, context, min_waves);
  for (const std::string& line : found) std::cerr << "vkattn pipeline-stats: " << line << "\n";
  if (!found.empty()) {
    std::cerr << "vkattn pipeline-stats: " << found.size() << " problem(s) in " << stats.size() << " pipelines\n";
    return 1;
  }
  std::cout << "check: every pipeline compiled, none spills or uses scratch, shared memory within "
            << d.max_shared_memory_bytes << " bytes and as declared"
            << (min_waves > 0 ? ", GEMM and attention of the amd target at " + number_text(min_waves) +
                                    " waves per SIMD or more"
                              : std::string())
            << "\n";
  return 0;
}

}  // namespace vkattn::cli
