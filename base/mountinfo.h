// /proc/PID/mountinfo, parsed: one parser for the launcher (what a bind's
// source holds beneath it) and the probe (what the cell sees). Header-only
// and standard C++ only, so that the static, uninstrumented probe and the
// sanitized launcher each compile it with their own flags. Host side or in
// the cell; it allocates, so never in the launcher's child (which has its
// own allocation-free reader in launcher/jail/mounts.cc).
#ifndef CELL_BASE_MOUNTINFO_H_
#define CELL_BASE_MOUNTINFO_H_

#include <algorithm>
#include <sstream>
#include <string>
#include <vector>

namespace cell {

struct MountEntry {
  std::string mount_point;
  std::string fs_type;
  std::string source;
  std::string root;        // The mount's root within its file system.
  bool read_only = false;  // From the per-mount options.
  bool nosuid = false;
  bool nodev = false;
  // "private", or the optional fields as the kernel lists them
  // ("shared:3", "master:1", "shared:3 master:1", "unbindable").
  std::string propagation = "private";
};

// mountinfo escapes space, tab, newline and backslash as \ooo.
inline std::string UnescapeMountField(const std::string& text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    const auto octal = [&text](size_t at) {
      return text[at] >= '0' && text[at] <= '7';
    };
    if (text[i] == '\\' && i + 3 < text.size() && octal(i + 1) &&
        octal(i + 2) && octal(i + 3)) {
      out.push_back(static_cast<char>((text[i + 1] - '0') * 64 +
                                      (text[i + 2] - '0') * 8 +
                                      (text[i + 3] - '0')));
      i += 3;
    } else {
      out.push_back(text[i]);
    }
  }
  return out;
}

// The mounts in mountinfo text, octal escapes decoded; lines that do not
// parse are skipped.
inline std::vector<MountEntry> ParseMountInfo(const std::string& text) {
  std::vector<MountEntry> mounts;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    std::istringstream words(line);
    std::vector<std::string> fields;
    for (std::string field; words >> field;) fields.push_back(field);
    // id parent major:minor root mount_point options [optional...] - type
    // source super_options
    const auto dash = std::find(fields.begin(), fields.end(), "-");
    if (fields.size() < 6 || dash == fields.end() || dash + 1 == fields.end()) {
      continue;
    }
    MountEntry entry;
    entry.root = UnescapeMountField(fields[3]);
    entry.mount_point = UnescapeMountField(fields[4]);
    std::istringstream options(fields[5]);
    for (std::string option; std::getline(options, option, ',');) {
      entry.read_only = entry.read_only || option == "ro";
      entry.nosuid = entry.nosuid || option == "nosuid";
      entry.nodev = entry.nodev || option == "nodev";
    }
    std::string propagation;
    for (auto optional = fields.begin() + 6; optional < dash; ++optional) {
      propagation += (propagation.empty() ? "" : " ") + *optional;
    }
    if (!propagation.empty()) entry.propagation = propagation;
    entry.fs_type = *(dash + 1);
    entry.source =
        dash + 2 < fields.end() ? UnescapeMountField(*(dash + 2)) : "";
    mounts.push_back(std::move(entry));
  }
  return mounts;
}

}  // namespace cell

#endif  // CELL_BASE_MOUNTINFO_H_
