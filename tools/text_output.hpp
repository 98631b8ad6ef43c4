#pragma once
// Text files the command writes (SVG, traces, pass dumps): written to a temporary
// file beside the target, checked, then renamed over it, so an error leaves no file
// or the previous one, never a truncated one. Throws std::runtime_error naming the
// flag and the file.
#include <string>

namespace vkattn::cli {

void write_text_file(const std::string& flag, const std::string& path, const std::string& text);

// Throws as write_text_file would, before any work: `path` is a directory, or no file
// can be created beside it.
void check_writable(const std::string& flag, const std::string& path);

}  // namespace vkattn::cli
